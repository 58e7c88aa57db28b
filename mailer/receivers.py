"""Listeners: store and enqueue, nothing more."""

from anymail.signals import inbound as anymail_inbound
from django.dispatch import receiver

from community.events import application_decided
from threads.events import post_published

from . import inbound, tasks


@receiver(post_published)
def enqueue_fan_out(sender, post_id, **kwargs):
    tasks.fan_out_post.delay(post_id)


@receiver(application_decided)
def enqueue_decision_email(sender, application_id, **kwargs):
    tasks.send_application_decision.delay(application_id)


@receiver(anymail_inbound)
def store_provider_inbound(sender, event, esp_name, **kwargs):
    message = event.message
    envelope_recipient = getattr(message, "envelope_recipient", None) or ""
    inbound.receive_raw(message.as_bytes(), envelope_recipient=envelope_recipient)
