"""Under /moderation/mail/ (community.urls), with the other moderator pages."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.moderation_mail, name="moderation_mail"),
    path("retry/", views.retry_failed, name="retry_failed_messages"),
    path("retry/<int:outbound_id>/", views.retry_failed, name="retry_failed_message"),
]
