"""Live updates: after commit, render a post once and push it to everyone viewing its thread."""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.template.loader import render_to_string


def thread_group(thread_id: int) -> str:
    return f"thread-{thread_id}"


def broadcast_post_created(post_id: int) -> None:
    from .selectors import post_for_display

    post = post_for_display(post_id)
    html = render_to_string("threads/_post.html", {"post": post, "live": True})
    async_to_sync(get_channel_layer().group_send)(
        thread_group(post.thread_id),
        {"type": "post.created", "post_id": post.id, "parent_id": post.parent_id, "html": html},
    )
