"""Under /moderation/erasure/ (community.urls), with the other moderator pages."""

from django.urls import path

from . import erasure_views

urlpatterns = [
    path("", erasure_views.queue, name="erasure_queue"),
    path("<int:request_id>/erase/", erasure_views.confirm, name="confirm_erasure"),
    path("<int:request_id>/decline/", erasure_views.decline, name="decline_erasure"),
]
