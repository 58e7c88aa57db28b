"""Per-member reply addresses and unsubscribe tokens.

A reply address must survive mail systems that lowercase or length-limit the local part (64 octets),
so it is built from lowercase base36 ids, the day it was issued, and 128 bits of HMAC-SHA256 in base32:
reply-<post>-<member>-<day>-<mac>@LIST_DOMAIN, 40–50 characters.
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
_EPOCH = date(2020, 1, 1)
UNSUBSCRIBE_SALT = "healtalk.unsubscribe"


class InvalidToken(Exception):
    """The reply address is forged, expired, revoked or not ours; str() says which in plain words."""


@dataclass(frozen=True)
class ReplyTarget:
    post_id: int
    member_id: int


def _b36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rem = divmod(number, 36)
        out = digits[rem] + out
        if not number:
            return out


def _mac(post_id: int, member_id: int, day: int, generation: int) -> str:
    message = f"reply:{post_id}:{member_id}:{day}:{generation}".encode()
    digest = hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).digest()[:16]
    return base64.b32encode(digest).decode().rstrip("=").lower()


def _today_number() -> int:
    return (timezone.now().date() - _EPOCH).days


def make_reply_address(*, post_id: int, member_id: int, generation: int) -> str:
    day = _today_number()
    mac = _mac(post_id, member_id, day, generation)
    return f"{REPLY_PREFIX}{_b36(post_id)}-{_b36(member_id)}-{_b36(day)}-{mac}@{settings.LIST_DOMAIN}"


def is_reply_address(address: str) -> bool:
    return address.lower().startswith(REPLY_PREFIX)


def parse_reply_address(address: str, generation_of) -> ReplyTarget:
    """Check a reply address; `generation_of(member_id)` gives the member's current token generation
    (None when there is no such member)."""
    local, _, domain = address.strip().lower().partition("@")
    if domain != settings.LIST_DOMAIN.lower() or not local.startswith(REPLY_PREFIX):
        raise InvalidToken("This address is not one of our reply addresses.")
    try:
        post_part, member_part, day_part, mac = local[len(REPLY_PREFIX):].split("-")
        post_id, member_id, day = int(post_part, 36), int(member_part, 36), int(day_part, 36)
    except ValueError:
        raise InvalidToken("This reply address is damaged.") from None
    generation = generation_of(member_id)
    if generation is None or not hmac.compare_digest(mac, _mac(post_id, member_id, day, generation)):
        raise InvalidToken("This reply address is not valid: it may have been altered or withdrawn.")
    if _EPOCH + timedelta(days=day + settings.REPLY_TOKEN_MAX_AGE_DAYS) < timezone.now().date():
        raise InvalidToken("This reply address has expired.")
    return ReplyTarget(post_id=post_id, member_id=member_id)


def make_unsubscribe_token(*, member_id: int, generation: int) -> str:
    return signing.dumps({"m": member_id, "g": generation}, salt=UNSUBSCRIBE_SALT, compress=True)


def read_unsubscribe_token(token: str) -> tuple[int, int]:
    """Returns (member_id, generation); raises InvalidToken."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        raise InvalidToken("This unsubscribe link is not valid.") from None
    return data["m"], data["g"]
