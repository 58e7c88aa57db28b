"""Threads and posts that already happened elsewhere (the Google Group archive, mailer.list_import).

Unlike threads.services, nothing here is published: an imported post is history, so it records no live event,
sends no list mail and names nobody in a mention notice. Posts keep their own date and Message-ID.
"""

from django.db import transaction
from django.db.models import DateTimeField, F, Value
from django.db.models.functions import Greatest

from community.models import Member

from .attachments import save_attachments
from .markdown import render_markdown
from .models import Attachment, Category, Post, Thread


@transaction.atomic
def create_imported_thread(*, category: Category, title: str, author: Member, body: str, created_at,
                           message_id: str, attachments=()) -> Post:
    """Returns the opening post."""
    thread = Thread.objects.create(category=category, title=title.strip()[:200], author=author,
                                   created_at=created_at, last_post_at=created_at, post_count=1)
    return _create_post(thread_id=thread.pk, parent=None, author=author, body=body, created_at=created_at,
                        message_id=message_id, attachments=attachments)


@transaction.atomic
def create_imported_reply(*, parent: Post, author: Member, body: str, created_at, message_id: str,
                          attachments=()) -> Post:
    post = _create_post(thread_id=parent.thread_id, parent=parent, author=author, body=body,
                        created_at=created_at, message_id=message_id, attachments=attachments)
    # A reply may be dated before its parent (the sender's clock was off): the thread's last activity is its
    # latest date, whatever order the posts come in.
    latest = Greatest("last_post_at", Value(created_at, output_field=DateTimeField()))
    Thread.objects.filter(pk=parent.thread_id).update(post_count=F("post_count") + 1, last_post_at=latest)
    return post


def _create_post(*, thread_id, parent, author, body, created_at, message_id, attachments) -> Post:
    post = Post.objects.create(
        thread_id=thread_id, parent=parent, author=author, body=body, html=render_markdown(body),
        source=Post.Source.IMPORT, created_at=created_at, message_id=message_id,
    )
    save_attachments(post, attachments, author)
    return post


@transaction.atomic
def reassign_posts(placeholder: Member, member: Member) -> int:
    """The placeholder's posts, the threads it started and the files it attached become the member's;
    returns how many posts moved."""
    moved = Post.objects.filter(author=placeholder).update(author=member)
    Thread.objects.filter(author=placeholder).update(author=member)
    Attachment.objects.filter(uploaded_by=placeholder).update(uploaded_by=member)
    return moved
