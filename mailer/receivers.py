"""Listeners: store and enqueue, nothing more."""

from functools import partial

from allauth.account.signals import email_confirmed
from anymail.signals import inbound as anymail_inbound
from anymail.signals import tracking as anymail_tracking
from django.db import transaction
from django.dispatch import receiver

from community.events import (
    application_decided,
    application_info_answered,
    application_info_requested,
    application_submitted,
    erasure_declined,
    erasure_link_requested,
    erasure_requested,
    membership_lapsed,
    reverification_reminder_due,
    reverification_required,
)
from threads.events import (
    econsultation_summarised,
    held_post_rejected,
    member_mentioned,
    post_held,
    post_published,
    resource_links_broken,
    resource_reviewed,
    resource_submitted,
)

from . import bounces, inbound, tasks


@receiver(post_published)
def enqueue_fan_out(sender, post_id, **kwargs):
    tasks.fan_out_post.delay(post_id)


@receiver(post_held)
def enqueue_held_post_notices(sender, post_id, **kwargs):
    tasks.send_held_post_notice.delay(post_id)
    tasks.send_held_post_receipt.delay(post_id)


@receiver(held_post_rejected)
def enqueue_held_post_rejection(sender, post_id, **kwargs):
    tasks.send_held_post_rejection.delay(post_id)


@receiver(member_mentioned)
def enqueue_mention_notice(sender, post_id, member_id, **kwargs):
    tasks.send_mention_notice.delay(post_id, member_id)


@receiver(econsultation_summarised)
def enqueue_econsultation_summary(sender, econsultation_id, **kwargs):
    tasks.send_econsultation_summary.delay(econsultation_id)


@receiver(resource_submitted)
def enqueue_resource_submitted_notice(sender, resource_id, **kwargs):
    tasks.send_resource_submitted_notice.delay(resource_id)


@receiver(resource_reviewed)
def enqueue_resource_reviewed_notice(sender, resource_id, **kwargs):
    tasks.send_resource_reviewed_notice.delay(resource_id)


@receiver(resource_links_broken)
def enqueue_resource_links_broken_notice(sender, resource_ids, **kwargs):
    tasks.send_resource_links_broken_notice.delay(list(resource_ids))


@receiver(application_decided)
def enqueue_decision_email(sender, application_id, **kwargs):
    tasks.send_application_decision.delay(application_id)


@receiver(application_submitted)
def enqueue_new_application_notice(sender, application_id, **kwargs):
    tasks.send_new_application_notice.delay(application_id)


@receiver(application_info_requested)
def enqueue_info_request(sender, application_id, **kwargs):
    tasks.send_info_request.delay(application_id)


@receiver(application_info_answered)
def enqueue_info_answered_notice(sender, application_id, **kwargs):
    tasks.send_info_answered_notice.delay(application_id)


@receiver(reverification_reminder_due)
def enqueue_reverification_reminder(sender, member_id, reminder, **kwargs):
    tasks.send_reverification_reminder.delay(member_id, reminder)


@receiver(membership_lapsed)
def enqueue_lapsed_notice(sender, member_id, **kwargs):
    tasks.send_lapsed_notice.delay(member_id)


@receiver(reverification_required)
def enqueue_reverification_required(sender, application_id, **kwargs):
    tasks.send_reverification_required.delay(application_id)


@receiver(erasure_requested)
def enqueue_erasure_request_notice(sender, erasure_request_id, **kwargs):
    tasks.send_erasure_request_notice.delay(erasure_request_id)


@receiver(erasure_link_requested)
def enqueue_erasure_link(sender, email_address_id, **kwargs):
    tasks.send_erasure_link.delay(email_address_id)


@receiver(erasure_declined)
def enqueue_erasure_declined(sender, erasure_request_id, **kwargs):
    tasks.send_erasure_declined.delay(erasure_request_id)


@receiver(email_confirmed)
def enqueue_imported_posts_claim(sender, email_address, **kwargs):
    # After commit, so that the task finds the address saved as verified.
    transaction.on_commit(partial(tasks.claim_imported_posts.delay, email_address.id))


@receiver(anymail_inbound)
def store_provider_inbound(sender, event, esp_name, **kwargs):
    message = event.message
    envelope_recipient = getattr(message, "envelope_recipient", None) or ""
    inbound.receive_raw(message.as_bytes(), envelope_recipient=envelope_recipient)


@receiver(anymail_tracking)
def store_delivery_event(sender, event, esp_name, **kwargs):
    bounces.record_tracking_event(event, esp_name)
