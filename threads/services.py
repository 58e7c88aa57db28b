import uuid
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import F

from community.access import can_post
from community.models import Member

from .attachments import save_attachments
from .events import post_published
from .live import broadcast_thread_activity, record_post_created
from .mentions import announce_mentions, render_post
from .models import Category, Post, Thread


class PostingNotAllowed(Exception):
    pass


def new_message_id() -> str:
    return f"<{uuid.uuid4().hex}@{settings.LIST_DOMAIN}>"


def _publish(post: Post, mentioned: set[int]) -> None:
    record_post_created(post)
    announce_mentions(post, mentioned)
    transaction.on_commit(partial(broadcast_thread_activity, post.thread_id))
    transaction.on_commit(partial(post_published.send, Post, post_id=post.id))


@transaction.atomic
def create_thread(*, author: Member, category: Category, title: str, body: str,
                  source: str = Post.Source.WEB, attachments=()) -> Thread:
    if not can_post(author.user, category):
        raise PostingNotAllowed("You cannot start a thread in this category.")
    thread = Thread.objects.create(category=category, title=title.strip(), author=author, post_count=1)
    html, mentioned = render_post(body)
    post = Post.objects.create(
        thread=thread, author=author, body=body, html=html, source=source,
        created_at=thread.created_at, message_id=new_message_id(),
    )
    save_attachments(post, attachments, author)
    _publish(post, mentioned)
    return thread


@transaction.atomic
def create_reply(*, author: Member, parent: Post, body: str, source: str = Post.Source.WEB,
                 is_question: bool = False, attachments=()) -> Post:
    thread = Thread.objects.select_for_update().get(pk=parent.thread_id)
    if not can_post(author.user, thread):
        raise PostingNotAllowed("This thread is closed to new replies." if thread.locked
                                else "You cannot post here.")
    html, mentioned = render_post(body)
    post = Post.objects.create(
        thread=thread, parent=parent, author=author, body=body, html=html, source=source,
        message_id=new_message_id(), is_question=is_question,
    )
    save_attachments(post, attachments, author)
    Thread.objects.filter(pk=thread.pk).update(last_post_at=post.created_at, post_count=F("post_count") + 1)
    _publish(post, mentioned)
    return post
