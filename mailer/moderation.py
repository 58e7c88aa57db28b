"""The moderators' mail page: list mail that never went out (and trying it again), members whose list mail is
paused, what mail servers reported back, and inbound mail that was turned away."""

from dataclasses import dataclass

from django.db import transaction

from .models import DeliveryEvent, InboundMessage, MailPreference, OutboundMessage

SHOWN = 50  # the newest rows of each kind; older ones stay in the admin


@dataclass(frozen=True)
class MailOverview:
    failed: list[OutboundMessage]
    failed_count: int
    paused: list[MailPreference]
    events: list[DeliveryEvent]
    turned_away: list[InboundMessage]


def mail_overview() -> MailOverview:
    """Five queries whatever the number of rows."""
    failed = OutboundMessage.objects.filter(status=OutboundMessage.Status.FAILED)
    return MailOverview(
        failed=list(
            failed.select_related("post__thread", "member__user")
            .defer("post__search_vector", "post__thread__search_vector", "post__body", "post__html")
            .order_by("-created_at", "-pk")[:SHOWN]
        ),
        failed_count=failed.count(),
        paused=list(
            MailPreference.objects.filter(delivery_paused_at__isnull=False).select_related("member__user")
            .order_by("-delivery_paused_at")[:SHOWN]
        ),
        events=list(DeliveryEvent.objects.select_related("member").defer("raw").order_by("-occurred_at")[:SHOWN]),
        turned_away=list(
            InboundMessage.objects.filter(status__in=[InboundMessage.Status.REJECTED, InboundMessage.Status.IGNORED])
            .defer("raw").order_by("-received_at")[:SHOWN]
        ),
    )


def _enqueue_deliveries(outbound_ids: list[int]) -> None:
    from . import tasks  # tasks imports outbound, which this page does not need otherwise

    for outbound_id in outbound_ids:
        tasks.deliver_outbound.delay(outbound_id)


@transaction.atomic
def retry_failed_messages(outbound_ids: list[int] | None = None) -> int:
    """Put failed messages (these, or all of them) back in the queue; returns how many.

    Never a double send: only a failed row goes back to pending, under a row lock, so two moderators clicking at
    once queue it once; and delivery (mailer.outbound.deliver_outbound) sends a pending row at most once, marking
    it sent in the same locked transaction — the one row per (post, member) is what it sends or not."""
    rows = OutboundMessage.objects.select_for_update(skip_locked=True).filter(status=OutboundMessage.Status.FAILED)
    if outbound_ids is not None:
        rows = rows.filter(pk__in=outbound_ids)
    requeued = list(rows.order_by("pk").values_list("pk", flat=True))
    OutboundMessage.objects.filter(pk__in=requeued).update(status=OutboundMessage.Status.PENDING)
    transaction.on_commit(lambda: _enqueue_deliveries(requeued))
    return len(requeued)
