"""Each signed-in user's websockets join one group, so losing access can close all of them at once."""

from functools import partial

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

MEMBER_REVOKED = "member.revoked"


def user_group(user_id: int) -> str:
    return f"user-{user_id}"


def close_live_connections(user_id: int) -> None:
    async_to_sync(get_channel_layer().group_send)(user_group(user_id), {"type": MEMBER_REVOKED})


def close_live_connections_on_commit(user_id: int) -> None:
    transaction.on_commit(partial(close_live_connections, user_id))
