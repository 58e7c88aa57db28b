from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.http import Http404

from community.live import user_group

from .live import category_group, thread_group
from .selectors import get_readable_thread, readable_categories

# 4403 mirrors HTTP 403 in the websocket application close range (4000–4999).
CLOSE_NOT_ALLOWED = 4403


@database_sync_to_async
def _may_read_thread(user, thread_id) -> bool:
    try:
        get_readable_thread(user, thread_id)
    except Http404:
        return False
    return True


@database_sync_to_async
def _readable_category_ids(user) -> list[int]:
    return list(readable_categories(user).values_list("pk", flat=True))


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
    """Pushes new posts to members viewing a thread; anyone else is refused at the door."""

    async def connect(self):
        self.thread_id = self.scope["url_route"]["kwargs"]["thread_id"]
        if not await _may_read_thread(self.scope.get("user"), self.thread_id):
            await self.close(code=CLOSE_NOT_ALLOWED)
            return
        self.group = thread_group(self.thread_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.join_user_group()
        await self.accept()

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)
        await super().disconnect(code)

    async def post_created(self, event):
        await self.send_json(
            {"type": "post.created", "post_id": event["post_id"], "parent_id": event["parent_id"],
             "html": event["html"]}
        )


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
