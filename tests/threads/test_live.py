"""Live updates through the real ASGI application and the Redis channel layer of settings.py."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import transaction
from django.test import Client

from community.asgi import application
from mailer import inbound
from tests.mailer.inbound_mail import reply_eml
from threads import live
from threads.models import LiveEvent
from threads.services import create_reply, create_thread

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("own_channel_prefix", "close_worker_thread_connections"),
]


class Rollback(Exception):
    pass


def session_cookie(member):
    client = Client()
    client.force_login(member.user)
    return f"sessionid={client.cookies['sessionid'].value}"


def communicator_for(thread, cookie=None, after=None):
    headers = [(b"origin", b"http://testserver")]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    query = "" if after is None else f"?after={after}"
    return WebsocketCommunicator(application, f"/ws/threads/{thread.id}/{query}", headers=headers)


@database_sync_to_async
def reply(author, parent, body):
    return create_reply(author=author, parent=parent, body=body)


@database_sync_to_async
def reply_then_roll_back(author, parent, body):
    with pytest.raises(Rollback), transaction.atomic():
        create_reply(author=author, parent=parent, body=body)
        raise Rollback


async def test_thread_socket_member_receives_new_reply(member_cookie, replier, thread, opening_post):
    communicator = communicator_for(thread, member_cookie)
    connected, _ = await communicator.connect()
    assert connected

    post = await reply(replier, opening_post, "We use a **grounding** check-in.")

    message = await communicator.receive_json_from(timeout=5)
    assert message["type"] == "post.created"
    assert message["post_id"] == post.id
    assert message["parent_id"] == opening_post.id
    assert f'id="post-{post.id}"' in message["html"]
    assert "Rae Replier" in message["html"]
    assert "<strong>grounding</strong>" in message["html"]
    await communicator.disconnect()


async def test_thread_socket_refuses_pending_member(pending_member, thread):
    communicator = communicator_for(thread, await database_sync_to_async(session_cookie)(pending_member))

    connected, code = await communicator.connect()

    assert not connected
    assert code == 4403


async def test_thread_socket_refuses_anonymous(thread):
    communicator = communicator_for(thread)

    connected, code = await communicator.connect()

    assert not connected
    assert code == 4403


async def test_thread_socket_refuses_unknown_thread(member_cookie, thread):
    communicator = WebsocketCommunicator(
        application, f"/ws/threads/{thread.id + 1000}/",
        headers=[(b"origin", b"http://testserver"), (b"cookie", member_cookie.encode())],
    )

    connected, _ = await communicator.connect()

    assert not connected


async def test_thread_socket_rolled_back_reply_broadcasts_nothing(member_cookie, replier, thread, opening_post):
    communicator = communicator_for(thread, member_cookie)
    connected, _ = await communicator.connect()
    assert connected

    await reply_then_roll_back(replier, opening_post, "Never mind.")

    assert await communicator.receive_nothing(timeout=1)
    # The socket still works: the next committed reply is the first thing that arrives.
    post = await reply(replier, opening_post, "Posted for real.")
    assert (await communicator.receive_json_from(timeout=5))["post_id"] == post.id
    await communicator.disconnect()


async def test_thread_socket_hears_only_its_own_thread(member_cookie, replier, thread, thread_factory):
    elsewhere = await database_sync_to_async(lambda: thread_factory(title="Elsewhere").posts.get())()
    communicator = communicator_for(thread, member_cookie)
    connected, _ = await communicator.connect()
    assert connected

    await reply(replier, elsewhere, "Elsewhere.")

    assert await communicator.receive_nothing(timeout=1)
    await communicator.disconnect()


async def test_thread_socket_shows_reply_that_arrived_by_email(member_cookie, replier, thread, opening_post):
    communicator = communicator_for(thread, member_cookie)
    connected, _ = await communicator.connect()
    assert connected

    await database_sync_to_async(inbound.receive_raw)(reply_eml("gmail_reply.eml", opening_post, replier))

    message = await communicator.receive_json_from(timeout=5)
    assert message["type"] == "post.created"
    assert message["parent_id"] == opening_post.id
    assert "grounding exercise" in message["html"]
    assert "by email" in message["html"]
    await communicator.disconnect()


def forum_communicator(cookie=None):
    headers = [(b"origin", b"http://testserver")]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    return WebsocketCommunicator(application, "/ws/forum/", headers=headers)


async def test_forum_socket_announces_new_threads_and_replies(member_cookie, replier, category, thread, opening_post):
    communicator = forum_communicator(member_cookie)
    connected, _ = await communicator.connect()
    assert connected

    started = await database_sync_to_async(create_thread)(
        author=replier, category=category, title="Interpreters in groups", body="Any tips?"
    )
    message = await communicator.receive_json_from(timeout=5)
    assert (message["type"], message["thread_id"], message["category_id"]) == (
        "thread.activity", started.id, category.id)
    assert "Interpreters in groups" in message["html"]

    await reply(replier, opening_post, "Bumping this one.")
    message = await communicator.receive_json_from(timeout=5)
    assert message["thread_id"] == thread.id
    assert "2 posts" in message["html"]
    await communicator.disconnect()


@pytest.mark.parametrize("who", ["anonymous", "pending"])
async def test_forum_socket_refuses_non_members(who, pending_member):
    cookie = None if who == "anonymous" else await database_sync_to_async(session_cookie)(pending_member)

    connected, code = await forum_communicator(cookie).connect()

    assert not connected
    assert code == 4403


@database_sync_to_async
def record(thread, kind, post, payload=None):
    with transaction.atomic():
        return live.record_and_send(thread.id, kind, post.id, payload)


@pytest.mark.parametrize(("kind", "payload", "has_html"), [
    (live.POST_EDITED, {}, True),
    (live.POST_RESTORED, {}, True),
    (live.POST_DELETED, {}, False),
    (live.POST_REACTION, {"kind": "helpful", "count": 3}, False),
    (live.QUESTION_HIGHLIGHTED, {"author": "Rae Replier", "excerpt": "How do you…"}, False),
    (live.QUESTION_ANSWERED, {}, False),
])
async def test_record_and_send_reaches_thread_socket_after_commit(
        kind, payload, has_html, member_cookie, thread, opening_post):
    communicator = communicator_for(thread, member_cookie)
    connected, _ = await communicator.connect()
    assert connected

    event = await record(thread, kind, opening_post, payload)

    frame = await communicator.receive_json_from(timeout=5)
    assert {key: frame[key] for key in ("type", "event_id", "post_id")} == {
        "type": kind, "event_id": event.id, "post_id": opening_post.id}
    assert {key: frame[key] for key in payload} == payload
    assert ("html" in frame) is has_html
    if has_html:
        assert f'id="post-{opening_post.id}"' in frame["html"]
    await communicator.disconnect()


async def test_record_and_send_rolled_back_sends_and_keeps_nothing(member_cookie, thread, opening_post):
    communicator = communicator_for(thread, member_cookie)
    connected, _ = await communicator.connect()
    assert connected

    @database_sync_to_async
    def record_then_roll_back():
        with pytest.raises(Rollback), transaction.atomic():
            live.record_and_send(thread.id, live.POST_EDITED, opening_post.id)
            raise Rollback

    await record_then_roll_back()

    assert await communicator.receive_nothing(timeout=1)
    assert await database_sync_to_async(live.latest_event_id)(thread.id) == (
        await database_sync_to_async(lambda: LiveEvent.objects.get(thread=thread).id)())
    await communicator.disconnect()
