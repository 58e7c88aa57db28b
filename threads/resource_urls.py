"""Members' side of the resource library's submissions, included at "resources/" (before the library's own
patterns, threads.library_urls)."""

from django.urls import path

from . import resource_views

urlpatterns = [
    path("submit/", resource_views.submit, name="submit_resource"),
    path("mine/", resource_views.mine, name="my_resources"),
    path("<int:resource_id>/edit/", resource_views.edit, name="edit_resource"),
]
