"""Signed addresses (replies, moderation by email, bounces) and unsubscribe tokens.

An address must survive mail systems that lowercase or length-limit the local part (64 octets), so it is
built from a prefix, lowercase base36 ids, the day it was issued, and 128 bits of HMAC-SHA256 in base32:

    reply-<post>-<member>-<day>-<mac>@LIST_DOMAIN            a member's answer to one post (40–50 characters)
    moderate-<a|p><object>-<member>-<day>-<mac>@LIST_DOMAIN  a moderator's "approve" to an application or a
                                                             held post
    bounces-<member>-<day>-<mac>@LIST_DOMAIN                 the envelope sender of list mail: a bounce
                                                             names the member it was sent to

Every address carries the member's token generation in its MAC, so bumping the generation revokes them all.
"""

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.core import signing
from django.utils import timezone

REPLY_PREFIX = "reply-"
MODERATION_PREFIX = "moderate-"
BOUNCE_PREFIX = "bounces-"
_EPOCH = date(2020, 1, 1)
UNSUBSCRIBE_SALT = "healtalk.unsubscribe"
MODERATION_KINDS = {"a": "application", "p": "post"}


class InvalidToken(Exception):
    """The address is forged, expired, revoked or not ours; str() says which in plain words."""


@dataclass(frozen=True)
class ReplyTarget:
    post_id: int
    member_id: int


@dataclass(frozen=True)
class ModerationTarget:
    kind: str  # "application" or "post"
    object_id: int
    member_id: int  # the moderator the notification was sent to


def _b36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rem = divmod(number, 36)
        out = digits[rem] + out
        if not number:
            return out


def _mac(purpose: str, numbers: tuple[int, ...], generation: int) -> str:
    message = ":".join([purpose, *map(str, numbers), str(generation)]).encode()
    digest = hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).digest()[:16]
    return base64.b32encode(digest).decode().rstrip("=").lower()


def _today_number() -> int:
    return (timezone.now().date() - _EPOCH).days


def _make(prefix: str, purpose: str, numbers: tuple[int, ...], generation: int, kind: str = "") -> str:
    """numbers end with the member id; the day is added, and everything is signed with the generation."""
    numbers = (*numbers, _today_number())
    fields = [_b36(number) for number in numbers]
    fields[0] = kind + fields[0]
    return f"{prefix}{'-'.join([*fields, _mac(purpose + kind, numbers, generation)])}@{settings.LIST_DOMAIN}"


def _parse(address: str, prefix: str, purpose: str, count: int, generation_of, what: str,
           kinds: str = "") -> tuple[str, tuple[int, ...]]:
    """The kind letter and the numbers (member id last, day dropped) of a signed address; raises InvalidToken.
    `generation_of(member_id)` gives the member's current token generation (None when there is no such member)."""
    local, _, domain = address.strip().lower().partition("@")
    if domain != settings.LIST_DOMAIN.lower() or not local.startswith(prefix):
        raise InvalidToken(f"This address is not one of our {what}es.")
    *fields, mac = local[len(prefix):].split("-")
    kind = fields[0][:1] if kinds and fields and fields[0] else ""
    if kinds and kind not in kinds:
        raise InvalidToken(f"This {what} is damaged.")
    try:
        fields[0] = fields[0][len(kind):]
        numbers = tuple(int(field, 36) for field in fields)
    except (ValueError, IndexError):
        raise InvalidToken(f"This {what} is damaged.") from None
    if len(numbers) != count + 1:
        raise InvalidToken(f"This {what} is damaged.")
    generation = generation_of(numbers[-2])
    if generation is None or not hmac.compare_digest(mac, _mac(purpose + kind, numbers, generation)):
        raise InvalidToken(f"This {what} is not valid: it may have been altered or withdrawn.")
    if _EPOCH + timedelta(days=numbers[-1] + settings.REPLY_TOKEN_MAX_AGE_DAYS) < timezone.now().date():
        raise InvalidToken(f"This {what} has expired.")
    return kind, numbers[:-1]


def make_reply_address(*, post_id: int, member_id: int, generation: int) -> str:
    return _make(REPLY_PREFIX, "reply", (post_id, member_id), generation)


def is_reply_address(address: str) -> bool:
    return address.lower().startswith(REPLY_PREFIX)


def parse_reply_address(address: str, generation_of) -> ReplyTarget:
    _, (post_id, member_id) = _parse(address, REPLY_PREFIX, "reply", 2, generation_of, "reply address")
    return ReplyTarget(post_id=post_id, member_id=member_id)


def make_moderation_address(*, kind: str, object_id: int, member_id: int, generation: int) -> str:
    """Where a moderator answers "approve" to the notice about an application or a held post."""
    letter = next(letter for letter, name in MODERATION_KINDS.items() if name == kind)
    return _make(MODERATION_PREFIX, "moderate", (object_id, member_id), generation, kind=letter)


def is_moderation_address(address: str) -> bool:
    return address.lower().startswith(MODERATION_PREFIX)


def parse_moderation_address(address: str, generation_of) -> ModerationTarget:
    letter, (object_id, member_id) = _parse(address, MODERATION_PREFIX, "moderate", 2, generation_of,
                                            "moderation address", kinds="".join(MODERATION_KINDS))
    return ModerationTarget(kind=MODERATION_KINDS[letter], object_id=object_id, member_id=member_id)


def make_bounce_address(*, member_id: int, generation: int) -> str:
    """The envelope sender (Return-Path) of list mail to one member (VERP): a bounce comes back to it."""
    return _make(BOUNCE_PREFIX, "bounce", (member_id,), generation)


def is_bounce_address(address: str) -> bool:
    return address.lower().startswith(BOUNCE_PREFIX)


def parse_bounce_address(address: str, generation_of) -> int:
    """The member a bounce is about."""
    _, (member_id,) = _parse(address, BOUNCE_PREFIX, "bounce", 1, generation_of, "bounce address")
    return member_id


def make_unsubscribe_token(*, member_id: int, generation: int) -> str:
    return signing.dumps({"m": member_id, "g": generation}, salt=UNSUBSCRIBE_SALT, compress=True)


def read_unsubscribe_token(token: str) -> tuple[int, int]:
    """Returns (member_id, generation); raises InvalidToken."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        raise InvalidToken("This unsubscribe link is not valid.") from None
    return data["m"], data["g"]
