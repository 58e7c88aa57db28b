from django.urls import path

from .consumers import ForumConsumer, ThreadConsumer

websocket_urlpatterns = [
    path("ws/threads/<int:thread_id>/", ThreadConsumer.as_asgi()),
    path("ws/forum/", ForumConsumer.as_asgi()),
]
