"""Fixtures for the tests of inbound mail (tests/mailer/test_inbound*.py)."""

import uuid

import pytest

from mailer import inbound
from mailer.models import InboundMessage

from .test_smtp import smtp_sink  # noqa: F401  (the aiosmtpd sink, for the inbound tests too)


@pytest.fixture
def deliver(django_capture_on_commit_callbacks):
    """Hand raw mail to the inbound path as an MTA or a provider webhook would; tasks run eagerly."""

    def send(raw: bytes, envelope_recipient: str = "") -> InboundMessage | None:
        with django_capture_on_commit_callbacks(execute=True):
            return inbound.receive_raw(raw, envelope_recipient=envelope_recipient)

    return send


@pytest.fixture
def replier(member_factory):
    return member_factory(full_name="Rosa Alvarez", email=f"rosa-{uuid.uuid4().hex[:8]}@cascade.example.org")


@pytest.fixture
def parent(opening_post):
    return opening_post
