"""Who is in a live room: one Redis sorted set per thread of "<member id>/<socket>" scored by expiry, so a member
with two tabs stays present until both close, and a socket whose server died drops out when it stops renewing."""

import time
from functools import cache

import redis
from django.conf import settings

from community.models import Member

HEARTBEAT_SECONDS = 30
# Two heartbeats may be late before a socket counts as gone.
EXPIRES_AFTER = 2 * HEARTBEAT_SECONDS + 15


@cache
def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


def _key(thread_id: int) -> str:
    # The channel layer's prefix: test runs and sites sharing one Redis keep apart exactly as their sockets do.
    return f"{settings.CHANNEL_LAYERS['default']['CONFIG']['prefix']}:presence:{thread_id}"


def _member_ids(entries) -> set[int]:
    return {int(entry.split(b"/", 1)[0]) for entry in entries}


def _present_ids(client, thread_id: int) -> set[int]:
    return _member_ids(client.zrangebyscore(_key(thread_id), time.time(), "+inf"))


def enter(thread_id: int, member_id: int, socket: str) -> bool:
    """Registers or renews a socket; True when who is here changed (this member arrived, or sockets timed out)."""
    client, key, now = _redis(), _key(thread_id), time.time()
    timed_out = client.zrangebyscore(key, "-inf", now)
    client.zremrangebyscore(key, "-inf", now)
    arrived = member_id not in _present_ids(client, thread_id)
    client.zadd(key, {f"{member_id}/{socket}": now + EXPIRES_AFTER})
    client.expire(key, EXPIRES_AFTER)
    return arrived or bool(timed_out)


def leave(thread_id: int, member_id: int, socket: str) -> bool:
    """True when this was the member's last socket in the room."""
    client = _redis()
    client.zrem(_key(thread_id), f"{member_id}/{socket}")
    return member_id not in _present_ids(client, thread_id)


def present_members(thread_id: int) -> list[dict]:
    ids = _present_ids(_redis(), thread_id)
    members = Member.objects.filter(pk__in=ids).order_by("full_name").values_list("pk", "full_name")
    return [{"id": pk, "name": name} for pk, name in members]
