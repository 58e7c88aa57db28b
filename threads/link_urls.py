"""Moderators' page of broken resource links, included at "moderation/resources/links/" (before the resource
review's patterns under "moderation/resources/")."""

from django.urls import path

from . import link_check_views

urlpatterns = [
    path("", link_check_views.broken_links, name="broken_links"),
    path("<int:resource_id>/check/", link_check_views.check_link_now, name="check_resource_link"),
    path("<int:resource_id>/working/", link_check_views.mark_working, name="mark_resource_link_working"),
]
