"""How a member gets list mail: their mode, time zone and per-category choices (the mail settings page), and the
same changed from a signed link that needs no login."""

import calendar
import zoneinfo
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import F

from community.models import Member
from threads.models import Category, Subscription
from threads.reading import member_subscriptions, set_subscription
from threads.selectors import readable_categories

from .models import MailPreference
from .tokens import InvalidToken, read_unsubscribe_token

# The site's members are mostly in the United States: their zones come first, by the names people use.
US_TIME_ZONES = [
    ("America/New_York", "Eastern time (New York)"),
    ("America/Chicago", "Central time (Chicago)"),
    ("America/Denver", "Mountain time (Denver)"),
    ("America/Phoenix", "Arizona (Phoenix, no daylight saving)"),
    ("America/Los_Angeles", "Pacific time (Los Angeles)"),
    ("America/Anchorage", "Alaska (Anchorage)"),
    ("Pacific/Honolulu", "Hawaii (Honolulu)"),
    ("America/Puerto_Rico", "Puerto Rico"),
]
_REGIONS = ("Africa/", "America/", "Antarctica/", "Asia/", "Atlantic/", "Australia/", "Europe/", "Indian/",
            "Pacific/")
OTHER_TIME_ZONES = sorted(
    zone for zone in zoneinfo.available_timezones()
    if zone.startswith(_REGIONS) and zone not in dict(US_TIME_ZONES)
)


def time_zone_choices() -> list:
    """For a select: the site's own zone (""), the US zones, then every other IANA zone by region/city."""
    return [
        ("", f"Same as the site: {dict(US_TIME_ZONES).get(settings.TIME_ZONE, settings.TIME_ZONE)}"),
        ("United States", US_TIME_ZONES),
        ("Everywhere else", [(zone, zone.replace("_", " ")) for zone in OTHER_TIME_ZONES]),
    ]


def member_for_unsubscribe_token(token: str) -> Member:
    """The member a link or List-Unsubscribe token was issued to; raises InvalidToken once revoked."""
    member_id, generation = read_unsubscribe_token(token)
    member = Member.objects.select_related("mail_preference").filter(pk=member_id).first()
    preference = getattr(member, "mail_preference", None) if member else None
    if member is None or (preference.token_generation if preference else 0) != generation:
        raise InvalidToken("This unsubscribe link has been withdrawn. Use the link in a more recent email.")
    return member


def current_token_generation(member_id: int) -> int | None:
    """The generation signed into the member's addresses (mailer.tokens); None when there is no such member."""
    row = Member.objects.filter(pk=member_id).values_list("pk", "mail_preference__token_generation").first()
    return None if row is None else row[1] or 0


def withdraw_mail_links(member: Member) -> None:
    """Every reply address, unsubscribe link and bounce address sent to the member so far stops working (their
    MAC is signed with the generation): for list mail forwarded to someone who should not answer as them. Mail
    sent from now on carries new ones."""
    preference, _ = MailPreference.objects.get_or_create(member=member)
    MailPreference.objects.filter(pk=preference.pk).update(token_generation=F("token_generation") + 1)


def set_mail_mode(member: Member, mode: str) -> MailPreference:
    preference, _ = MailPreference.objects.update_or_create(member=member, defaults={"mode": mode})
    return preference


# The mail settings page


@dataclass(frozen=True)
class DigestTimes:
    """When digests arrive for this member, for the examples on the settings page."""

    time_zone: str
    hour: str  # "7 am"
    weekday: str  # "Monday"


def digest_times(member: Member) -> DigestTimes:
    zone = member.time_zone or settings.TIME_ZONE
    hour = f"{settings.DIGEST_HOUR % 12 or 12} {'am' if settings.DIGEST_HOUR < 12 else 'pm'}"
    return DigestTimes(time_zone=dict(US_TIME_ZONES).get(zone, zone.replace("_", " ")), hour=hour,
                       weekday=calendar.day_name[settings.DIGEST_WEEKDAY])


@dataclass(frozen=True)
class MailSettings:
    mode: str
    time_zone: str
    categories: list[Category]  # every category the member can read, each with `.level` ("" = their mode)
    threads: list[Subscription]  # threads set one by one, with thread and category
    paused_at: datetime | None
    pause_reason: str


def settings_for(member: Member) -> MailSettings:
    """Everything the settings page shows, in three queries (preference, categories, choices)."""
    preference = MailPreference.objects.filter(member=member).first() or MailPreference(member=member)
    chosen = member_subscriptions(member)
    categories = list(readable_categories(member.user))
    for category in categories:
        category.level = chosen.category_levels.get(category.id, "")
    return MailSettings(
        mode=preference.mode, time_zone=member.time_zone, categories=categories, threads=chosen.threads,
        paused_at=preference.delivery_paused_at, pause_reason=preference.delivery_pause_reason,
    )


@transaction.atomic
def save_mail_settings(member: Member, *, mode: str, time_zone: str, category_levels: dict[Category, str]) -> None:
    """The member's mode and time zone, and a level for each category ("" = follow the mode); only the choices
    that changed are written."""
    set_mail_mode(member, mode)
    if time_zone != member.time_zone:
        member.time_zone = time_zone
        member.save(update_fields=["time_zone"])
    current = member_subscriptions(member).category_levels
    for category, level in category_levels.items():
        if level != current.get(category.id, ""):
            set_subscription(member, level=level, category=category)
