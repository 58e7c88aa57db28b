"""How long we keep what could identify people (the RETENTION_* settings), enforced once a day by Celery beat
(mailer.tasks.apply_retention). It lives in mailer because it reaches into all three apps.

- Inbound emails (RETENTION_INBOUND_DAYS, 90): the raw email is emptied, the row stays. The raw text is what carries
  everything personal (headers, signatures, phone numbers, other people's quoted words, attachments), while the post
  keeps the member's words; the row keeps the Message-ID, so a late redelivery of the same email is still recognised
  as a duplicate rather than posted twice, and the record moderators see (who sent what, when, and what happened).
  Mail still waiting to be processed is never touched.
- Audit log (RETENTION_AUDIT_DAYS, 1095, three years): rows are deleted.
- Delivery reports (RETENTION_DELIVERY_RAW_DAYS, 90): the provider's raw payload is emptied once the report has been
  applied; the report itself (kind, address, when) stays, since it explains why someone's list mail is paused.
- Confidentiality-guard checks (RETENTION_GUARD_DAYS, 365): deleted after a year, except those still holding a post.
  They tell moderators how the guard behaves and what authors said when they confirmed; a year covers a full round
  of reviewing its holds, and the decisions on held posts stay in the audit log for its three years.
- Mail captured in development (RETENTION_CAPTURED_MAIL_DAYS, 14): deleted; two weeks is plenty to look at it.

Each rule works in batches, each in a short transaction of its own (a first run over years of rows holds no lock for
long), and touches only rows not yet done, so a second run, or two at once, changes nothing more.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from community.models import AuditRecord
from threads.models import GuardCheck

from .models import CapturedEmail, DeliveryEvent, InboundMessage

BATCH_SIZE = 1000


@dataclass
class RetentionRun:
    inbound_emptied: int = 0
    delivery_payloads_emptied: int = 0
    audit_deleted: int = 0
    guard_checks_deleted: int = 0
    captured_deleted: int = 0


def _in_batches(due: QuerySet, apply, batch_size: int) -> int:
    done = 0
    while True:
        with transaction.atomic():
            # Rows another run holds are left to it.
            ids = list(due.order_by("pk").select_for_update(skip_locked=True).values_list("pk", flat=True)[:batch_size])
            if ids:
                apply(due.model.objects.filter(pk__in=ids))
        done += len(ids)
        if len(ids) < batch_size:
            return done


def _before(days: int, now: datetime) -> datetime:
    return now - timedelta(days=days)


def apply_retention(*, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> RetentionRun:
    now = now or timezone.now()
    return RetentionRun(
        inbound_emptied=_in_batches(
            InboundMessage.objects.filter(received_at__lt=_before(settings.RETENTION_INBOUND_DAYS, now))
            .exclude(raw="").exclude(status=InboundMessage.Status.RECEIVED),
            lambda rows: rows.update(raw=""), batch_size),
        delivery_payloads_emptied=_in_batches(
            DeliveryEvent.objects.filter(received_at__lt=_before(settings.RETENTION_DELIVERY_RAW_DAYS, now),
                                         applied_at__isnull=False).exclude(raw={}),
            lambda rows: rows.update(raw={}), batch_size),
        audit_deleted=_in_batches(
            AuditRecord.objects.filter(created_at__lt=_before(settings.RETENTION_AUDIT_DAYS, now)),
            lambda rows: rows.delete(), batch_size),
        guard_checks_deleted=_in_batches(
            GuardCheck.objects.filter(created_at__lt=_before(settings.RETENTION_GUARD_DAYS, now))
            .exclude(outcome=GuardCheck.Outcome.HELD),
            lambda rows: rows.delete(), batch_size),
        captured_deleted=_in_batches(
            CapturedEmail.objects.filter(created_at__lt=_before(settings.RETENTION_CAPTURED_MAIL_DAYS, now)),
            lambda rows: rows.delete(), batch_size),
    )
