"""The site's URLs plus the development mailbox, which community/urls.py mounts only when DEBUG is on."""

from django.urls import include, path

from community.urls import urlpatterns as site_urlpatterns

urlpatterns = [path("dev/", include("mailer.dev_urls")), *site_urlpatterns]
