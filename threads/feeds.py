"""Calendar files and private feeds.

Feed readers and calendar apps cannot sign in, so a member's feeds live at URLs holding an unguessable,
revocable token. The token only says whose feed it is: what it shows still goes through community.access, so
a suspended or lapsed member's feed stops working and a feed never shows what its member could not read.
"""

import secrets
from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.db import transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from icalendar import Calendar, Event

from community.access import member_of
from community.models import Member

from .models import FeedToken, Thread, Webinar
from .selectors import readable_categories
from .webinars import econsultation_of

DEFAULT_WEBINAR_LENGTH = timedelta(hours=1)
NEWS_ITEMS = 50


# --- Tokens -----------------------------------------------------------------------------------------------------

def active_tokens(member: Member) -> dict[str, FeedToken]:
    return {token.kind: token for token in member.feed_tokens.filter(revoked_at__isnull=True)}


@transaction.atomic
def issue_token(member: Member, kind: str) -> FeedToken:
    """A new token for this feed; any earlier one stops working."""
    revoke_token(member, kind)
    return FeedToken.objects.create(member=member, kind=kind, token=secrets.token_urlsafe(32))


def ensure_tokens(member: Member) -> dict[str, FeedToken]:
    tokens = active_tokens(member)
    for kind in FeedToken.Kind.values:
        if kind not in tokens:
            tokens[kind] = issue_token(member, kind)
    return tokens


def revoke_token(member: Member, kind: str) -> None:
    member.feed_tokens.filter(kind=kind, revoked_at__isnull=True).update(revoked_at=timezone.now())


def member_for_token(token: str, kind: str) -> Member:
    """The active member this feed belongs to; 404 for an unknown or revoked token or a member no longer active."""
    row = (FeedToken.objects.select_related("member__user")
           .filter(token=token, kind=kind, revoked_at__isnull=True).first())
    member = member_of(row.member.user) if row else None
    if member is None:
        raise Http404
    return member


def feed_url(token: FeedToken) -> str:
    name = "calendar_feed" if token.kind == FeedToken.Kind.CALENDAR else "threads_feed"
    return f"{settings.SITE_URL}{reverse(name, args=[token.token])}"


# --- iCalendar --------------------------------------------------------------------------------------------------

def calendar(webinars, *, name: str) -> bytes:
    """An iCalendar file: each webinar, and each e-consultation's live window as an event of its own."""
    cal = Calendar()
    cal.add("prodid", f"-//{settings.LIST_NAME}//Events//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", name)
    stamp = timezone.now().astimezone(UTC)
    for webinar in webinars:
        cal.add_component(_webinar_event(webinar, stamp))
        econsultation = econsultation_of(webinar)
        if econsultation is not None:
            cal.add_component(_econsultation_event(webinar, econsultation, stamp))
    cal.add_missing_timezones()
    return cal.to_ical()


def _event(*, uid: str, stamp, start, end, summary: str, description: str, url: str) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", summary)
    event.add("description", description)
    event.add("url", url)
    return event


def _webinar_event(webinar: Webinar, stamp) -> Event:
    zone = _zone(webinar)
    start = timezone.localtime(webinar.starts_at, zone)
    end = timezone.localtime(webinar.ends_at or webinar.starts_at + DEFAULT_WEBINAR_LENGTH, zone)
    lines = [webinar.summary]
    if webinar.registration_url:
        lines.append(f"Register: {webinar.registration_url}")
    if webinar.recording_url:
        lines.append(f"Recording: {webinar.recording_url}")
    return _event(
        uid=f"webinar-{webinar.pk}@{settings.LIST_DOMAIN}", stamp=stamp, start=start, end=end,
        summary=f"Webinar: {webinar.title}", description="\n\n".join(line for line in lines if line),
        url=_page_url(webinar),
    )


def _econsultation_event(webinar: Webinar, econsultation, stamp) -> Event:
    zone = _zone(webinar)
    return _event(
        uid=f"econsultation-{econsultation.pk}@{settings.LIST_DOMAIN}", stamp=stamp,
        start=timezone.localtime(econsultation.live_starts_at, zone),
        end=timezone.localtime(econsultation.live_ends_at, zone),
        summary=f"E-consultation (live): {webinar.title}",
        description=f"Bring your questions for the presenters of “{webinar.title}”. "
                    f"Discussion: {settings.SITE_URL}{econsultation.thread.get_absolute_url()}",
        url=_page_url(webinar),
    )


def _zone(webinar: Webinar) -> ZoneInfo:
    return ZoneInfo(webinar.time_zone)


def _page_url(webinar: Webinar) -> str:
    return f"{settings.SITE_URL}{reverse('webinar', args=[webinar.pk])}"


# --- Atom: new threads ------------------------------------------------------------------------------------------

class NewThreadsFeed(Feed):
    """Titles and links only: feeds end up in third-party readers, so no post bodies and no names."""

    feed_type = Atom1Feed
    title = f"{settings.LIST_NAME}: new threads"
    subtitle = "New discussions you can read on HealTalk. Open a link and sign in to read them."

    def get_object(self, request, token):
        return member_for_token(token, FeedToken.Kind.NEWS)

    def link(self):
        return reverse("home")

    def items(self, member):
        # Feed readers are not the author's own eyes: a thread waiting for a moderator is left out for everyone.
        return (Thread.objects.filter(category__in=readable_categories(member.user).values("pk"), held_at__isnull=True)
                .select_related("category").defer("search_vector").order_by("-created_at", "-id")[:NEWS_ITEMS])

    def item_title(self, thread):
        return thread.title

    def item_description(self, thread):
        return None

    def item_pubdate(self, thread):
        return thread.created_at

    def item_categories(self, thread):
        return [thread.category.name]
