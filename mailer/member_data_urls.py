"""Under /profile/data/ (community.urls), beside the member's profile."""

from django.urls import path

from . import member_data_views

urlpatterns = [
    path("", member_data_views.my_data, name="my_data"),
    path("download/", member_data_views.download, name="my_data_download"),
]
