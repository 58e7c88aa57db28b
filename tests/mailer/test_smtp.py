"""Real SMTP: what leaves the process is a well-formed message with every list header."""

import email
import socket
from datetime import timedelta
from email import policy

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings

from mailer.digests import send_due_digests
from mailer.models import MailPreference
from tests.mailer.test_digests import MORNING, backdate


class Collect:
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def received(self, address):
        return [email.message_from_bytes(envelope.content, policy=policy.default)
                for envelope in self.envelopes if envelope.rcpt_tos == [address]]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_sink(settings):
    handler = Collect()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = controller.hostname, controller.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    yield handler
    controller.stop()


def test_fan_out_post_over_smtp(member, member_factory, thread, reply_factory, smtp_sink):
    reader = member_factory()
    root = thread.posts.get()

    reply = reply_factory(author=reader, parent=root, body="Over **real** SMTP.")

    [message] = smtp_sink.received(member.email)
    assert smtp_sink.received(reader.email) == []
    assert message["Subject"] == "Re: [HealTorture-Talk] Group work with new arrivals"
    assert message["From"].addresses[0].addr_spec == settings.LIST_ADDRESS
    assert message["Reply-To"].addresses[0].addr_spec.startswith("reply-")
    assert (message["Message-ID"], message["In-Reply-To"]) == (reply.message_id, root.message_id)
    assert message["List-Id"] == f"HealTorture-Talk <{settings.LIST_ID}>"
    assert message["List-Unsubscribe"].strip().startswith("<http://testserver/mail/unsubscribe/")  # may be folded
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.get_content_type() == "multipart/alternative"
    assert "Over **real** SMTP." in message.get_body(("plain",)).get_content()
    assert "Over <strong>real</strong> SMTP." in message.get_body(("html",)).get_content()


def test_send_due_digests_over_smtp(member, member_factory, thread, smtp_sink, settings):
    settings.DIGEST_HOUR = 7
    reader = member_factory(full_name="Rae Reader", mail_mode=MailPreference.Mode.DAILY)
    backdate(thread.posts.get(), MORNING - timedelta(hours=1))

    send_due_digests(now=MORNING)

    [message] = smtp_sink.received(reader.email)
    assert message["Subject"].endswith(": 1 new message")
    assert message["From"].addresses[0].addr_spec == settings.LIST_ADDRESS
    assert message["List-Id"] == f"HealTorture-Talk <{settings.LIST_ID}>"
    assert message["Precedence"] == "list"
    text = message.get_body(("plain",)).get_content()
    assert "How do you start a group?" in text
    assert "reply-" in text
