from urllib.parse import parse_qs

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.http import Http404

from community.access import member_of
from community.live import user_group

from . import presence
from .live import catch_up_frames, category_group, thread_group
from .selectors import get_readable_thread, readable_categories

# 4403 mirrors HTTP 403 in the websocket application close range (4000–4999).
CLOSE_NOT_ALLOWED = 4403


@database_sync_to_async
def _room_for(user, thread_id) -> tuple[bool, int | None]:
    """(may read the thread, the member id when the thread is an e-consultation room with presence)."""
    try:
        thread = get_readable_thread(user, thread_id)
    except Http404:
        return False, None
    return True, member_of(user).pk if hasattr(thread, "econsultation") else None


@database_sync_to_async
def _readable_category_ids(user) -> list[int]:
    return list(readable_categories(user).values_list("pk", flat=True))


def _after(scope) -> int | None:
    """The last event id the client applied, sent when it (re)connects."""
    values = parse_qs(scope.get("query_string", b"").decode()).get("after")
    return int(values[0]) if values and values[0].isdigit() else None


class RevocableConsumer(AsyncJsonWebsocketConsumer):
    """Joins the user's own group too, so a member who is suspended or removed is cut off at once rather
    than on their next page load."""

    async def join_user_group(self):
        self.own_group = user_group(self.scope["user"].id)
        await self.channel_layer.group_add(self.own_group, self.channel_name)

    async def disconnect(self, code):
        if hasattr(self, "own_group"):
            await self.channel_layer.group_discard(self.own_group, self.channel_name)

    async def member_revoked(self, event):
        await self.close(code=CLOSE_NOT_ALLOWED)


class ThreadConsumer(RevocableConsumer):
    """Pushes every live event of a thread to members viewing it; anyone else is refused at the door. A client
    that reconnects with ?after=<last event id> first gets every event it missed, in order, then live ones.

    The catch-up runs inside connect, after joining the thread group: the channel layer queues the group's
    messages until connect returns, so nothing live overtakes the catch-up, and an event both read from the
    database and received live is sent once."""

    async def connect(self):
        self.thread_id = self.scope["url_route"]["kwargs"]["thread_id"]
        may_read, self.present_as = await _room_for(self.scope.get("user"), self.thread_id)
        if not may_read:
            await self.close(code=CLOSE_NOT_ALLOWED)
            return
        self.group = thread_group(self.thread_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.join_user_group()
        await self.accept()
        self.caught_up = set()
        after = _after(self.scope)
        if after is not None:
            await self.catch_up(after)
        if self.present_as:
            await self.heartbeat()

    async def catch_up(self, after):
        frames = await database_sync_to_async(catch_up_frames)(self.thread_id, after)
        if frames is None:
            await self.send_json({"type": "reload"})
            return
        for frame in frames:
            self.caught_up.add(frame["event_id"])
            await self.send_json(frame)

    async def receive_json(self, content):
        if content.get("type") == "heartbeat" and self.present_as:
            await self.heartbeat()

    async def heartbeat(self):
        changed = await sync_to_async(presence.enter)(self.thread_id, self.present_as, self.channel_name)
        if changed:
            await self.announce_presence()

    async def announce_presence(self):
        members = await database_sync_to_async(presence.present_members)(self.thread_id)
        await self.channel_layer.group_send(self.group, {"type": "presence.changed", "members": members})

    async def disconnect(self, code):
        if hasattr(self, "group"):
            if self.present_as and await sync_to_async(presence.leave)(
                    self.thread_id, self.present_as, self.channel_name):
                await self.announce_presence()
            await self.channel_layer.group_discard(self.group, self.channel_name)
        await super().disconnect(code)

    async def live_event(self, event):
        frame = event["frame"]
        if frame["event_id"] not in self.caught_up:
            await self.send_json(frame)

    async def presence_changed(self, event):
        await self.send_json({"type": "presence", "members": event["members"]})


class ForumConsumer(RevocableConsumer):
    """Thread lists (home, category pages) hear about new threads and new posts in the categories the
    member may read."""

    async def connect(self):
        category_ids = await _readable_category_ids(self.scope.get("user"))
        if not category_ids:
            await self.close(code=CLOSE_NOT_ALLOWED)
            return
        self.groups_joined = [category_group(category_id) for category_id in category_ids]
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.join_user_group()
        await self.accept()

    async def disconnect(self, code):
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)
        await super().disconnect(code)

    async def thread_activity(self, event):
        await self.send_json({key: event[key] for key in ("type", "thread_id", "category_id", "html")})
