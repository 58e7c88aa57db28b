"""Erasure, community's part: a departing member asks (request_erasure), a moderator declines with a reason
(decline_erasure) or carries it out. Carrying it out touches all three apps, so the one service that does it is
mailer.erasure.carry_out_erasure (only mailer may import the others); it calls erase_account here last, once no
post or message points at the account any more, and record_erasure to close the request.

What stays: the ErasureRequest row (that an erasure happened, and when), one AuditRecord "member_erased" with no
subject and no name, and older audit rows about the member, unlinked and with their name and addresses replaced.

Someone who can no longer sign in (they left, or a moderator removed them) asks through a signed link sent to one
of their addresses: receiving it there is what shows the request is theirs.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property, partial

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.sessions.backends.cached_db import KEY_PREFIX as SESSION_CACHE_PREFIX
from django.contrib.sessions.models import Session
from django.core import signing
from django.core.cache import cache, caches
from django.db import transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from .events import erasure_declined, erasure_link_requested, erasure_requested
from .live import close_live_connections_on_commit
from .membership import leave_community
from .models import AuditRecord, ErasureRequest, Member
from .services import ModerationError, _require_moderator

ERASED_NAME = "a former member"
ADDRESS_REMOVED = "[address removed]"
LINK_SALT = "healtalk.erasure.link"
LINK_MAX_AGE = timedelta(days=7)
# One link per address in this time, so the form cannot be used to fill someone's mailbox.
LINK_INTERVAL_SECONDS = 15 * 60


class ErasureError(ModerationError):
    """The request cannot be made or decided; the message says why in plain words."""


class InvalidErasureLink(Exception):
    """The link cannot be used; str() says why."""


# --- Taking a person out of text ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Redactor:
    """Replaces a person's full names, @mention handles (bare or with their member number) and email addresses in
    text. Only whole names: a first name alone stays, since it would also take out everyone else called Dana."""

    names: tuple[str, ...]
    addresses: tuple[str, ...]
    handles: tuple[str, ...] = ()
    member_id: int | None = None

    @cached_property
    def _pattern(self) -> re.Pattern:
        parts = []
        if self.handles:
            number = rf"(?:\.{self.member_id})?" if self.member_id else ""
            handles = "|".join(re.escape(handle) for handle in sorted(self.handles, key=len, reverse=True))
            # The same edges as threads.markdown.MENTION: "@dana.member.lee" is someone else's handle.
            parts.append(rf"(?P<mention>(?<![\w.@])@(?:{handles}){number}(?![\w]|[.-][a-z0-9]))")
        if self.addresses:
            addresses = "|".join(re.escape(address) for address in sorted(self.addresses, key=len, reverse=True))
            parts.append(rf"(?P<address>(?<![\w.+-])(?:{addresses})(?![\w-]|\.[a-z0-9]))")
        if self.names:
            names = "|".join(r"\s+".join(map(re.escape, name.split()))
                             for name in sorted(self.names, key=len, reverse=True))
            parts.append(rf"(?P<name>(?<!\w)(?:{names})(?!\w))")
        return re.compile("|".join(parts) or r"(?!)", re.IGNORECASE)

    def scrub(self, text: str, *, address: str = ADDRESS_REMOVED) -> str:
        def replace(match: re.Match) -> str:
            if match.lastgroup == "address":
                return address
            # "Dana Member wrote:" at the start of a (quoted) line reads "A former member wrote:".
            before = text[:match.start()].rstrip(" \t>")
            return ERASED_NAME.capitalize() if not before or before.endswith("\n") else ERASED_NAME

        return self._pattern.sub(replace, text) if text else text

    @property
    def terms(self) -> list[str]:
        return [*self.names, *self.addresses, *(f"@{handle}" for handle in self.handles)]

    def mentioned_in(self, field: str) -> Q:
        """Rows whose `field` may hold one of the terms (the database narrows down, scrub decides)."""
        query = Q()
        for term in self.terms:
            query |= Q(**{f"{field}__icontains": term})
        return query


def _ascii(name: str) -> str:
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()


def redactor_for(member: Member, *, handles=(), extra_names=()) -> Redactor:
    """Every name and address the member is known by here: their full name (also without accents, as mail clients
    often write it), other names the caller knows (the Google Group's), the addresses of their account and those
    they applied with. Two queries."""
    names = {name.strip() for name in (member.full_name, _ascii(member.full_name), *extra_names) if name.strip()}
    addresses = {member.user.email.lower()}
    addresses |= {email.lower() for email in EmailAddress.objects.filter(user_id=member.user_id)
                  .values_list("email", flat=True)}
    addresses |= {email.lower() for email in member.applications.values_list("work_email", flat=True) if email}
    return Redactor(names=tuple(sorted(names)), addresses=tuple(sorted(addresses)), handles=tuple(handles),
                    member_id=member.pk)


# --- Asking -----------------------------------------------------------------------------------------------------

def open_request(member: Member) -> ErasureRequest | None:
    return member.erasure_requests.filter(status=ErasureRequest.Status.REQUESTED).first()


def request_erasure(member: Member, *, note: str = "", now: datetime | None = None) -> ErasureRequest:
    """The member asks to be erased. Asking is also leaving: from now on they cannot sign in and get no mail, so
    nothing new is added while a moderator decides. Asking twice returns the request already waiting."""
    now = now or timezone.now()
    with transaction.atomic():
        member = Member.objects.select_for_update().select_related("user").get(pk=member.pk)
        if member.status == Member.Status.PLACEHOLDER:
            raise ErasureError("This is an author of the imported archive, not an account.")
        waiting = open_request(member)
        if waiting is not None:
            return waiting
        request = ErasureRequest.objects.create(member=member, note=note.strip(), requested_at=now)
        if member.status != Member.Status.DEPARTED:
            leave_community(member, now=now)
        AuditRecord.objects.create(actor=member, action="erasure_requested", subject=member, created_at=now)
        transaction.on_commit(partial(erasure_requested.send, ErasureRequest, erasure_request_id=request.pk))
    return request


def erasure_link_path(email_address: EmailAddress) -> str:
    token = signing.dumps({"a": email_address.pk, "u": email_address.user_id}, salt=LINK_SALT)
    return reverse("erasure_link", args=[token])


def offer_erasure_link(address: str) -> None:
    """Someone who cannot sign in asks to be erased: if the address is one of an account's, a link to ask goes to
    that address. The page says the same whatever the address, so it tells nobody who has an account."""
    email_address = (
        EmailAddress.objects.select_related("user__member").filter(email__iexact=address.strip()).first()
    )
    member = getattr(email_address.user, "member", None) if email_address else None
    if member is None or member.status == Member.Status.PLACEHOLDER:
        return
    if cache.add(f"erasure-link:{email_address.pk}", 1, timeout=LINK_INTERVAL_SECONDS):
        transaction.on_commit(partial(erasure_link_requested.send, Member, email_address_id=email_address.pk))


def member_for_erasure_link(token: str) -> Member:
    try:
        data = signing.loads(token, salt=LINK_SALT, max_age=LINK_MAX_AGE)
    except signing.SignatureExpired:
        raise InvalidErasureLink("This link has expired: it works for 7 days. Ask for a new one below.") from None
    except signing.BadSignature:
        raise InvalidErasureLink("This link is not valid. It may have been cut short when it was copied.") from None
    member = (Member.objects.select_related("user")
              .filter(user_id=data["u"], user__emailaddress__pk=data["a"])
              .exclude(status=Member.Status.PLACEHOLDER).first())
    if member is None:
        raise InvalidErasureLink("This link no longer applies: the account or address is gone.")
    return member


# --- Deciding ---------------------------------------------------------------------------------------------------

def _lock_open_request(request_id: int) -> ErasureRequest:
    request = (
        ErasureRequest.objects.select_for_update(of=("self",)).select_related("member__user")
        .filter(pk=request_id).first()
    )
    if request is None or request.status != ErasureRequest.Status.REQUESTED or request.member is None:
        raise ErasureError("This request has already been decided.")
    return request


def decline_erasure(request_id: int, moderator: Member, reason: str) -> ErasureRequest:
    """The member stays as they are (they left when they asked) and is told why by email."""
    _require_moderator(moderator)
    if not reason.strip():
        raise ErasureError("Give the member a reason: it is emailed to them.")
    with transaction.atomic():
        request = _lock_open_request(request_id)
        request.status = ErasureRequest.Status.DECLINED
        request.decided_at = timezone.now()
        request.decline_reason = reason.strip()
        request.save(update_fields=["status", "decided_at", "decline_reason"])
        AuditRecord.objects.create(actor=moderator, action="erasure_declined", subject=request.member,
                                   reason=request.decline_reason)
        transaction.on_commit(partial(erasure_declined.send, ErasureRequest, erasure_request_id=request.pk))
    return request


def lock_for_erasure(request_id: int, moderator: Member) -> ErasureRequest:
    """The request, locked, with its member; refused unless a moderator carries out a request still waiting for a
    member who has not come back (a moderator may have reactivated them since they asked)."""
    _require_moderator(moderator)
    request = _lock_open_request(request_id)
    member = Member.objects.select_for_update().select_related("user").get(pk=request.member_id)
    if member.is_active_member:
        raise ErasureError(f"{member} is an active member again: decline this request, or ask them first.")
    request.member = member
    return request


# --- Carrying it out: the account and what only community holds -------------------------------------------------

def _session_keys(user_id: int) -> list[str]:
    # Sessions are not indexed by user: each one is decoded. A few thousand take well under a second, and an
    # erasure is rare.
    user_id = str(user_id)
    return [
        session.session_key for session in Session.objects.only("session_key", "session_data").iterator()
        if session.get_decoded().get("_auth_user_id") == user_id
    ]


def _scrub_audit(member: Member, redactor: Redactor) -> int:
    rows = list(AuditRecord.objects.filter(
        Q(actor=member) | Q(subject=member) | redactor.mentioned_in("target") | redactor.mentioned_in("reason")
    ))
    for row in rows:
        # What a member wrote about themselves (their answer to a moderator's question) goes with them; what a
        # moderator wrote about them stays, without their name.
        own_words = row.actor_id == member.pk and row.subject_id == member.pk
        row.reason = "" if own_words else redactor.scrub(row.reason)
        row.target = redactor.scrub(row.target)
        row.actor_id = None if row.actor_id == member.pk else row.actor_id
        row.subject_id = None if row.subject_id == member.pk else row.subject_id
    AuditRecord.objects.bulk_update(rows, ["reason", "target", "actor", "subject"], batch_size=500)
    return len(rows)


def _scrub_admin_log(redactor: Redactor) -> None:
    # The Django admin's own history names the objects it changed ("Dana Member").
    entries = list(LogEntry.objects.filter(redactor.mentioned_in("object_repr")
                                           | redactor.mentioned_in("change_message")))
    for entry in entries:
        entry.object_repr = redactor.scrub(entry.object_repr)[:200]
        entry.change_message = redactor.scrub(entry.change_message)
    LogEntry.objects.bulk_update(entries, ["object_repr", "change_message"], batch_size=500)


def erase_account(member: Member, redactor: Redactor) -> tuple[dict[str, int], dict[str, int]]:
    """The account and everything hanging from it: sessions, email addresses, two-step sign-in, applications with
    the member's answers, their profile (the Member row) and the User. Returns (what was removed, what stays but
    no longer names them), for the moderator.
    Run inside carry_out_erasure's transaction, after posts and mail have moved away from the member."""
    user = member.user
    session_keys = _session_keys(user.pk)
    Session.objects.filter(session_key__in=session_keys).delete()
    session_cache = caches[settings.SESSION_CACHE_ALIAS]
    transaction.on_commit(lambda: session_cache.delete_many([SESSION_CACHE_PREFIX + key for key in session_keys]))
    removed = {
        "sign-in sessions": len(session_keys),
        "email addresses": EmailAddress.objects.filter(user=user).delete()[1].get("account.EmailAddress", 0),
        "two-step sign-in methods": Authenticator.objects.filter(user=user).delete()[1].get("mfa.Authenticator", 0),
        "applications, with their answers": member.applications.all().delete()[1].get("community.Application", 0),
    }
    unlinked = _scrub_audit(member, redactor)
    _scrub_admin_log(redactor)
    ErasureRequest.objects.filter(member=member).update(note="", decline_reason="")
    close_live_connections_on_commit(user.pk)
    user.delete()  # the Member row (profile and visibility choices) goes with it
    return removed, {"audit log entries, no longer linked to them or naming them": unlinked}


def record_erasure(request: ErasureRequest, moderator: Member) -> None:
    """The request keeps only that it happened and when; the audit log the same, and which moderator did it."""
    now = timezone.now()
    ErasureRequest.objects.filter(pk=request.pk).update(
        status=ErasureRequest.Status.DONE, decided_at=now, note="", decline_reason="", member=None,
    )
    AuditRecord.objects.create(actor=moderator, action="member_erased", created_at=now)


def erasure_queue() -> tuple[list[ErasureRequest], list[ErasureRequest]]:
    """Requests waiting (oldest first, with each member's number of posts), and the latest decided ones."""
    waiting = list(
        ErasureRequest.objects.filter(status=ErasureRequest.Status.REQUESTED)
        .select_related("member__user", "member__organization")
        .annotate(post_count=Count("member__posts"))
        .order_by("requested_at", "pk")
    )
    decided = list(ErasureRequest.objects.exclude(status=ErasureRequest.Status.REQUESTED)
                   .order_by("-decided_at", "-pk")[:20])
    return waiting, decided
