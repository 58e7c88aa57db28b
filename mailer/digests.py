"""Daily and weekly digests, each at DIGEST_HOUR in the member's own time zone (Member.time_zone, "" for the
site's TIME_ZONE); weekly ones on DIGEST_WEEKDAY.

When. A digest belongs to a period: the day (daily), or the date of the latest DIGEST_WEEKDAY at or before today
(weekly). Beat runs this every 15 minutes; a member is due when their period has begun (past the hour) and has no
DigestLog yet, so a weekly digest whose day passed without it (no run, a failed send) goes out at the next run.

What. The posts whose post mode (mailer.selectors.recipients) is the digest's kind, new since the member's
previous digest of that kind when they had one for the previous period. A member new to this kind of digest
(they switched from daily to weekly, or chose weekly for one category) starts where their latest digest of any
kind stopped, so a switch neither repeats nor skips posts; a first digest ever looks back one period; nobody gets
more than BACKLOG of old posts; posts already emailed to the member one by one are left out. A weekly digest
also lists the resources first approved in the library in the same stretch and still there ("New resources").
Nothing new: no email, but the period is logged.

Never twice, never lost. A member's period is claimed by inserting DigestLog(member, kind, period) *before*
sending, in its own committed transaction: the unique row makes a concurrent or repeated run skip that member.
The claim keeps the old `covered_until`, which moves forward only once the digest has been handed to the mail
server; a digest that fails to send has its claim deleted, so the next run retries it. If the process dies
between claiming and sending, that digest is skipped but its posts are not lost: `covered_until` did not move,
so the next period's digest includes them.

In bulk. One query finds the zones, one the members due for each kind, one the calendar; then, per batch of
members, one query pairs each of them with the posts they get, one fetches those posts, one their attachments,
(weekly) one the new resources with their topics, one claims the period for all of them and one records what was
sent. Members who get the same posts and resources in the same time zone share one rendering; only the greeting,
reply addresses and unsubscribe link differ.
"""

import html
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.utils import formataddr, make_msgid
from functools import cached_property
from itertools import groupby
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import strip_tags
from django.utils.text import Truncator

from community.models import Member
from threads.anonymity import byline
from threads.models import Post, Resource
from threads.notes import html_without_noted_parts, note_break, post_text, text_without_noted_parts

from . import selectors
from .models import DigestLog
from .outbound import (
    Stencil,
    absolute_url,
    attachment_links,
    footer_links,
    list_headers,
    list_message,
    pause_if_address_refused,
    token_generation,
    unsubscribe_token,
    unsubscribe_url,
)
from .tokens import make_reply_address

logger = logging.getLogger(__name__)

Kind = DigestLog.Kind
BATCH_SIZE = 500
PERIOD = {Kind.DAILY: timedelta(days=1), Kind.WEEKLY: timedelta(days=7)}
# However long since a member's last digest (they were on "each message" or "no email" for months), a digest is
# about what is new, not the archive.
BACKLOG = {Kind.DAILY: timedelta(days=7), Kind.WEEKLY: timedelta(days=14)}
# A post is dated when it is written and seen only once its transaction commits, a moment later (attachments are
# stored in between): a digest covers posts up to this long before it runs, so none can be dated inside a stretch
# a digest has already covered.
SETTLING = timedelta(minutes=1)
CALENDAR_AHEAD = timedelta(days=30)
CALENDAR_SIZE = 6
# Gmail clips a message's HTML beyond 102 KB; the rendering is kept under this before per-member values go in.
HTML_BUDGET = 90_000
# A new resource's description in the weekly digest: about one line, enough to tell what it is.
RESOURCE_EXCERPT = 160


@dataclass(frozen=True)
class Compact:
    """How much of each message a digest shows: all of it, or an excerpt with at most so many messages a thread
    and threads a category, the rest behind "N more" links."""
    excerpt: int | None = None
    per_thread: int | None = None
    per_category: int | None = None


# Tried in turn until the digest fits HTML_BUDGET.
COMPACT_STEPS = [Compact(), Compact(600, 10), Compact(300, 5), Compact(200, 3, 20), Compact(120, 1, 10),
                 Compact(80, 1, 5)]


def zone_named(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or settings.TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):  # an unknown name in old data: the site's zone, not a crash
        return ZoneInfo(settings.TIME_ZONE)


def due_period(kind: str, local_now: datetime) -> date | None:
    """The period whose digest of `kind` may go out at `local_now` (a member's local time), None before the hour."""
    today = local_now.date()
    if kind == Kind.DAILY:
        return today if local_now.hour >= settings.DIGEST_HOUR else None
    day = today - timedelta(days=(today.weekday() - settings.DIGEST_WEEKDAY) % 7)
    if day == today and local_now.hour < settings.DIGEST_HOUR:
        day -= PERIOD[Kind.WEEKLY]
    return day


class Calendar:
    """The webinars and e-consultations coming up, read once per run (and only if a digest goes out)."""

    def __init__(self, now: datetime):
        self.now = now

    @cached_property
    def webinars(self):
        return selectors.upcoming_events(self.now, self.now + CALENDAR_AHEAD)

    def entries(self, zone: ZoneInfo) -> list[dict]:
        """What the top of a digest lists, soonest first, with times in the reader's zone."""
        entries = []
        for webinar in self.webinars:
            if self.now <= webinar.starts_at <= self.now + CALENDAR_AHEAD:
                entries.append({"at": webinar.starts_at, "kind": "Webinar", "title": webinar.title,
                                "when": when(webinar.starts_at, zone),
                                "url": absolute_url(reverse("webinar", args=[webinar.id]))})
            econsultation = getattr(webinar, "econsultation", None)
            if econsultation and econsultation.live_ends_at >= self.now:
                live = econsultation.live_starts_at <= self.now
                entries.append({
                    "at": econsultation.live_starts_at, "kind": "E-consultation", "title": webinar.title,
                    "when": f"live now, until {when(econsultation.live_ends_at, zone)}" if live
                    else f"live {when(econsultation.live_starts_at, zone)}; send your questions now",
                    "url": absolute_url(econsultation.thread.get_absolute_url()),
                })
        return sorted(entries, key=lambda entry: entry["at"])[:CALENDAR_SIZE]


def when(moment: datetime, zone: ZoneInfo) -> str:
    local = timezone.localtime(moment, zone)
    return f"{date_format(local, 'D j M, g:i a')} {local.tzname()}"


def send_due_digests(now: datetime | None = None) -> int:
    """Send every digest due at `now`; returns how many emails went out."""
    now = now or timezone.now()
    zones = {name: zone_named(name) for name in selectors.member_time_zones()}
    calendar = Calendar(now)
    sent = 0
    for kind in Kind:
        periods = {name: period for name, zone in zones.items()
                   if (period := due_period(kind, now.astimezone(zone))) is not None}
        if not periods:
            continue
        members = list(selectors.due_digest_members(kind, periods))
        for start in range(0, len(members), BATCH_SIZE):
            sent += send_digest_batch(kind, members[start:start + BATCH_SIZE], now, calendar, zones)
    return sent


def digest_start(kind: str, member: Member, end: datetime) -> datetime:
    """Where this member's digest of `kind` begins (see the module docstring)."""
    if member.last_period is not None and member.last_period >= member.period - PERIOD[kind]:
        start = member.last_covered_until
    elif member.latest_covered_until is not None:
        start = member.latest_covered_until
    else:
        start = end - PERIOD[kind]
        if member.joined_at:
            start = max(start, member.joined_at)
    return max(start, end - BACKLOG[kind])


def send_digest_batch(kind: str, members: list[Member], now: datetime, calendar: Calendar,
                      zones: dict[str, ZoneInfo]) -> int:
    if not members:
        return 0
    end = now - SETTLING
    starts = {member.id: digest_start(kind, member, end) for member in members}
    posts = selectors.digest_posts(kind, [member.id for member in members], min(starts.values()), end)
    # Only the weekly digest lists new resources: the issue asks for them there, where a member looks over the
    # week; the daily digest stays about the conversation.
    resources = selectors.new_resources(min(starts.values()), end) if kind == Kind.WEEKLY else []
    try:
        with transaction.atomic():
            claims = DigestLog.objects.bulk_create([
                DigestLog(member=member, kind=kind, period=member.period, covered_until=starts[member.id])
                for member in members
            ])
    except IntegrityError:
        # Another run claimed some of these members at the same moment and sends them; the rest of the
        # batch is picked up by the next run.
        return 0
    news = {member.id: [post for post in posts
                        if member.id in post.digest_recipients and post.created_at > starts[member.id]]
            for member in members}
    new_in_library = {member.id: [resource for resource in resources if resource.approved_at > starts[member.id]]
                      for member in members}
    messages = compose_digests(kind, [member for member in members if news[member.id] or new_in_library[member.id]],
                               news, new_in_library, calendar, zones)
    try:
        failed = send_each(messages)
    except Exception:
        DigestLog.objects.filter(pk__in=[claim.pk for claim in claims]).delete()
        raise
    done = [claim for claim in claims if claim.member_id not in failed]
    for claim in done:
        claim.covered_until = end
        claim.post_count = len(news[claim.member_id])
    DigestLog.objects.bulk_update(done, ["covered_until", "post_count"])
    if failed:
        DigestLog.objects.filter(pk__in=[claim.pk for claim in claims if claim.member_id in failed]).delete()
    return len(messages) - len(failed)


def send_each(messages: dict[int, EmailMultiAlternatives]) -> set[int]:
    """Send over one connection; returns the ids of members whose digest did not go out."""
    failed = set()
    if not messages:
        return failed
    with get_connection() as connection:
        for member_id, message in messages.items():
            try:
                connection.send_messages([message])
            except Exception as error:
                pause_if_address_refused(member_id, message.to[0], error)  # the next run leaves them out
                logger.exception("Digest for member %s not sent; the next run retries it", member_id)
                failed.add(member_id)
    return failed


def compose_digests(kind: str, members: list[Member], news: dict[int, list[Post]],
                    new_in_library: dict[int, list[Resource]], calendar: Calendar,
                    zones: dict[str, ZoneInfo]) -> dict[int, EmailMultiAlternatives]:
    stencils: dict[tuple, Stencil] = {}
    messages = {}
    for member in members:
        posts, resources = news[member.id], new_in_library[member.id]
        zone = zones.get(member.time_zone) or zone_named(member.time_zone)
        key = (member.period, zone.key, tuple(post.id for post in posts), tuple(resource.id for resource in resources))
        if key not in stencils:
            stencils[key] = render_digest(kind, posts, zone, calendar.entries(zone), resources)
        generation = token_generation(member)
        token = unsubscribe_token(member)
        values = {"full_name": member.full_name, "unsubscribe_url": unsubscribe_url(token)}
        values.update({f"reply_{post.id}": make_reply_address(post_id=post.id, member_id=member.id,
                                                               generation=generation) for post in posts})
        text, html = stencils[key].fill(values)
        messages[member.id] = list_message(
            member=member, from_header=formataddr((settings.LIST_NAME, settings.LIST_ADDRESS)),
            subject=digest_subject(kind, len(posts), member.period, len(resources)), text=text, html=html,
            headers={
                "Message-ID": make_msgid(idstring=f"digest-{kind}", domain=settings.LIST_DOMAIN),
                **list_headers(absolute_url("/"), values["unsubscribe_url"], token),
            },
        )
    return messages


def digest_subject(kind: str, count: int, period: date, resource_count: int) -> str:
    when = date_format(period, "l j F") if kind == Kind.DAILY else f"week of {date_format(period, 'j F')}"
    news = [f"{count} new message{'s' if count != 1 else ''}"] if count or not resource_count else []
    if resource_count:
        news.append(f"{resource_count} new resource{'s' if resource_count != 1 else ''}")
    return f"[{settings.LIST_NAME}] {Kind(kind).label} digest, {when}: {', '.join(news)}"


def render_digest(kind: str, posts: list[Post], zone: ZoneInfo, calendar: list[dict],
                  resources: list[Resource]) -> Stencil:
    """Posts grouped by category, then thread, in the order the selector returns them, dated in the reader's
    zone, shortened step by step (COMPACT_STEPS) until the HTML fits HTML_BUDGET; new resources (weekly) listed
    after the calendar, one line each, whatever the step."""
    stencil = Stencil(["full_name", "unsubscribe_url", *(f"reply_{post.id}" for post in posts)])
    resource_items = [resource_item(resource) for resource in resources]
    for compact in COMPACT_STEPS:
        with timezone.override(zone):
            stencil.render("mailer/email/digest", {
                "kind": Kind(kind).label.lower(), "sections": sections(posts, compact, stencil), "compact": compact,
                "post_count": len(posts), "calendar": calendar, "slot": stencil.marks,
                "resources": resource_items,
                "list_name": settings.LIST_NAME, "site_url": settings.SITE_URL, **footer_links(),
            })
        if len(stencil.html.encode()) <= HTML_BUDGET:
            break
    else:
        logger.warning("A %s digest of %s posts is still %s bytes of HTML at its shortest", kind, len(posts),
                       len(stencil.html.encode()))
    return stencil


def sections(posts: list[Post], compact: Compact, stencil: Stencil) -> list[dict]:
    result = []
    for category, category_posts in groupby(posts, key=lambda post: post.thread.category):
        threads = [thread_section(thread, list(thread_posts), compact, stencil)
                   for thread, thread_posts in groupby(category_posts, key=lambda post: post.thread)]
        shown = threads[:compact.per_category] if compact.per_category else threads
        result.append({
            "category": category, "threads": shown, "more_threads": len(threads) - len(shown),
            "more_posts": sum(thread["count"] for thread in threads[len(shown):]),
            "url": absolute_url(category.get_absolute_url()),
        })
    return result


def thread_section(thread, posts: list[Post], compact: Compact, stencil: Stencil) -> dict:
    shown = posts[:compact.per_thread] if compact.per_thread else posts
    return {
        "thread": thread, "url": absolute_url(thread.get_absolute_url()), "count": len(posts),
        "more": len(posts) - len(shown), "reply_subject": f"Re: [{settings.LIST_NAME}] {thread.title}",
        "items": [digest_item(post, compact, stencil) for post in shown],
    }


def digest_item(post: Post, compact: Compact, stencil: Stencil) -> dict:
    item = {"post": post, "url": absolute_url(post.get_absolute_url()), "byline": byline(post),
            "reply_address": stencil.marks[f"reply_{post.id}"], "web_only": post.thread.category.web_only}
    if item["web_only"]:  # title, author and link only (the reply address still works)
        return item
    # Excerpts leave noted parts out (named by their notes); a post's own note comes first, before a clear break.
    return {
        **item, "attachments": attachment_links(post), "text": post_text(post),
        "note_break": note_break(post.content_note) if post.content_note else "",
        "excerpt": excerpt(html.unescape(strip_tags(html_without_noted_parts(post.html))), compact.excerpt),
        "text_excerpt": excerpt(text_without_noted_parts(post.body), compact.excerpt),
    }


def resource_item(resource: Resource) -> dict:
    description = " ".join(html.unescape(strip_tags(resource.description_html)).split())
    return {"title": resource.title, "url": absolute_url(resource.get_absolute_url()),
            "topics": ", ".join(resource.topic_names), "excerpt": excerpt(description, RESOURCE_EXCERPT)}


def excerpt(text: str, length: int | None) -> str:
    return Truncator(text).chars(length) if length else ""
