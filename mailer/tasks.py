"""Celery tasks: thin. Each takes ids, and calls one service."""

from celery import shared_task

from community import membership

from . import bounces, digests, inbound, list_import, notices, outbound, resource_notices, retention

# A one-off email whose send failed is tried again later, never dropped.
RETRY_SENDING = {"autoretry_for": (Exception,), "retry_backoff": 30, "retry_backoff_max": 3600, "max_retries": 8}


@shared_task(acks_late=True)
def fan_out_post(post_id: int) -> None:
    outbound.fan_out_post(post_id)


@shared_task(bind=True, acks_late=True, max_retries=8)
def deliver_outbound(self, outbound_id: int) -> None:
    try:
        outbound.deliver_outbound(outbound_id)
    except outbound.TransientSendError as error:
        if self.request.retries >= self.max_retries:
            outbound.mark_failed(outbound_id)
            raise
        raise self.retry(exc=error, countdown=min(30 * 2 ** self.request.retries, 3600)) from error


@shared_task(acks_late=True, **RETRY_SENDING)
def send_application_decision(application_id: int) -> None:
    notices.send_application_decision(application_id)


@shared_task(acks_late=True, **RETRY_SENDING)
def send_new_application_notice(application_id: int) -> None:
    notices.send_new_application_notice(application_id)


@shared_task(acks_late=True, **RETRY_SENDING)
def send_info_request(application_id: int) -> None:
    notices.send_info_request(application_id)


@shared_task(acks_late=True, **RETRY_SENDING)
def send_info_answered_notice(application_id: int) -> None:
    notices.send_info_answered_notice(application_id)


@shared_task(acks_late=True)
def remind_stale_applications() -> None:
    notices.send_stale_applications_reminder()


@shared_task(acks_late=True)
def send_due_digests() -> None:
    digests.send_due_digests()


@shared_task(acks_late=True)
def process_inbound(inbound_id: int) -> None:
    inbound.process_inbound(inbound_id)


@shared_task(acks_late=True, **RETRY_SENDING)
def send_rejection(inbound_id: int, reason: str) -> None:
    inbound.send_rejection(inbound_id, reason)


@shared_task(acks_late=True, **RETRY_SENDING)
def send_inbound_notice(inbound_id: int, member_id: int, subject: str, text: str, quotes: str = "") -> None:
    inbound.send_inbound_notice(inbound_id, member_id, subject, text, quotes)


@shared_task(acks_late=True)
def requeue_stale_inbound() -> None:
    inbound.requeue_stale_inbound()


@shared_task(acks_late=True)
def run_reverification() -> None:
    membership.run_reverification()


@shared_task(acks_late=True, **RETRY_SENDING)
def send_reverification_reminder(member_id: int, reminder: int) -> None:
    notices.send_reverification_reminder(member_id, reminder)


@shared_task(acks_late=True, **RETRY_SENDING)
def send_lapsed_notice(member_id: int) -> None:
    notices.send_lapsed_notice(member_id)


@shared_task(acks_late=True, **RETRY_SENDING)
def send_reverification_required(application_id: int) -> None:
    notices.send_reverification_required(application_id)


@shared_task(acks_late=True, **RETRY_SENDING)
def send_econsultation_summary(econsultation_id: int) -> None:
    notices.send_econsultation_summary(econsultation_id)


@shared_task(acks_late=True, **RETRY_SENDING)
def send_mention_notice(post_id: int, member_id: int) -> None:
    notices.send_mention_notice(post_id, member_id)


@shared_task(acks_late=True, **RETRY_SENDING)
def send_held_post_notice(post_id: int) -> None:
    notices.send_held_post_notice(post_id)


@shared_task(acks_late=True, **RETRY_SENDING)
def send_held_post_receipt(post_id: int) -> None:
    notices.send_held_post_receipt(post_id)


@shared_task(acks_late=True, **RETRY_SENDING)
def send_held_post_rejection(post_id: int) -> None:
    notices.send_held_post_rejection(post_id)


@shared_task(acks_late=True)
def apply_delivery_event(delivery_event_id: int) -> None:
    bounces.apply_delivery_event(delivery_event_id)


@shared_task(acks_late=True)
def apply_stale_delivery_events() -> None:
    bounces.apply_stale_delivery_events()


@shared_task(acks_late=True)
def claim_imported_posts(email_address_id: int) -> None:
    list_import.claim_imported_posts(email_address_id)


@shared_task(acks_late=True, **RETRY_SENDING)
def send_list_invitation(invitation_id: int) -> None:
    list_import.send_invitation(invitation_id)


@shared_task(acks_late=True, **RETRY_SENDING)
def send_erasure_request_notice(erasure_request_id: int) -> None:
    notices.send_erasure_request_notice(erasure_request_id)


@shared_task(acks_late=True, **RETRY_SENDING)
def send_erasure_link(email_address_id: int) -> None:
    notices.send_erasure_link(email_address_id)


@shared_task(acks_late=True, **RETRY_SENDING)
def send_erasure_declined(erasure_request_id: int) -> None:
    notices.send_erasure_declined(erasure_request_id)


@shared_task(acks_late=True, **RETRY_SENDING)
def send_erasure_done(address: str) -> None:
    # The one task that takes an address rather than an id: once erased there is no row left to load it from.
    notices.send_erasure_done(address)


@shared_task(acks_late=True)
def apply_retention() -> None:
    retention.apply_retention()


@shared_task(acks_late=True, **RETRY_SENDING)
def send_resource_submitted_notice(resource_id: int) -> None:
    resource_notices.send_resource_submitted_notice(resource_id)


@shared_task(acks_late=True, **RETRY_SENDING)
def send_resource_reviewed_notice(resource_id: int) -> None:
    resource_notices.send_resource_reviewed_notice(resource_id)


@shared_task(acks_late=True, **RETRY_SENDING)
def send_resource_links_broken_notice(resource_ids: list[int]) -> None:
    resource_notices.send_resource_links_broken_notice(resource_ids)
