"""Reads for outbound mail and digests, each in a fixed number of queries whatever the number of members."""

from datetime import datetime

from django.db.models import OuterRef, Q, QuerySet, Subquery

from community.models import Member
from threads.models import Post

from .models import DigestLog, MailPreference, OutboundMessage


def each_message_recipient_ids(post: Post) -> list[int]:
    """Active members who asked for every message, except the author (they know what they wrote)."""
    return list(
        Member.objects.filter(status=Member.Status.ACTIVE, mail_preference__mode=MailPreference.Mode.EACH)
        .exclude(pk=post.author_id)
        .values_list("pk", flat=True)
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
    each with `previous_covered_until`: where their last digest stopped (None before the first)."""
    last_covered = DigestLog.objects.filter(member=OuterRef("pk")).order_by("-period").values("covered_until")
    return (
        Member.objects.filter(status=Member.Status.ACTIVE)
        .filter(Q(mail_preference__mode=MailPreference.Mode.DAILY) | Q(mail_preference__isnull=True))
        .exclude(digests__period=today)
        .select_related("user", "mail_preference")
        .annotate(previous_covered_until=Subquery(last_covered[:1]))
        .order_by("pk")
    )


def posts_between(start: datetime, end: datetime) -> list[Post]:
    """Posts with start < created_at <= end, ordered by category, thread and time, for a digest batch."""
    return list(
        Post.objects.filter(created_at__gt=start, created_at__lte=end)
        .select_related("thread__category", "author__organization")
        .order_by("thread__category__position", "thread__category__name", "thread_id", "created_at", "pk")
    )
