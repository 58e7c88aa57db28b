from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("c/<slug:slug>/", views.category, name="category"),
    path("threads/new/", views.new_thread, name="new_thread"),
    path("threads/<int:thread_id>/", views.thread, name="thread"),
    path("posts/<int:post_id>/reply/", views.reply, name="reply"),
]
