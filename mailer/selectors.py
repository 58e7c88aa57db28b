"""Reads for outbound mail and digests, each in a fixed number of queries whatever the number of members.

How a member gets a post (its *post mode*) is worked out in SQL, in `with_post_mode`, the one place that says it:

1. the member's Subscription on the post's thread, else on its category, else their MailPreference.mode (daily
   when they never chose); subscription levels map to modes: watch → each, mute → none, the others by name;
2. "mine" becomes each when the member takes part in the thread (wrote a post in it, which includes starting it,
   or is named in one of its posts), none otherwise;
3. the opening post of a thread in a moderators-only category (an announcement) goes out at once to everyone
   whose choice is not none;
and only active members whose list mail is not paused get anything; never the author; never a deleted, hidden or
held post. Each-message mail follows post mode "each"; daily and weekly digests carry the posts of their mode.
"""

from collections import defaultdict
from datetime import date, datetime

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Case, DateField, Exists, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce

from community.models import Member
from threads.models import Mention, Post, Subscription, Webinar

from .models import DigestLog, MailPreference, OutboundMessage

Mode = MailPreference.Mode
LEVEL_MODES = {
    Subscription.Level.WATCH: Mode.EACH,
    Subscription.Level.DAILY: Mode.DAILY,
    Subscription.Level.WEEKLY: Mode.WEEKLY,
    Subscription.Level.MINE: Mode.MINE,
    Subscription.Level.MUTE: Mode.NONE,
}


def receiving_list_mail() -> QuerySet[Member]:
    """Active members whose list mail is not paused (a hard bounce or a complaint pauses it: mailer.bounces)."""
    return Member.objects.filter(status=Member.Status.ACTIVE, mail_preference__delivery_paused_at__isnull=True)


def wanting_notices() -> QuerySet[Member]:
    """Members who get the list's notices (e-consultation summaries, mentions): list mail not paused, and their
    own mode is not "no email"."""
    return receiving_list_mail().exclude(mail_preference__mode=Mode.NONE)


def mail_mode() -> Coalesce:
    return Coalesce("mail_preference__mode", Value(Mode.DAILY))


def visible_posts() -> QuerySet[Post]:
    return Post.objects.filter(deleted_at__isnull=True, hidden_at__isnull=True, held_at__isnull=True)


def with_post_mode(members: QuerySet[Member], post) -> QuerySet[Member]:
    """`members` annotated with `post_mode`: how each gets one post (rules in the module docstring).

    `post` is the post's id as a subquery of `members` sees it: an int, or `OuterRef(OuterRef("pk"))` when
    `members` is itself a subquery of a query over posts (digests), so one expression serves both."""
    member = OuterRef("pk")
    thread_level = Subscription.objects.filter(member=member, thread__posts=post).values("level")[:1]
    category_level = Subscription.objects.filter(member=member, category__threads__posts=post).values("level")[:1]
    return members.annotate(
        chosen_level=Coalesce(Subquery(thread_level), Subquery(category_level)),
        chosen_mode=Case(
            *(When(chosen_level=level, then=Value(mode)) for level, mode in LEVEL_MODES.items()),
            default=mail_mode(),
        ),
        takes_part=Exists(Post.objects.filter(thread__posts=post, author=member))
        | Exists(Mention.objects.filter(post__thread__posts=post, member=member)),
        is_announcement=Exists(Post.objects.filter(pk=post, parent__isnull=True,
                                                   thread__category__moderators_only=True)),
        post_mode=Case(
            When(Q(is_announcement=True) & ~Q(chosen_mode=Mode.NONE), then=Value(Mode.EACH)),
            When(chosen_mode=Mode.MINE, takes_part=True, then=Value(Mode.EACH)),
            When(chosen_mode=Mode.MINE, then=Value(Mode.NONE)),
            default=F("chosen_mode"),
        ),
    )


def wanting_post_mail(post_id: int) -> QuerySet[Member]:
    """Members who get this post by email as it is posted (post mode each), the author excepted."""
    return (
        with_post_mode(receiving_list_mail(), post_id)
        .filter(Exists(visible_posts().filter(pk=post_id)), post_mode=Mode.EACH)
        .exclude(Exists(Post.objects.filter(pk=post_id, author=OuterRef("pk"))))
    )


def each_message_recipient_ids(post: Post) -> list[int]:
    return list(wanting_post_mail(post.id).values_list("pk", flat=True))


def still_wants_post(member_id: int, post_id: int) -> bool:
    """Checked again at delivery: membership, mail choices and pauses may have changed since the fan-out, and the
    post may have been hidden, held or deleted."""
    return wanting_post_mail(post_id).filter(pk=member_id).exists()


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
    return (Post.objects.select_related("thread__category", "author__organization")
            .prefetch_related("attachments").get(pk=post_id))


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


# --- Digests -------------------------------------------------------------------------------------------------------

def member_time_zones() -> list[str]:
    """The time zones active members chose ("" for the site's)."""
    return list(Member.objects.filter(status=Member.Status.ACTIVE).order_by().values_list("time_zone", flat=True)
                .distinct())


def due_digest_members(kind: str, periods: dict[str, date]) -> QuerySet[Member]:
    """Members who may get a digest of `kind` (their own mode, or a thread or category they set to it) and have
    none yet for the period now due in their time zone. `periods` maps each `Member.time_zone` value whose digest
    is due to that period; members in other zones are not due. Each member comes with `period`; `last_period` and
    `last_covered_until` of their latest digest of this kind; and `latest_covered_until` of any kind."""
    zones_by_period = defaultdict(list)
    for zone, period in periods.items():
        zones_by_period[period].append(zone)
    logs = DigestLog.objects.filter(member=OuterRef("pk"))
    last_of_kind = logs.filter(kind=kind).order_by("-period")
    return (
        receiving_list_mail()
        .annotate(
            mail_mode=mail_mode(),
            period=Case(*(When(time_zone__in=zones, then=Value(period)) for period, zones in zones_by_period.items()),
                        output_field=DateField()),
        )
        .filter(Q(mail_mode=kind) | Exists(Subscription.objects.filter(member=OuterRef("pk"), level=kind)),
                period__isnull=False)
        .exclude(Exists(logs.filter(kind=kind, period=OuterRef("period"))))
        .annotate(
            last_period=Subquery(last_of_kind.values("period")[:1]),
            last_covered_until=Subquery(last_of_kind.values("covered_until")[:1]),
            latest_covered_until=Subquery(logs.order_by("-covered_until").values("covered_until")[:1]),
        )
        .select_related("user", "mail_preference")
        .order_by("pk")
    )


def digest_posts(kind: str, member_ids: list[int], start: datetime, end: datetime) -> list[Post]:
    """Visible posts with start < created_at <= end that some of `member_ids` get in a digest of `kind`, each
    with `digest_recipients` (those members' ids), ordered by category, thread and time, attachments prefetched.
    A post emailed to a member one by one (before they changed their choice) is not theirs again."""
    emailed = OutboundMessage.objects.filter(post=OuterRef(OuterRef("pk")), member=OuterRef("pk"),
                                             status__in=[OutboundMessage.Status.SENT, OutboundMessage.Status.PENDING])
    recipients = (
        with_post_mode(receiving_list_mail().filter(pk__in=member_ids), OuterRef(OuterRef("pk")))
        .filter(post_mode=kind)
        .exclude(pk=OuterRef("author_id"))
        .exclude(Exists(emailed))
        .order_by()
        .values("pk")
    )
    posts = (
        visible_posts().filter(created_at__gt=start, created_at__lte=end)
        .annotate(digest_recipients=ArraySubquery(recipients))
        .select_related("thread__category", "author__organization")
        .prefetch_related("attachments")
        .order_by("thread__category__position", "thread__category__name", "thread_id", "created_at", "pk")
    )
    return [post for post in posts if post.digest_recipients]


def upcoming_events(start: datetime, end: datetime) -> list[Webinar]:
    """Webinars starting, and e-consultations live, between start and end, soonest first."""
    return list(
        Webinar.objects.filter(Q(starts_at__gte=start, starts_at__lte=end)
                               | Q(econsultation__live_ends_at__gte=start, econsultation__live_starts_at__lte=end))
        .select_related("econsultation__thread")
        .order_by("starts_at")
    )
