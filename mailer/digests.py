"""Daily digests: once a day, after DIGEST_HOUR local time, the posts a member has not had by digest yet.

One query finds the members due; then, per batch of members, one query fetches every post any of them
needs, one claims the day for all of them and one records what was sent. Members who would get the same
posts share one rendering; only the greeting, reply addresses and unsubscribe link differ.

Never twice, never lost. A member's day is claimed by inserting DigestLog(member, today) *before*
sending, in its own committed transaction: the unique (member, period) row makes a concurrent or
repeated run skip that member. The claim keeps the old `covered_until`, which moves to the send time
only once the digest has been handed to the mail server; a digest that fails to send has its claim
deleted, so the next run (every 15 minutes) retries it. If the process dies between claiming and
sending, today's digest is skipped but its posts are not lost: `covered_until` did not move, so
tomorrow's digest includes them.
"""

import logging
from datetime import datetime, timedelta
from email.utils import formataddr, make_msgid
from itertools import groupby

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format

from community.models import Member
from threads.models import Post

from . import selectors
from .models import DigestLog
from .outbound import (
    Stencil,
    absolute_url,
    list_headers,
    token_generation,
    unsubscribe_token,
    unsubscribe_url,
)
from .tokens import make_reply_address

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
FIRST_DIGEST_LOOKBACK = timedelta(hours=24)


def send_due_digests(now: datetime | None = None) -> int:
    """Send every digest due at `now`; returns how many emails went out."""
    now = now or timezone.now()
    local_now = timezone.localtime(now)
    if local_now.hour < settings.DIGEST_HOUR:
        return 0
    today = local_now.date()
    members = list(selectors.due_digest_members(today))
    return sum(send_digest_batch(members[start:start + BATCH_SIZE], today, now)
               for start in range(0, len(members), BATCH_SIZE))


def digest_start(member: Member, now: datetime) -> datetime:
    if member.previous_covered_until is not None:
        return member.previous_covered_until
    # A first digest starts at most a day back: a member who just switched from "each message" or
    # "no email" wants what is new, not the archive.
    start = now - FIRST_DIGEST_LOOKBACK
    return max(start, member.joined_at) if member.joined_at else start


def send_digest_batch(members: list[Member], today, now: datetime) -> int:
    if not members:
        return 0
    starts = {member.id: digest_start(member, now) for member in members}
    posts = selectors.posts_between(min(starts.values()), now)
    try:
        with transaction.atomic():
            claims = DigestLog.objects.bulk_create([
                DigestLog(member=member, period=today, covered_until=starts[member.id])
                for member in members
            ])
    except IntegrityError:
        # Another run claimed some of these members at the same moment and sends them; the rest of the
        # batch is picked up by the next run.
        return 0
    news = {member.id: [post for post in posts if post.created_at > starts[member.id]
                        and post.author_id != member.id and not subscribed(member, post)] for member in members}
    messages = compose_digests([member for member in members if news[member.id]], news, today)
    try:
        failed = send_each(messages)
    except Exception:
        DigestLog.objects.filter(pk__in=[claim.pk for claim in claims]).delete()
        raise
    done = [claim for claim in claims if claim.member_id not in failed]
    for claim in done:
        claim.covered_until = now
        claim.post_count = len(news[claim.member_id])
    DigestLog.objects.bulk_update(done, ["covered_until", "post_count"])
    if failed:
        DigestLog.objects.filter(pk__in=[claim.pk for claim in claims if claim.member_id in failed]).delete()
    return len(messages) - len(failed)


def subscribed(member: Member, post: Post) -> bool:
    """A post in a thread or category the member watches was emailed as it was posted; in one they muted, they
    want none: either way it stays out of the digest."""
    return any(subscription["thread"] == post.thread_id or subscription["category"] == post.thread.category_id
               for subscription in member.subscribed_to)


def send_each(messages: dict[int, EmailMultiAlternatives]) -> set[int]:
    """Send over one connection; returns the ids of members whose digest did not go out."""
    failed = set()
    if not messages:
        return failed
    with get_connection() as connection:
        for member_id, message in messages.items():
            try:
                connection.send_messages([message])
            except Exception:
                logger.exception("Digest for member %s not sent; the next run retries it", member_id)
                failed.add(member_id)
    return failed


def compose_digests(members: list[Member], news: dict[int, list[Post]], today) -> dict[int, EmailMultiAlternatives]:
    stencils: dict[tuple[int, ...], Stencil] = {}
    messages = {}
    for member in members:
        posts = news[member.id]
        key = tuple(post.id for post in posts)
        if key not in stencils:
            stencils[key] = render_digest(posts)
        stencil = stencils[key]
        generation = token_generation(member)
        token = unsubscribe_token(member)
        values = {"full_name": member.full_name, "unsubscribe_url": unsubscribe_url(token)}
        values.update({f"reply_{post.id}": make_reply_address(post_id=post.id, member_id=member.id,
                                                               generation=generation) for post in posts})
        text, html = stencil.fill(values)
        message = EmailMultiAlternatives(
            subject=digest_subject(len(posts), today),
            body=text,
            from_email=formataddr((settings.LIST_NAME, settings.LIST_ADDRESS)),
            to=[member.email],
            headers={
                "Message-ID": make_msgid(domain=settings.LIST_DOMAIN),
                **list_headers(absolute_url("/"), values["unsubscribe_url"], token),
            },
        )
        message.attach_alternative(html, "text/html")
        messages[member.id] = message
    return messages


def digest_subject(count: int, today) -> str:
    return (f"[{settings.LIST_NAME}] Daily digest, {date_format(today, 'l j F')}: "
            f"{count} new message{'s' if count != 1 else ''}")


def render_digest(posts: list[Post]) -> Stencil:
    """Posts grouped by category, then thread, in the order the selector returns them."""
    stencil = Stencil(["full_name", "unsubscribe_url", *(f"reply_{post.id}" for post in posts)])
    sections = []
    for category, category_posts in groupby(posts, key=lambda post: post.thread.category):
        threads = []
        for thread, thread_posts in groupby(category_posts, key=lambda post: post.thread):
            items = [{"post": post, "url": absolute_url(post.get_absolute_url()),
                      "reply_address": stencil.marks[f"reply_{post.id}"]} for post in thread_posts]
            threads.append({"thread": thread, "url": absolute_url(thread.get_absolute_url()), "items": items,
                            "reply_subject": f"Re: [{settings.LIST_NAME}] {thread.title}"})
        sections.append({"category": category, "threads": threads})
    return stencil.render("mailer/email/digest", {
        "sections": sections, "post_count": len(posts), "slot": stencil.marks, "list_name": settings.LIST_NAME,
        "site_url": settings.SITE_URL,
    })
