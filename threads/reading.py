"""What a member does with what they read: read marks, email choices per thread and category, bookmarks, "helpful"
reactions, my threads."""

from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Count, Exists, F, FilteredRelation, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Coalesce

from community.access import can_read
from community.models import Member

from . import live
from .anonymity import with_starter_anonymity
from .models import Bookmark, Category, Post, Reaction, Subscription, Thread, ThreadRead


class ReactionNotAllowed(Exception):
    pass


# Read marks and unread counts


def mark_thread_read(member: Member, thread_id: int, seen_until: datetime) -> datetime | None:
    """Move the member's read mark to `seen_until` (never backwards) and return where it was before.

    One statement: the old value is read in a CTE of the same upsert, so the thread page learns where the
    member stopped last time without a query of its own.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH previous AS (
                SELECT last_read_at FROM {ThreadRead._meta.db_table} WHERE member_id = %s AND thread_id = %s
            )
            INSERT INTO {ThreadRead._meta.db_table} (member_id, thread_id, last_read_at) VALUES (%s, %s, %s)
            ON CONFLICT (member_id, thread_id)
                DO UPDATE SET last_read_at = GREATEST(EXCLUDED.last_read_at,
                                                      {ThreadRead._meta.db_table}.last_read_at)
            RETURNING (SELECT last_read_at FROM previous)
            """,
            [member.id, thread_id, member.id, thread_id, seen_until],
        )
        return cursor.fetchone()[0]


def _new_post(member: Member) -> Q:
    """A post the member has not seen: after their read mark, or after they joined for a thread never opened;
    their own posts and posts waiting for review are never news."""
    return (
        Q(posts__created_at__gt=Coalesce(F("my_read__last_read_at"), Value(member.joined_at)))
        & ~Q(posts__author=member)
        & Q(posts__hidden_at__isnull=True, posts__deleted_at__isnull=True)
    )


def listed_threads(threads: QuerySet[Thread], member: Member | None) -> QuerySet[Thread]:
    """A thread waiting for a moderator's approval is listed to moderators and its author only, and to nobody
    once its opening post is rejected (its author was told why by email)."""
    waiting = Exists(Post.objects.filter(thread=OuterRef("pk"), held_at__isnull=False, deleted_at__isnull=True))
    if member is None or not member.is_moderator:
        waiting &= Q(author=member)
    return threads.filter(Q(held_at__isnull=True) | waiting)


def with_unread_counts(threads: QuerySet[Thread], member: Member | None) -> QuerySet[Thread]:
    """Each thread with `new_count`, in the same query as the list."""
    if member is None:
        return threads.annotate(new_count=Value(0))
    return threads.annotate(
        my_read=FilteredRelation("reads", condition=Q(reads__member=member)),
    ).annotate(new_count=Count("posts", filter=_new_post(member)))


def first_unread_post_id(posts: list[Post], member: Member, previous_read: datetime | None) -> int | None:
    """The earliest post the member has not seen since their last visit (none on a first visit: everything is
    new, and the top of the thread is where to start)."""
    if previous_read is None:
        return None
    unread = [post for post in posts if post.created_at > previous_read and post.author_id != member.id
              and not post.hidden_at and not post.deleted_at]
    return min(unread, key=lambda post: (post.created_at, post.id)).id if unread else None


@dataclass(frozen=True)
class ThreadPageState:
    first_unread_id: int | None
    subscription: str
    category_subscription: str


def open_thread(member: Member, thread: Thread, posts: list[Post]) -> ThreadPageState:
    """A member opens a thread page: mark it read up to the newest post shown, and attach to each post its
    "helpful" count, who found it helpful, and whether this member reacted or bookmarked it.

    Four queries whatever the number of posts."""
    newest_shown = max((post.created_at for post in posts), default=thread.last_post_at)
    previous = mark_thread_read(member, thread.id, newest_shown)
    attach_reactions_and_bookmarks(posts, member)
    levels = dict(
        Subscription.objects.filter(member=member)
        .filter(Q(thread=thread) | Q(category_id=thread.category_id))
        .values_list("thread_id", "level")
    )
    return ThreadPageState(
        first_unread_id=first_unread_post_id(posts, member, previous),
        subscription=levels.get(thread.id, ""),
        category_subscription=levels.get(None, ""),
    )


def attach_reactions_and_bookmarks(posts: list[Post], member: Member) -> None:
    post_ids = [post.id for post in posts]
    reactions = {}
    for post_id, member_id, name in (
        Reaction.objects.filter(post_id__in=post_ids, kind=Reaction.Kind.HELPFUL)
        .order_by("created_at", "id")
        .values_list("post_id", "member_id", "member__full_name")
    ):
        reactions.setdefault(post_id, []).append((member_id, name))
    bookmarked = set(Bookmark.objects.filter(member=member, post_id__in=post_ids).values_list("post_id", flat=True))
    for post in posts:
        who = reactions.get(post.id, [])
        post.helpful_count = len(who)
        post.helpful_names = [name for _, name in who]
        post.reacted = any(member_id == member.id for member_id, _ in who)
        post.bookmarked = post.id in bookmarked


# Email choices for one thread or category (watch, digests, only my threads, mute)


def set_subscription(member: Member, *, level: str, thread: Thread | None = None,
                     category: Category | None = None) -> None:
    """Choose how a thread or a category reaches the member by email; an empty level goes back to the member's
    usual mail mode. Raises ValueError for a level that does not exist, or "mine" for a single thread (taking part
    in one thread is what watching it means)."""
    target = {"thread": thread} if thread is not None else {"category": category}
    if not can_read(member.user, thread or category):
        raise PermissionError
    if not level:
        Subscription.objects.filter(member=member, **target).delete()
        return
    if level not in Subscription.Level.values or (thread is not None and level == Subscription.Level.MINE):
        raise ValueError(f"Unknown subscription level {level!r}")
    Subscription.objects.update_or_create(member=member, **target, defaults={"level": level})


def category_subscription_level(member: Member, category: Category) -> str:
    return Subscription.objects.filter(member=member, category=category).values_list("level", flat=True).first() or ""


@dataclass(frozen=True)
class MemberSubscriptions:
    category_levels: dict[int, str]
    threads: list[Subscription]  # with thread and its category loaded, newest choice first


def member_subscriptions(member: Member) -> MemberSubscriptions:
    """Every choice the member made for a category or a single thread, in one query (the mail settings page)."""
    categories, threads = {}, []
    for subscription in (
        Subscription.objects.filter(member=member).select_related("thread__category")
        .defer("thread__search_vector").order_by("-created_at", "-id")
    ):
        if subscription.thread_id:
            threads.append(subscription)
        else:
            categories[subscription.category_id] = subscription.level
    return MemberSubscriptions(category_levels=categories, threads=threads)


# Bookmarks


def set_bookmark(member: Member, post: Post, bookmarked: bool) -> None:
    if bookmarked:
        Bookmark.objects.get_or_create(member=member, post=post)
    else:
        Bookmark.objects.filter(member=member, post=post).delete()


def member_bookmarks(member: Member) -> QuerySet[Bookmark]:
    return (
        Bookmark.objects.filter(member=member)
        .select_related("post__author__organization", "post__thread__category")
        .defer("post__search_vector", "post__thread__search_vector")
        .order_by("-created_at", "-id")
    )


# Reactions


@transaction.atomic
def toggle_helpful(member: Member, post: Post) -> bool:
    """Mark the post helpful, or take the mark back; returns whether the member now finds it helpful."""
    if post.author_id == member.id:
        raise ReactionNotAllowed("You cannot mark your own post as helpful.")
    if post.hidden_at or post.deleted_at:
        raise ReactionNotAllowed("This post cannot be marked helpful now.")
    deleted, _ = Reaction.objects.filter(member=member, post=post, kind=Reaction.Kind.HELPFUL).delete()
    if not deleted:
        Reaction.objects.create(member=member, post=post, kind=Reaction.Kind.HELPFUL)
    # Everyone viewing the thread sees the new count; the event is logged for clients that reconnect.
    live.record_and_send(post.thread_id, live.POST_REACTION, post.id,
                         {"count": Reaction.objects.filter(post=post, kind=Reaction.Kind.HELPFUL).count()})
    return not deleted


# My threads


def my_threads(member: Member) -> QuerySet[Thread]:
    """Threads the member started or replied to, newest activity first, with unread counts."""
    return with_unread_counts(
        with_starter_anonymity(listed_threads(
            Thread.objects.filter(pk__in=Post.objects.filter(author=member).values("thread_id")), member))
        .select_related("author__organization", "category")
        .defer("search_vector")
        .order_by("-last_post_at", "-id"),
        member,
    )
