"""Bounces and complaints: every report is stored first (one DeliveryEvent, deduplicated on the provider's id),
then a task applies it to the member's list mail.

- a hard bounce or a spam complaint pauses the member's list mail at once;
- soft bounces pause it after SOFT_BOUNCE_LIMIT of them within SOFT_BOUNCE_WINDOW_DAYS, with no delivery between
  (a "delivered" report sets the count back to zero);
- an unsubscribe at the provider sets the member's mode to none;
- an address refused for good while we send (5.1.x or 5.2.1 to RCPT, or the ESP refusing it) is a hard bounce.

The member sees why on every page (a banner) and turns list mail back on with `resume_delivery`.

What counts as what, from anymail's normalized event types:
- `bounced`: the provider gave up on the address — hard, except Postmark's "SoftBounce" (mailbox full, quota),
  which anymail also reports as `bounced`;
- `deferred`: the provider is still retrying (Mailgun's temporary failures, greylisting included; Postmark's
  "Transient" and "DnsError") — kept for moderators but not counted, except Mailgun's last word on a message it
  retried for hours without success (reason "old"), a soft bounce;
- `rejected`: the provider refused to send at all; because of an earlier bounce or a bad address, it is a hard
  bounce, because of a complaint a complaint;
- `complained`, `unsubscribed`: as named.
"""

from datetime import timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parseaddr, parsedate_to_datetime

from anymail.signals import AnymailTrackingEvent, EventType, RejectReason
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from community.models import Member

from .models import DeliveryEvent, MailPreference
from .preferences import current_token_generation, set_mail_mode
from .tokens import InvalidToken, parse_bounce_address

Kind = DeliveryEvent.Kind

PAUSE_CACHE_KEY = "mail-paused:{member_id}"
DSN = "dsn"  # esp_name and event_type of bounce messages that came back to our envelope address
REFUSED = "refused"  # ... and of an address refused while we were sending

# Why list mail stopped, in the words the member reads on every page until they turn it back on.
PAUSE_REASONS = {
    Kind.HARD_BOUNCE: "The mail server for {address} told us that the address does not accept mail.",
    Kind.COMPLAINT: "A message from the list to {address} was marked as spam.",
    Kind.SOFT_BOUNCE: "Several messages to {address} could not be delivered: the mailbox may be full, or its "
                      "server not answering.",
}


# The banner


def delivery_pause(member_id: int) -> str | None:
    """Why the member's list mail is paused, in plain words, or None. Kept in the cache by pausing and resuming
    (and refreshed by the mail settings page), so the banner on every page costs no database query."""
    return cache.get(PAUSE_CACHE_KEY.format(member_id=member_id))


def remember_pause(member_id: int, reason: str | None) -> None:
    key = PAUSE_CACHE_KEY.format(member_id=member_id)
    if reason:
        cache.set(key, reason, timeout=None)
    else:
        cache.delete(key)


# Storing reports


def _member_for_address(address: str) -> Member | None:
    return Member.objects.filter(user__email__iexact=address.strip()).first() if address else None


def _tracking_kind(event: AnymailTrackingEvent, esp_name: str) -> str | None:
    """The kind of report, or None for events that say nothing about whether the address works."""
    esp_event = event.esp_event if isinstance(event.esp_event, dict) else {}
    if event.event_type == EventType.BOUNCED:
        soft = esp_name == "Postmark" and esp_event.get("Type") == "SoftBounce"
        return Kind.SOFT_BOUNCE if soft else Kind.HARD_BOUNCE
    if event.event_type == EventType.DEFERRED:
        gave_up = esp_name == "Mailgun" and esp_event.get("event-data", {}).get("reason") == "old"
        return Kind.SOFT_BOUNCE if gave_up else Kind.OTHER
    if event.event_type == EventType.REJECTED:
        return {RejectReason.BOUNCED: Kind.HARD_BOUNCE, RejectReason.INVALID: Kind.HARD_BOUNCE,
                RejectReason.SPAM: Kind.COMPLAINT, RejectReason.UNSUBSCRIBED: Kind.UNSUBSCRIBE,
                }.get(event.reject_reason, Kind.OTHER)
    return {EventType.COMPLAINED: Kind.COMPLAINT, EventType.UNSUBSCRIBED: Kind.UNSUBSCRIBE,
            EventType.FAILED: Kind.OTHER}.get(event.event_type)


def record_tracking_event(event: AnymailTrackingEvent, esp_name: str) -> DeliveryEvent | None:
    """Store a report from an ESP's tracking webhook and apply it after commit; None when there was nothing to
    store (opens, clicks, a provider's retry of a report already stored). A delivery resets the soft-bounce
    count at once: it is not worth a row per message sent."""
    recipient = event.recipient or ""
    if event.event_type == EventType.DELIVERED:
        MailPreference.objects.filter(member__user__email__iexact=recipient, soft_bounces__gt=0).update(soft_bounces=0)
        return None
    kind = _tracking_kind(event, esp_name)
    if kind is None:
        return None
    return _store(
        esp_name=esp_name, event_id=event.event_id or "", event_type=event.event_type, kind=kind,
        recipient=recipient, member=_member_for_address(recipient),
        description=" — ".join(part for part in (event.description, event.mta_response) if part),
        raw=event.esp_event if isinstance(event.esp_event, dict) else {},
        occurred_at=event.timestamp or timezone.now(),
    )


def _store(**fields) -> DeliveryEvent | None:
    try:
        with transaction.atomic():
            row = DeliveryEvent.objects.create(**fields)
    except IntegrityError:  # the provider sent this report before (unique esp_name + event_id)
        return None
    transaction.on_commit(lambda: _enqueue_apply(row.id))
    return row


def _enqueue_apply(delivery_event_id: int) -> None:
    from . import tasks  # tasks imports this module

    tasks.apply_delivery_event.delay(delivery_event_id)


def _delivery_report(message: EmailMessage) -> tuple[EmailMessage, EmailMessage] | None:
    """The per-message fields and the first per-recipient block that reports a failure or a delay (RFC 3464)."""
    for part in message.walk():
        if part.get_content_type() == "message/delivery-status":
            blocks = part.get_payload()
            failed = [block for block in blocks[1:] if block.get("Action", "").strip().lower() in ("failed", "delayed")]
            if failed:
                failed.sort(key=lambda block: block.get("Action", "").strip().lower() != "failed")
                return blocks[0], failed[0]
    return None


def record_bounce_message(raw: bytes, bounce_address: str) -> DeliveryEvent | None:
    """A delivery status notification that came back to a member's envelope address (mailer.tokens VERP
    address) becomes a DeliveryEvent like a provider's report: Status 5.x.x is a hard bounce, 4.x.x a soft
    bounce once the server gave up ("Action: failed"); a mere delay warning is kept but counts for nothing.

    None when it is not a failure report about one of our members: a forged, expired or withdrawn address, an
    auto-reply (RFC 3834 sends those to the envelope address too), a report of success, or a report already
    stored (same Message-ID)."""
    try:
        member_id = parse_bounce_address(bounce_address, current_token_generation)
    except InvalidToken:
        return None
    message = BytesParser(policy=policy.default).parsebytes(raw)
    report = _delivery_report(message)
    if report is None:
        return None
    per_message, recipient_block = report
    status = recipient_block.get("Status", "").strip()
    action = recipient_block.get("Action", "").strip().lower()
    if action == "delayed":
        kind = Kind.OTHER
    else:
        kind = {"5": Kind.HARD_BOUNCE, "4": Kind.SOFT_BOUNCE}.get(status[:1], Kind.OTHER)
    member = Member.objects.select_related("user").filter(pk=member_id).first()
    recipient = parseaddr(recipient_block.get("Final-Recipient", "").partition(";")[2])[1] or (
        member.email if member else "")
    diagnostic = recipient_block.get("Diagnostic-Code", "").partition(";")[2].strip()
    try:
        occurred_at = parsedate_to_datetime(message.get("Date", ""))
    except (TypeError, ValueError):
        occurred_at = timezone.now()
    return _store(
        esp_name=DSN, event_id=(message.get("Message-ID") or "").strip(), event_type=DSN, kind=kind,
        recipient=recipient, member=member,
        description=" — ".join(part for part in (f"{action} {status}".strip(), diagnostic) if part),
        raw={"reporting_mta": str(per_message.get("Reporting-MTA", "")), "action": action, "status": status,
             "diagnostic_code": diagnostic, "subject": str(message.get("Subject", ""))},
        occurred_at=occurred_at if occurred_at.tzinfo else timezone.now(),
    )


def record_refusal(member_id: int, address: str, reason: str) -> DeliveryEvent | None:
    """Our own mail server, or the ESP, refused the member's address for good while we were handing it a message
    (mailer.outbound.refuses_the_address): a hard bounce, as Mailman counts it, with no report to wait for."""
    return _store(esp_name=REFUSED, event_type=REFUSED, kind=Kind.HARD_BOUNCE, recipient=address,
                  member_id=member_id, description=reason)


# Applying reports


def _pause(preference: MailPreference, kind: str, address: str) -> None:
    """`address` is the one we send to (the member's), which the member can check, whatever the report said."""
    if preference.delivery_paused_at is not None:
        return  # paused already: keep the first reason, the one the member is reading
    reason = PAUSE_REASONS[kind].format(address=address)
    MailPreference.objects.filter(pk=preference.pk).update(delivery_paused_at=timezone.now(),
                                                           delivery_pause_reason=reason)
    transaction.on_commit(lambda: remember_pause(preference.member_id, reason))


def _count_soft_bounce(preference: MailPreference, event: DeliveryEvent) -> None:
    window_start = event.occurred_at - timedelta(days=settings.SOFT_BOUNCE_WINDOW_DAYS)
    counted_before = (
        DeliveryEvent.objects.filter(member_id=event.member_id, kind=Kind.SOFT_BOUNCE, applied_at__isnull=False,
                                     occurred_at__gte=window_start)
        .exclude(pk=event.pk).exists()
    )
    # A first soft bounce in the window starts the count again, whatever an old count said.
    MailPreference.objects.filter(pk=preference.pk).update(
        soft_bounces=F("soft_bounces") + 1 if counted_before else 1
    )
    preference.refresh_from_db(fields=["soft_bounces"])
    if preference.soft_bounces >= settings.SOFT_BOUNCE_LIMIT:
        _pause(preference, Kind.SOFT_BOUNCE, event.member.email)


@transaction.atomic
def apply_delivery_event(delivery_event_id: int) -> None:
    """Apply one stored report to its member's list mail; a report applied already changes nothing."""
    event = (DeliveryEvent.objects.select_for_update(of=("self",)).select_related("member__user")
             .filter(pk=delivery_event_id, applied_at__isnull=True).first())
    if event is None:
        return
    if event.member is not None:
        preference, _ = MailPreference.objects.select_for_update().get_or_create(member=event.member)
        if event.kind in (Kind.HARD_BOUNCE, Kind.COMPLAINT):
            _pause(preference, event.kind, event.member.email)
        elif event.kind == Kind.SOFT_BOUNCE:
            _count_soft_bounce(preference, event)
        elif event.kind == Kind.UNSUBSCRIBE:
            set_mail_mode(event.member, MailPreference.Mode.NONE)
    DeliveryEvent.objects.filter(pk=event.pk).update(applied_at=timezone.now())


def apply_stale_delivery_events(older_than_minutes: int = 5) -> int:
    """Reports stored while the broker was down are applied by beat; returns how many."""
    stale = list(
        DeliveryEvent.objects.filter(applied_at__isnull=True,
                                     received_at__lt=timezone.now() - timedelta(minutes=older_than_minutes))
        .order_by("pk").values_list("pk", flat=True)
    )
    for delivery_event_id in stale:
        apply_delivery_event(delivery_event_id)
    return len(stale)


# The member turns list mail back on


def resume_delivery(member: Member) -> None:
    """The member checked their address: list mail starts again, with a fresh soft-bounce count."""
    MailPreference.objects.update_or_create(
        member=member, defaults={"delivery_paused_at": None, "delivery_pause_reason": "", "soft_bounces": 0},
    )
    transaction.on_commit(lambda: remember_pause(member.id, None))
