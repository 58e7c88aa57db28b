from django.urls import path

from . import views

urlpatterns = [
    path("settings/", views.mail_settings, name="mail_settings"),
    path("settings/threads/<int:thread_id>/", views.forget_thread_choice, name="mail_settings_thread"),
    path("settings/withdraw-links/", views.withdraw_links, name="mail_withdraw_links"),
    path("resume/", views.resume, name="mail_resume"),
    path("help/", views.mail_help, name="mail_help"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
