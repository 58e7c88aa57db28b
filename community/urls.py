from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from . import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("allauth.urls")),
    path("application/", views.application_status, name="application_status"),
    path("guidelines/", views.guidelines, name="guidelines"),
    path("moderation/applications/", views.moderation_queue, name="moderation_queue"),
    path("moderation/applications/<int:application_id>/approve/", views.approve, name="approve_application"),
    path("moderation/applications/<int:application_id>/reject/", views.reject, name="reject_application"),
    path("admin/", admin.site.urls),
    path("mail/", include("mailer.urls")),
    path("anymail/", include("anymail.urls")),
    path("", include("threads.urls")),
]

if settings.DEBUG:
    urlpatterns.insert(0, path("dev/", include("mailer.dev_urls")))
