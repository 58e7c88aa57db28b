"""Onboarding pages, included at the site root by community.urls (mailer.onboarding)."""

from django.urls import path

from . import onboarding_views as views

urlpatterns = [
    path("start/", views.start_here, name="start_here"),
    path("start/pledge/", views.agree, name="agree_to_pledge"),
    path("start/done/", views.done, name="finish_start_here"),
    path("guidelines/", views.guidelines, name="guidelines"),
    path("moderation/start-here/", views.edit_start_here, name="edit_start_here"),
]
