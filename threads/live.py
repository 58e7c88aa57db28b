"""Live updates: after commit, render a post once and push it to everyone viewing its thread."""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.template.loader import render_to_string


def thread_group(thread_id: int) -> str:
    return f"thread-{thread_id}"


def category_group(category_id: int) -> str:
    return f"category-{category_id}"


def _send(group: str, event: dict) -> None:
    async_to_sync(get_channel_layer().group_send)(group, event)


def broadcast_post_created(post_id: int) -> None:
    from .selectors import post_for_display

    post = post_for_display(post_id)
    html = render_to_string("threads/_post.html", {"post": post, "live": True})
    _send(thread_group(post.thread_id),
          {"type": "post.created", "post_id": post.id, "parent_id": post.parent_id, "html": html})


def broadcast_thread_activity(thread_id: int) -> None:
    """A new thread, or a new post in one: thread lists open on home and category pages move it to the top."""
    from .selectors import thread_for_list

    thread = thread_for_list(thread_id)
    html = render_to_string("threads/_thread_item.html", {"thread": thread, "live": True})
    _send(category_group(thread.category_id),
          {"type": "thread.activity", "thread_id": thread.id, "category_id": thread.category_id, "html": html})
