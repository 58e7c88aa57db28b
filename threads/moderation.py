"""Thread moderation: pin, lock, move, hide a post pending review, approve or reject a held post, split or merge a
reply subtree.

Every action is refused to anyone who cannot moderate, and writes an AuditRecord whose subject is the member
whose thread or post was acted on.
"""

from functools import partial

from django.db import transaction
from django.db.models import BigIntegerField, Case, Count, F, Max, Value, When
from django.utils import timezone

from community.access import can_moderate
from community.models import AuditRecord, Member

from . import live
from .events import held_post_rejected
from .guard_checks import decided_by_moderator
from .models import Category, GuardCheck, Post, Thread
from .services import release_held_post


class ThreadModerationError(Exception):
    """The action is refused; the message says why, for the moderator to read."""


def _require_moderator(moderator: Member) -> None:
    if not can_moderate(moderator.user):
        raise ThreadModerationError("Only moderators can do this.")


def _thread_target(thread: Thread) -> str:
    return f"Thread #{thread.id} “{thread.title}”"


def _post_target(post: Post) -> str:
    return f"Post #{post.id} in thread #{post.thread_id}"


def _audit(moderator: Member, action: str, subject_id: int, target: str, reason: str = "") -> None:
    AuditRecord.objects.create(actor=moderator, action=action, subject_id=subject_id, target=target, reason=reason)


def _lock_thread(thread_id: int) -> Thread:
    return Thread.objects.select_for_update().defer("search_vector").get(pk=thread_id)


@transaction.atomic
def _set_thread_flag(thread: Thread, moderator: Member, flag: str, value: bool, reason: str) -> Thread:
    """Pin/unpin or lock/unlock: audited only when it changes something."""
    _require_moderator(moderator)
    thread = _lock_thread(thread.id)
    if getattr(thread, flag) != value:
        Thread.objects.filter(pk=thread.pk).update(**{flag: value})
        setattr(thread, flag, value)
        action = f"thread_{'' if value else 'un'}{flag}"
        _audit(moderator, action, thread.author_id, _thread_target(thread), reason)
    return thread


def set_pinned(thread: Thread, moderator: Member, pinned: bool, reason: str = "") -> Thread:
    return _set_thread_flag(thread, moderator, "pinned", pinned, reason)


def set_locked(thread: Thread, moderator: Member, locked: bool, reason: str = "") -> Thread:
    return _set_thread_flag(thread, moderator, "locked", locked, reason)


@transaction.atomic
def move_thread(thread: Thread, moderator: Member, category: Category, reason: str = "") -> Thread:
    _require_moderator(moderator)
    thread = _lock_thread(thread.id)
    if thread.category_id == category.id:
        raise ThreadModerationError("The thread is already in that category.")
    old = Category.objects.get(pk=thread.category_id)
    Thread.objects.filter(pk=thread.pk).update(category=category)
    thread.category = category
    _audit(moderator, "thread_moved", thread.author_id,
           f"{_thread_target(thread)} from {old.name} to {category.name}", reason)
    return thread


@transaction.atomic
def hide_post(post: Post, moderator: Member, reason: str) -> None:
    """Readable by moderators and the author only, with the reason; not emailed while hidden."""
    _require_moderator(moderator)
    if not reason.strip():
        raise ThreadModerationError("Say why the post is hidden: the author sees the reason.")
    if Post.objects.filter(pk=post.pk, hidden_at__isnull=True).update(hidden_at=timezone.now(),
                                                                      hidden_reason=reason.strip()):
        _audit(moderator, "post_hidden", post.author_id, _post_target(post), reason.strip())
        # Live frames go to everyone viewing the thread, so they carry the notice, never the hidden text.
        live.record_and_send(post.thread_id, live.POST_HIDDEN, post.id)


@transaction.atomic
def unhide_post(post: Post, moderator: Member, reason: str = "") -> None:
    _require_moderator(moderator)
    # A held post is published by approving it, which also sends it to the list.
    if Post.objects.filter(pk=post.pk, hidden_at__isnull=False, held_at__isnull=True).update(hidden_at=None,
                                                                                            hidden_reason=""):
        _audit(moderator, "post_unhidden", post.author_id, _post_target(post), reason)
        live.record_and_send(post.thread_id, live.POST_RESTORED, post.id)


def _lock_held_post(post_id: int) -> Post:
    """The post and its thread, locked, so two moderators (or one clicking twice, or replying twice by email)
    decide it once; refused when it no longer waits."""
    post = (Post.objects.select_for_update(of=("self", "thread")).select_related("thread", "author")
            .defer("search_vector", "thread__search_vector").get(pk=post_id))
    if post.held_at is None:
        raise ThreadModerationError("This post is not waiting for a moderator: it is already published.")
    if post.deleted_at:
        raise ThreadModerationError(
            "This post is no longer waiting for a moderator: "
            + ("its author deleted it." if post.deleted_by_id == post.author_id else "it was already rejected."))
    return post


@transaction.atomic
def approve_held_post(post: Post, moderator: Member) -> Post:
    """Publish a held post as if it had just been posted: live, to the list, to the members it names. A post the
    confidentiality guard held is released too: the moderator decides for its author."""
    _require_moderator(moderator)
    post = _lock_held_post(post.pk)
    release_held_post(post)
    decided_by_moderator(post, moderator, GuardCheck.Outcome.RELEASED)
    _audit(moderator, "held_post_approved", post.author_id, _post_target(post))
    return post


@transaction.atomic
def reject_held_post(post: Post, moderator: Member, reason: str) -> Post:
    """The post is deleted without ever being published, and its author is told why by email."""
    _require_moderator(moderator)
    if not reason.strip():
        raise ThreadModerationError("Say why the post is not published: the author is told.")
    post = _lock_held_post(post.pk)
    post.deleted_at, post.deleted_by, post.hidden_reason = timezone.now(), moderator, reason.strip()
    post.save(update_fields=["deleted_at", "deleted_by", "hidden_reason"])
    decided_by_moderator(post, moderator, GuardCheck.Outcome.REJECTED, reason.strip())
    _audit(moderator, "held_post_rejected", post.author_id, _post_target(post), reason.strip())
    transaction.on_commit(partial(held_post_rejected.send, Post, post_id=post.id))
    return post


def _subtree_ids(root: Post) -> list[int]:
    """The post and all its descendants, from one query over its thread."""
    children = {}
    for pk, parent_id in Post.objects.filter(thread_id=root.thread_id).values_list("pk", "parent_id"):
        children.setdefault(parent_id, []).append(pk)
    ids, stack = [], [root.pk]
    while stack:
        pk = stack.pop()
        ids.append(pk)
        stack.extend(children.get(pk, []))
    return ids


def _move_subtree(root: Post, thread_id: int, parent_id: int | None) -> list[int]:
    ids = _subtree_ids(root)
    Post.objects.filter(pk__in=ids).update(
        thread_id=thread_id,
        parent_id=Case(When(pk=root.pk, then=Value(parent_id)), default=F("parent_id"),
                       output_field=BigIntegerField()),
    )
    return ids


def _recount(*thread_ids: int) -> None:
    """post_count and last_post_at from the published posts each thread now holds (held ones count once
    approved)."""
    for row in (Post.objects.filter(thread_id__in=thread_ids, held_at__isnull=True).order_by().values("thread_id")
                .annotate(count=Count("id"), last=Max("created_at"))):
        Thread.objects.filter(pk=row["thread_id"]).update(post_count=row["count"], last_post_at=row["last"])


def _require_reply(post: Post) -> None:
    if post.parent_id is None:
        raise ThreadModerationError("This is the opening post: move the whole thread instead.")


@transaction.atomic
def split_subtree(post: Post, moderator: Member, *, title: str, category: Category, reason: str = "") -> Thread:
    """The reply and every reply below it become a new thread, the reply its opening post."""
    _require_moderator(moderator)
    source = _lock_thread(post.thread_id)
    post = Post.objects.defer("search_vector").get(pk=post.pk)
    _require_reply(post)
    if not title.strip():
        raise ThreadModerationError("The new thread needs a title.")
    thread = Thread.objects.create(category=category, title=title.strip(), author_id=post.author_id,
                                   created_at=post.created_at)
    ids = _move_subtree(post, thread.id, None)
    _recount(source.id, thread.id)
    _audit(moderator, "thread_split", post.author_id,
           f"{len(ids)} post{'s' if len(ids) != 1 else ''} from {_thread_target(source)} to a new "
           f"{_thread_target(thread)}", reason)
    return thread


@transaction.atomic
def merge_subtree(post: Post, moderator: Member, *, under: Post, reason: str = "") -> Thread:
    """The reply and every reply below it move into another thread, as replies to `under`."""
    _require_moderator(moderator)
    post = Post.objects.defer("search_vector").get(pk=post.pk)
    _require_reply(post)
    if under.thread_id == post.thread_id:
        raise ThreadModerationError("Choose a post in another thread.")
    # Both threads locked in id order, so two merges in opposite directions cannot deadlock.
    threads = {thread.id: thread for thread in Thread.objects.select_for_update().defer("search_vector")
               .filter(pk__in=[post.thread_id, under.thread_id]).order_by("pk")}
    source, target = threads[post.thread_id], threads[under.thread_id]
    ids = _move_subtree(post, target.id, under.id)
    _recount(source.id, target.id)
    _audit(moderator, "thread_merged", post.author_id,
           f"{len(ids)} post{'s' if len(ids) != 1 else ''} from {_thread_target(source)} under post "
           f"#{under.id} in {_thread_target(target)}", reason)
    return target
