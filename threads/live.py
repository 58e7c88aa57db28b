"""Live updates. Every change to a thread is recorded as a numbered LiveEvent in the transaction that makes it,
then pushed after commit to everyone viewing the thread; a client that reconnects asks for the events after the
last id it saw (threads.consumers.ThreadConsumer), so it misses nothing and applies nothing twice."""

from datetime import timedelta
from functools import partial

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from .models import LiveEvent

POST_CREATED = "post.created"
POST_EDITED = "post.edited"
POST_DELETED = "post.deleted"
POST_RESTORED = "post.restored"
POST_HIDDEN = "post.hidden"
POST_REACTION = "post.reaction"
QUESTION_HIGHLIGHTED = "question.highlighted"
QUESTION_ANSWERED = "question.answered"

# Frames of these kinds carry the post as it is now, rendered once for everyone; the others carry ids and counts
# only, so frames stay small.
KINDS_WITH_HTML = {POST_CREATED, POST_EDITED, POST_RESTORED}

RETENTION = timedelta(days=30)


def thread_group(thread_id: int) -> str:
    return f"thread-{thread_id}"


def category_group(category_id: int) -> str:
    return f"category-{category_id}"


def _send(group: str, event: dict) -> None:
    async_to_sync(get_channel_layer().group_send)(group, event)


def record_and_send(thread_id: int, kind: str, post_id: int | None = None, payload: dict | None = None) -> LiveEvent:
    """Call inside the transaction that makes the change: the event is numbered with it and sent only if it
    commits."""
    event = LiveEvent.objects.create(thread_id=thread_id, kind=kind, post_id=post_id, payload=payload or {})
    transaction.on_commit(partial(send_live_event, event.id))
    return event


def record_post_created(post) -> LiveEvent:
    return record_and_send(post.thread_id, POST_CREATED, post.id, {"parent_id": post.parent_id})


def render_live_post(post) -> str:
    return render_to_string("threads/_post.html", {"post": post, "live": True})


def event_frame(event: LiveEvent, post=None) -> dict:
    """What a browser receives for one event; post is the event's post, loaded for display when the kind
    carries HTML."""
    frame = {"type": event.kind, "event_id": event.id, "post_id": event.post_id, **event.payload}
    if post is not None and event.kind in KINDS_WITH_HTML:
        frame["html"] = render_live_post(post)
    return frame


def frames_for(events: list[LiveEvent]) -> list[dict]:
    """Frames for a batch of events, their posts loaded in one query."""
    from .selectors import posts_for_display

    posts = posts_for_display({event.post_id for event in events if event.kind in KINDS_WITH_HTML})
    return [event_frame(event, posts.get(event.post_id)) for event in events]


def send_live_event(event_id: int) -> None:
    event = LiveEvent.objects.filter(pk=event_id).first()
    if event is None:
        return
    _send(thread_group(event.thread_id), {"type": "live.event", "frame": frames_for([event])[0]})


def latest_event_id(thread_id: int) -> int:
    return LiveEvent.objects.filter(thread_id=thread_id).order_by("-id").values_list("id", flat=True).first() or 0


# A client further behind than this reloads the page: cheaper than replaying a long afternoon frame by frame.
CATCH_UP_LIMIT = 500


def catch_up_frames(thread_id: int, after: int) -> list[dict] | None:
    """The thread's events after the client's last one, in order; None when the client is further behind than
    the events kept (its last event was pruned) or than CATCH_UP_LIMIT: it reloads the page instead."""
    if after and not LiveEvent.objects.filter(pk=after).exists():
        return None
    events = list(LiveEvent.objects.filter(thread_id=thread_id, pk__gt=after).order_by("id")[:CATCH_UP_LIMIT + 1])
    if len(events) > CATCH_UP_LIMIT:
        return None
    return frames_for(events)


def prune_live_events(now=None) -> int:
    """A client further behind than this reloads the page instead of catching up."""
    deleted, _ = LiveEvent.objects.filter(created_at__lt=(now or timezone.now()) - RETENTION).delete()
    return deleted


def broadcast_thread_activity(thread_id: int) -> None:
    """A new thread, or a new post in one: thread lists open on home and category pages move it to the top."""
    from .selectors import thread_for_list

    thread = thread_for_list(thread_id)
    html = render_to_string("threads/_thread_item.html", {"thread": thread, "live": True})
    _send(category_group(thread.category_id),
          {"type": "thread.activity", "thread_id": thread.id, "category_id": thread.category_id, "html": html})
