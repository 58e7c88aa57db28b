"""Reconnect catch-up: a client that comes back sends the last event id it applied and gets exactly what it
missed, in order, before anything live."""

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.db import transaction
from django.utils import timezone

from tests.threads.test_live import communicator_for, reply
from threads import live
from threads.models import LiveEvent

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("own_channel_prefix", "close_worker_thread_connections"),
]


@database_sync_to_async
def latest_event_id(thread):
    return live.latest_event_id(thread.id)


@database_sync_to_async
def record(thread, kind, post, payload=None):
    with transaction.atomic():
        return live.record_and_send(thread.id, kind, post.id, payload)


async def connect(thread, cookie, after):
    communicator = communicator_for(thread, cookie, after=after)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def test_thread_socket_catch_up_sends_exactly_the_missed_events_in_order(
        member_cookie, replier, thread, opening_post):
    seen = await latest_event_id(thread)
    # Offline: nobody is connected while these happen (for as long as you like: the catch-up is by id).
    first = await reply(replier, opening_post, "First while you were away.")
    second = await reply(replier, first, "A reply to that.")
    await record(thread, live.POST_REACTION, first, {"kind": "helpful", "count": 1})
    third = await reply(replier, opening_post, "Third.")

    communicator = await connect(thread, member_cookie, after=seen)

    frames = [await communicator.receive_json_from(timeout=5) for _ in range(4)]
    assert [(frame["type"], frame["post_id"]) for frame in frames] == [
        ("post.created", first.id), ("post.created", second.id), ("post.reaction", first.id),
        ("post.created", third.id)]
    assert [frame["event_id"] for frame in frames] == sorted(frame["event_id"] for frame in frames)
    assert frames[0]["event_id"] > seen
    assert "First while you were away." in frames[0]["html"]
    assert frames[1]["parent_id"] == first.id
    assert frames[2]["count"] == 1 and "html" not in frames[2]
    assert await communicator.receive_nothing(timeout=1)
    await communicator.disconnect()


async def test_thread_socket_catch_up_renders_posts_as_they_are_now(member_cookie, replier, thread, opening_post):
    seen = await latest_event_id(thread)
    post = await reply(replier, opening_post, "Draft wording.")

    @database_sync_to_async
    def edit():
        with transaction.atomic():
            type(post).objects.filter(pk=post.pk).update(body="Final wording.", html="<p>Final wording.</p>")
            live.record_and_send(thread.id, live.POST_EDITED, post.id)

    await edit()
    communicator = await connect(thread, member_cookie, after=seen)

    created, edited = [await communicator.receive_json_from(timeout=5) for _ in range(2)]
    assert (created["type"], edited["type"]) == ("post.created", "post.edited")
    assert "Final wording." in created["html"] and "Final wording." in edited["html"]
    await communicator.disconnect()


async def test_thread_socket_catch_up_then_live_events_without_duplicates(
        member_cookie, replier, thread, opening_post, django_capture_on_commit_callbacks):
    seen = await latest_event_id(thread)

    @database_sync_to_async
    def reply_not_yet_broadcast():
        # Committed before the client reconnects, broadcast after: the client must get it once, not twice.
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            from threads.services import create_reply
            post = create_reply(author=replier, parent=opening_post, body="Slow broadcast.")
        return post, callbacks

    missed, callbacks = await reply_not_yet_broadcast()
    communicator = await connect(thread, member_cookie, after=seen)
    assert (await communicator.receive_json_from(timeout=5))["post_id"] == missed.id

    await database_sync_to_async(lambda: [callback() for callback in callbacks])()
    newer = await reply(replier, opening_post, "Live one.")

    frame = await communicator.receive_json_from(timeout=5)
    assert (frame["type"], frame["post_id"]) == ("post.created", newer.id)
    assert await communicator.receive_nothing(timeout=1)
    await communicator.disconnect()


async def test_thread_socket_catch_up_ignores_other_threads(member_cookie, replier, thread, thread_factory):
    seen = await latest_event_id(thread)
    elsewhere = await database_sync_to_async(lambda: thread_factory(title="Elsewhere").posts.get())()
    await reply(replier, elsewhere, "Not here.")

    communicator = await connect(thread, member_cookie, after=seen)

    assert await communicator.receive_nothing(timeout=1)
    await communicator.disconnect()


async def test_thread_socket_client_behind_pruned_events_reloads(member_cookie, replier, thread, opening_post):
    seen = await latest_event_id(thread)
    await reply(replier, opening_post, "Long ago.")
    await database_sync_to_async(live.prune_live_events)(timezone.now() + live.RETENTION + timedelta(minutes=1))

    communicator = await connect(thread, member_cookie, after=seen)

    assert await communicator.receive_json_from(timeout=5) == {"type": "reload"}
    await communicator.disconnect()


async def test_thread_socket_client_too_far_behind_reloads(
        member_cookie, replier, thread, opening_post, monkeypatch):
    monkeypatch.setattr(live, "CATCH_UP_LIMIT", 2)
    seen = await latest_event_id(thread)
    for n in range(3):
        await reply(replier, opening_post, f"Reply {n}.")

    communicator = await connect(thread, member_cookie, after=seen)

    assert await communicator.receive_json_from(timeout=5) == {"type": "reload"}
    await communicator.disconnect()


def test_prune_live_events_deletes_only_events_older_than_retention(member, thread, reply_factory):
    old = LiveEvent.objects.get(thread=thread)
    LiveEvent.objects.filter(pk=old.pk).update(created_at=timezone.now() - live.RETENTION - timedelta(hours=1))
    recent = reply_factory(author=member, parent=thread.posts.get())

    assert live.prune_live_events() == 1

    assert list(LiveEvent.objects.values_list("post_id", flat=True)) == [recent.id]
