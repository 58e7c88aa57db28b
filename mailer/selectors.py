"""Reads for outbound mail and digests, each in a fixed number of queries whatever the number of members.

How a member gets a post (its *post mode*) is worked out in SQL, in `recipients`, the one place that says it:

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

from django.contrib.postgres.aggregates import ArrayAgg
from django.db import connection
from django.db.models import Case, DateField, Exists, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce

from community.models import Member
from threads.models import Category, Mention, Post, Resource, Subscription, Thread, Webinar

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


def visible_posts() -> QuerySet[Post]:
    return Post.objects.filter(deleted_at__isnull=True, hidden_at__isnull=True, held_at__isnull=True)


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


# Every (post, member) pair is one row of `chosen`, whose subscription levels come from two index lookups; the
# CASE below repeats only column references, and asks whether a member takes part in the thread only for "mine".
# (Written as SQL because the ORM would repeat a subquery for each mention of an annotation in the CASE.)
POST_MODE_SQL = """
WITH post AS (
    SELECT p.id, p.thread_id, p.author_id, t.category_id, p.parent_id IS NULL AND c.moderators_only AS announcement
    FROM {post} p JOIN {thread} t ON t.id = p.thread_id JOIN {category} c ON c.id = t.category_id
    WHERE p.id IN ({posts})
), chosen AS (
    SELECT m.id AS member_id, post.id AS post_id, post.thread_id, post.announcement,
           COALESCE(CASE COALESCE(ts.level, cs.level) {level_modes} END, pref.mode, %s) AS mode
    FROM post
    JOIN {member} m ON m.id <> post.author_id AND m.id IN ({readers})
    LEFT JOIN {preference} pref ON pref.member_id = m.id
    LEFT JOIN {subscription} ts ON ts.member_id = m.id AND ts.thread_id = post.thread_id
    LEFT JOIN {subscription} cs ON cs.member_id = m.id AND cs.category_id = post.category_id
)
SELECT member_id, post_id FROM chosen
WHERE CASE
    WHEN announcement AND mode <> %s THEN %s
    WHEN mode = %s THEN CASE
        WHEN EXISTS (SELECT 1 FROM {post} own
                     WHERE own.thread_id = chosen.thread_id AND own.author_id = chosen.member_id)
          OR EXISTS (SELECT 1 FROM {mention} n JOIN {post} named ON named.id = n.post_id
                     WHERE named.thread_id = chosen.thread_id AND n.member_id = chosen.member_id)
        THEN %s ELSE %s END
    ELSE mode END = %s
"""

EMAILED_SQL = """
AND NOT EXISTS (SELECT 1 FROM {outbound} o WHERE o.post_id = chosen.post_id AND o.member_id = chosen.member_id
                AND o.status IN (%s, %s))
"""


def recipients(mode: str, *, post_id: int | None = None, created: tuple[datetime, datetime] | None = None,
               member_ids: list[int] | None = None, leave_out_emailed: bool = False) -> list[tuple[int, int]]:
    """(member id, post id) for each member who gets a post with post mode `mode` (rules in the module
    docstring), in one query: for one post (`post_id`), or for the visible posts created in (start, end]
    (`created`); among `member_ids` when given. With `leave_out_emailed`, a post already emailed to a member one
    by one (before they changed their choice) is not theirs again."""
    posts = visible_posts()
    if post_id is not None:
        posts = posts.filter(pk=post_id)
    if created is not None:
        posts = posts.filter(created_at__gt=created[0], created_at__lte=created[1])
    readers = receiving_list_mail()
    if member_ids is not None:
        readers = readers.filter(pk__in=member_ids)
    posts_sql, post_params = posts.order_by().values("pk").query.sql_with_params()
    readers_sql, readers_params = readers.order_by().values("pk").query.sql_with_params()
    level_modes = " ".join("WHEN %s THEN %s" for _ in LEVEL_MODES)
    sql = POST_MODE_SQL.format(
        post=_table(Post), thread=_table(Thread), category=_table(Category), member=_table(Member),
        preference=_table(MailPreference), subscription=_table(Subscription), mention=_table(Mention),
        posts=posts_sql, level_modes=level_modes, readers=readers_sql,
    )
    params = [
        *post_params, *(value for pair in LEVEL_MODES.items() for value in pair), Mode.DAILY, *readers_params,
        Mode.NONE, Mode.EACH, Mode.MINE, Mode.EACH, Mode.NONE, mode,
    ]
    if leave_out_emailed:
        sql += EMAILED_SQL.format(outbound=_table(OutboundMessage))
        params += [OutboundMessage.Status.SENT, OutboundMessage.Status.PENDING]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def each_message_recipient_ids(post: Post) -> list[int]:
    """Members who get this post by email as it is posted (post mode each)."""
    return [member_id for member_id, _ in recipients(Mode.EACH, post_id=post.id)]


def still_wants_post(member_id: int, post_id: int) -> bool:
    """Checked again at delivery: membership, mail choices and pauses may have changed since the fan-out, and the
    post may have been hidden, held or deleted."""
    return bool(recipients(Mode.EACH, post_id=post_id, member_ids=[member_id]))


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
            mail_mode=Coalesce("mail_preference__mode", Value(Mode.DAILY)),
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
    """Posts created in (start, end] that some of `member_ids` get in a digest of `kind`, each with
    `digest_recipients` (the set of those members' ids), ordered by category, thread and time, with attachments."""
    getting = defaultdict(set)
    for member_id, post_id in recipients(kind, created=(start, end), member_ids=member_ids, leave_out_emailed=True):
        getting[post_id].add(member_id)
    if not getting:
        return []
    posts = list(
        Post.objects.filter(pk__in=getting)
        .select_related("thread__category", "author__organization")
        .prefetch_related("attachments")
        .order_by("thread__category__position", "thread__category__name", "thread_id", "created_at", "pk")
    )
    for post in posts:
        post.digest_recipients = getting[post.id]
    return posts


def upcoming_events(start: datetime, end: datetime) -> list[Webinar]:
    """Webinars starting, and e-consultations live, between start and end, soonest first."""
    return list(
        Webinar.objects.filter(Q(starts_at__gte=start, starts_at__lte=end)
                               | Q(econsultation__live_ends_at__gte=start, econsultation__live_starts_at__lte=end))
        .select_related("econsultation__thread")
        .order_by("starts_at")
    )


def new_resources(start: datetime, end: datetime) -> list[Resource]:
    """Resources first approved in (start, end] and still in the library, in the order they were approved, each
    with `topic_names`: one query, so a digest batch reads them once for all its members. Every member may read
    an approved resource, so nobody's digest needs its own list."""
    return list(
        Resource.objects.filter(status=Resource.Status.APPROVED, approved_at__gt=start, approved_at__lte=end)
        .defer("search_vector")
        .annotate(topic_names=ArrayAgg("topics__name", order_by=("topics__position", "topics__name"),
                                       filter=Q(topics__isnull=False), default=Value([])))
        .order_by("approved_at", "pk")
    )
