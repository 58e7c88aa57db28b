"""Who is here in a live room: sockets in a Redis sorted set, join and leave announced with names."""

import pytest
from channels.db import database_sync_to_async

from tests.threads.events_helpers import make_econsultation
from tests.threads.test_live import communicator_for, session_cookie
from threads import presence
from threads.models import EConsultation

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("own_channel_prefix", "close_worker_thread_connections"),
]


@pytest.fixture
def room(moderator):
    return make_econsultation(moderator, EConsultation.LIVE).thread


@pytest.fixture
def ada(member_factory):
    return member_factory(full_name="Ada Early")


@pytest.fixture
def ben(member_factory):
    return member_factory(full_name="Ben Later")


async def enter(room, member):
    communicator = communicator_for(room, await database_sync_to_async(session_cookie)(member))
    connected, _ = await communicator.connect()
    assert connected
    return communicator


def names(frame):
    assert frame["type"] == "presence"
    return [member["name"] for member in frame["members"]]


async def test_thread_socket_announces_who_joins_and_leaves_the_room(room, ada, ben):
    first = await enter(room, ada)
    assert names(await first.receive_json_from(timeout=5)) == ["Ada Early"]

    second = await enter(room, ben)
    assert names(await first.receive_json_from(timeout=5)) == ["Ada Early", "Ben Later"]
    assert names(await second.receive_json_from(timeout=5)) == ["Ada Early", "Ben Later"]

    await second.disconnect()
    assert names(await first.receive_json_from(timeout=5)) == ["Ada Early"]
    await first.disconnect()
    assert await database_sync_to_async(presence.present_members)(room.id) == []


async def test_thread_socket_member_with_two_tabs_stays_until_both_close(room, ada, ben):
    watcher = await enter(room, ben)
    await watcher.receive_json_from(timeout=5)
    tab_one = await enter(room, ada)
    assert names(await watcher.receive_json_from(timeout=5)) == ["Ada Early", "Ben Later"]
    tab_two = await enter(room, ada)

    await tab_one.disconnect()
    assert await watcher.receive_nothing(timeout=1)
    await tab_two.disconnect()
    assert names(await watcher.receive_json_from(timeout=5)) == ["Ben Later"]
    await watcher.disconnect()


async def test_thread_socket_heartbeat_keeps_member_present(room, ada):
    communicator = await enter(room, ada)
    await communicator.receive_json_from(timeout=5)

    await communicator.send_json_to({"type": "heartbeat"})

    assert await communicator.receive_nothing(timeout=1)  # nothing changed, nothing announced
    assert [m["name"] for m in await database_sync_to_async(presence.present_members)(room.id)] == ["Ada Early"]
    await communicator.disconnect()


async def test_thread_socket_tracks_no_presence_outside_live_rooms(thread, ada):
    communicator = await enter(thread, ada)

    assert await communicator.receive_nothing(timeout=1)
    assert await database_sync_to_async(presence.present_members)(thread.id) == []
    await communicator.disconnect()


def test_presence_socket_that_stops_renewing_drops_out(room, ada, ben, monkeypatch):
    now = 1_000_000.0
    monkeypatch.setattr(presence.time, "time", lambda: now)
    assert presence.enter(room.id, ada.id, "socket-a") is True
    assert presence.enter(room.id, ben.id, "socket-b") is True

    now += presence.EXPIRES_AFTER - 1
    assert presence.enter(room.id, ben.id, "socket-b") is False  # a heartbeat: nobody came or went
    now += 2

    assert [m["name"] for m in presence.present_members(room.id)] == ["Ben Later"]
    assert presence.enter(room.id, ben.id, "socket-b") is True  # Ada timed out: tell the room
    assert presence.leave(room.id, ben.id, "socket-b") is True
