"""Live updates through the real ASGI application and the Redis channel layer of settings.py."""

import uuid

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connections, transaction
from django.test import Client

from community.asgi import application
from threads.services import create_reply

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _own_channel_prefix(settings):
    # Redis pub/sub ignores the database number: another test run on this Redis posting in a thread with the
    # same id would reach our sockets and break the "receives nothing" checks.
    layer = settings.CHANNEL_LAYERS["default"]
    config = {**layer["CONFIG"], "prefix": f"{layer['CONFIG']['prefix']}-{uuid.uuid4().hex[:8]}"}
    settings.CHANNEL_LAYERS = {"default": {**layer, "CONFIG": config}}


@pytest.fixture(autouse=True)
async def _close_worker_thread_connections():
    yield
    # ORM calls ran in asgiref's worker thread; its connection would outlive the test and block dropping
    # the test database at the end of the run.
    await database_sync_to_async(connections.close_all)()


class Rollback(Exception):
    pass


def session_cookie(member):
    client = Client()
    client.force_login(member.user)
    return f"sessionid={client.cookies['sessionid'].value}"


def communicator_for(thread, cookie=None):
    headers = [(b"origin", b"http://testserver")]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    return WebsocketCommunicator(application, f"/ws/threads/{thread.id}/", headers=headers)


@pytest.fixture
def member_cookie(member):
    return session_cookie(member)


@pytest.fixture
def replier(member_factory):
    return member_factory(full_name="Rae Replier")


@pytest.fixture
def opening_post(thread):
    return thread.posts.get()


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
