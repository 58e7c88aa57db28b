"""The library as members read it (threads.library_views), included at "resources/"."""

from django.urls import path

from . import library_views

urlpatterns = [
    path("", library_views.library, name="library"),
    path("<int:resource_id>/", library_views.resource, name="resource"),
]
