"""Moderators' review of resource submissions, included at "moderation/resources/"."""

from django.urls import path

from . import resource_views

urlpatterns = [
    path("", resource_views.queue, name="resource_queue"),
    path("<int:resource_id>/", resource_views.review, name="review_resource"),
]
