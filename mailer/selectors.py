"""Reads for outbound mail and digests, each in a fixed number of queries whatever the number of members."""

from datetime import datetime

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, JSONObject

from community.models import Member
from threads.models import Post, Subscription

from .models import DigestLog, MailPreference, OutboundMessage


def wanting_post_mail(post_id: int) -> QuerySet[Member]:
    """Active members who get this post by email as it is posted: those watching its thread (or, with no choice
    made for the thread, its category) unless they chose no email at all, and those on every message who muted
    neither. A choice for the thread wins over one for its category."""
    thread_level = Subscription.objects.filter(member=OuterRef("pk"), thread__posts=post_id).values("level")
    category_level = Subscription.objects.filter(member=OuterRef("pk"), category__threads__posts=post_id)
    return (
        Member.objects.filter(status=Member.Status.ACTIVE)
        .annotate(
            subscription=Coalesce(Subquery(thread_level[:1]), Subquery(category_level.values("level")[:1])),
            mail_mode=Coalesce("mail_preference__mode", Value(MailPreference.Mode.DAILY)),
        )
        .filter(
            Q(subscription=Subscription.Level.WATCH) & ~Q(mail_mode=MailPreference.Mode.NONE)
            | Q(subscription__isnull=True, mail_mode=MailPreference.Mode.EACH)
        )
    )


def each_message_recipient_ids(post: Post) -> list[int]:
    """Members who get the post as it is posted, except the author (they know what they wrote)."""
    return list(wanting_post_mail(post.id).exclude(pk=post.author_id).values_list("pk", flat=True))


def still_wants_post(member_id: int, post_id: int) -> bool:
    """Checked again at delivery: membership, mail mode and subscriptions may have changed since the fan-out,
    and a moderator may have hidden the post for review, or it may have been deleted."""
    return (
        wanting_post_mail(post_id).filter(pk=member_id)
        .filter(Exists(Post.objects.filter(pk=post_id, hidden_at__isnull=True, deleted_at__isnull=True)))
        .exists()
    )


def pending_outbound_ids(post_id: int) -> list[int]:
    return list(
        OutboundMessage.objects.filter(post_id=post_id, status=OutboundMessage.Status.PENDING)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def lock_pending_outbound(outbound_id: int) -> OutboundMessage | None:
    """The row, locked until the transaction ends, or None once it is sent or given up on."""
    return (
        OutboundMessage.objects.select_for_update(of=("self",))
        .select_related("member__user", "member__mail_preference")
        .filter(pk=outbound_id, status=OutboundMessage.Status.PENDING)
        .first()
    )


def post_edited_at(post_id: int) -> datetime | None:
    return Post.objects.filter(pk=post_id).values_list("edited_at", flat=True).first()


def post_for_mail(post_id: int) -> Post:
    return Post.objects.select_related("thread__category", "author__organization").get(pk=post_id)


def ancestor_message_ids(post: Post) -> list[str]:
    """Message-IDs of the post's ancestors, root first, from one query over the thread."""
    rows = {pk: (parent_id, message_id) for pk, parent_id, message_id in
            Post.objects.filter(thread_id=post.thread_id).values_list("pk", "parent_id", "message_id")}
    chain = []
    parent_id = post.parent_id
    while parent_id is not None:
        parent_id, message_id = rows[parent_id]
        chain.append(message_id)
    return chain[::-1]


def due_digest_members(today) -> QuerySet[Member]:
    """Active members on the daily digest (the default when they never chose) who have none for `today`,
    each with `previous_covered_until`: where their last digest stopped (None before the first), and
    `subscribed_to`: the threads and categories they watch or mute, as {"thread": id, "category": id}."""
    last_covered = DigestLog.objects.filter(member=OuterRef("pk")).order_by("-period").values("covered_until")
    subscriptions = Subscription.objects.filter(member=OuterRef("pk")).values(
        json=JSONObject(thread="thread_id", category="category_id")
    )
    return (
        Member.objects.filter(status=Member.Status.ACTIVE)
        .filter(Q(mail_preference__mode=MailPreference.Mode.DAILY) | Q(mail_preference__isnull=True))
        .exclude(digests__period=today)
        .select_related("user", "mail_preference")
        .annotate(previous_covered_until=Subquery(last_covered[:1]), subscribed_to=ArraySubquery(subscriptions))
        .order_by("pk")
    )


def posts_between(start: datetime, end: datetime) -> list[Post]:
    """Posts with start < created_at <= end, ordered by category, thread and time, for a digest batch."""
    return list(
        Post.objects.filter(created_at__gt=start, created_at__lte=end, hidden_at__isnull=True, deleted_at__isnull=True)
        .select_related("thread__category", "author__organization")
        .order_by("thread__category__position", "thread__category__name", "thread_id", "created_at", "pk")
    )
