"""Real SMTP: what leaves the process is a well-formed message with every list header."""

import asyncio
import email
import socket
import threading
from datetime import timedelta
from email import policy
from urllib.parse import parse_qs, urlsplit

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings

from mailer.digests import send_due_digests
from mailer.models import DeliveryEvent, MailPreference, OutboundMessage
from mailer.tokens import parse_bounce_address, parse_reply_address, read_unsubscribe_token
from tests.mailer.test_digests import MORNING, backdate

SITE = "https://healtalk.example.org"


class Collect:
    """An SMTP server's handler that keeps what it accepted.

    With `delay` it waits before answering DATA: a client that hangs up meanwhile (a killed worker) never got the
    250, so it did not hand the message over, and the message is not kept. `refuse` lists recipients it answers
    550 to."""

    def __init__(self, delay=0.0, refuse=()):
        self.envelopes = []
        self.delay = delay
        self.refuse = set(refuse)
        self.receiving = threading.Event()  # set while a DATA answer is pending

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.receiving.set()
        try:
            # aiosmtpd cancels this coroutine when the client's connection drops.
            await asyncio.sleep(self.delay)
        finally:
            self.receiving.clear()
        if server.transport is None or server.transport.is_closing():
            return "451 4.3.0 Client went away"
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def received(self, address):
        return [email.message_from_bytes(envelope.content, policy=policy.default)
                for envelope in self.envelopes if envelope.rcpt_tos == [address]]

    def envelope_senders(self, address):
        return [envelope.mail_from for envelope in self.envelopes if envelope.rcpt_tos == [address]]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_sink(settings, handler):
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = controller.hostname, controller.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    return controller


@pytest.fixture
def smtp_sink(settings):
    handler = Collect()
    controller = start_sink(settings, handler)
    yield handler
    controller.stop()


@pytest.fixture
def https_site(settings):
    settings.SITE_URL = SITE


def generation_of(member_id):
    return MailPreference.objects.get(member_id=member_id).token_generation


def angle_urls(header):
    return [part.strip().strip("<>") for part in "".join(header.splitlines()).split(",")]


def assert_list_headers(message, member, archive):
    """The headers every list message carries, as a mail client and a spam filter read them."""
    assert message["Sender"] == settings.LIST_ADDRESS
    assert message["List-Id"] == f"HealTorture-Talk <healtorture-talk.{settings.LIST_DOMAIN}>"
    assert message["List-Post"] == f"<mailto:{settings.LIST_ADDRESS}>"
    assert message["List-Archive"] == f"<{archive}>"
    assert message["List-Help"] == f"<{SITE}/mail/help/>"
    web, mailto = angle_urls(message["List-Unsubscribe"])
    assert web.startswith(f"{SITE}/mail/unsubscribe/")
    token = urlsplit(web).path.removeprefix("/mail/unsubscribe/").rstrip("/")
    assert read_unsubscribe_token(token) == (member.id, 0)
    assert urlsplit(mailto).scheme == "mailto" and urlsplit(mailto).path == f"unsubscribe@{settings.LIST_DOMAIN}"
    assert parse_qs(urlsplit(mailto).query)["subject"] == [token]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Precedence"] == "list"
    assert message["X-Auto-Response-Suppress"] == "OOF, AutoReply"
    assert message["Auto-Submitted"] is None
    assert message["Message-ID"]
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]


def test_fan_out_post_over_smtp(member, member_factory, thread, reply_factory, smtp_sink, https_site):
    reader = member_factory(full_name="Rae Reader")
    root = thread.posts.get()

    reply = reply_factory(author=reader, parent=root, body="Over **real** SMTP.")

    [message] = smtp_sink.received(member.email)
    assert smtp_sink.received(reader.email) == []
    [envelope_sender] = smtp_sink.envelope_senders(member.email)
    assert parse_bounce_address(envelope_sender, generation_of) == member.id  # MAIL FROM: the member's VERP address
    assert message["Subject"] == "Re: [HealTorture-Talk] Group work with new arrivals"
    [sender] = message["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ("Rae Reader via HealTorture-Talk", settings.LIST_ADDRESS)
    [reply_to] = message["Reply-To"].addresses
    target = parse_reply_address(reply_to.addr_spec, generation_of)
    assert (target.post_id, target.member_id) == (reply.id, member.id)
    assert (message["Message-ID"], message["In-Reply-To"]) == (reply.message_id, root.message_id)
    assert message["References"].split() == [root.message_id]
    assert_list_headers(message, member, archive=f"{SITE}/threads/{thread.id}/")
    text = message.get_body(("plain",)).get_content()
    assert "Over **real** SMTP." in text
    assert f"Read the whole thread: {SITE}/posts/{reply.id}/" in text
    assert "Reply to this email to post your answer to the list." in text
    html = message.get_body(("html",)).get_content()
    assert "Over <strong>real</strong> SMTP." in html
    assert f'href="{SITE}/mail/settings/"' in html
    assert OutboundMessage.objects.get(post=reply, member=member).status == OutboundMessage.Status.SENT


def test_send_due_digests_over_smtp(member, member_factory, thread, reply_factory, smtp_sink, https_site, settings):
    settings.DIGEST_HOUR = 7
    reader = member_factory(full_name="Rae Reader", mail_mode=MailPreference.Mode.DAILY)
    root = thread.posts.get()
    answer = reply_factory(author=member, parent=root, body="We start with tea.")
    backdate(root, MORNING - timedelta(hours=2))
    backdate(answer, MORNING - timedelta(hours=1))

    send_due_digests(now=MORNING)

    [message] = smtp_sink.received(reader.email)
    [envelope_sender] = smtp_sink.envelope_senders(reader.email)
    assert parse_bounce_address(envelope_sender, generation_of) == reader.id
    assert message["Subject"].startswith("[HealTorture-Talk] Daily digest, ")
    assert message["Subject"].endswith(": 2 new messages")
    [sender] = message["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ("HealTorture-Talk", settings.LIST_ADDRESS)
    assert message["Reply-To"] is None  # each item carries its own reply address instead
    assert message["In-Reply-To"] is None and message["References"] is None
    assert_list_headers(message, reader, archive=f"{SITE}/")
    text = message.get_body(("plain",)).get_content()
    assert "How do you start a group?" in text and "We start with tea." in text
    html = message.get_body(("html",)).get_content()
    prefix = "To answer this message by email, write to: "
    addresses = [line.removeprefix(prefix) for line in text.splitlines() if line.startswith(prefix)]
    targets = {address: parse_reply_address(address, generation_of) for address in addresses}
    assert {(target.post_id, target.member_id) for target in targets.values()} == {
        (root.id, reader.id), (answer.id, reader.id)}
    assert all(f'href="mailto:{address}?subject=' in html for address in addresses)


def assert_paused_for_a_refused_address(member):
    event = DeliveryEvent.objects.get(member=member)
    assert (event.kind, event.recipient, event.description) == (
        DeliveryEvent.Kind.HARD_BOUNCE, member.email, "550 5.1.1 No such user here")
    assert event.applied_at is not None
    assert MailPreference.objects.get(member=member).delivery_pause_reason == (
        f"The mail server for {member.email} told us that the address does not accept mail.")


def test_deliver_outbound_refused_recipient_over_smtp_fails_at_once_and_pauses_their_list_mail(
        member, member_factory, thread, reply_factory, settings):
    handler = Collect(refuse={member.email})
    controller = start_sink(settings, handler)
    try:
        reply = reply_factory(author=member_factory(), parent=thread.posts.get(), body="To a closed mailbox.")
        reply_factory(author=member_factory(), parent=reply, body="Not sent to a paused member.")
    finally:
        controller.stop()

    row = OutboundMessage.objects.get(post=reply, member=member)
    assert (row.status, row.attempts) == (OutboundMessage.Status.FAILED, 1)
    assert row.last_error == "Refused for good: 550 5.1.1 No such user here"
    assert handler.received(member.email) == []
    assert_paused_for_a_refused_address(member)
    assert OutboundMessage.objects.filter(member=member).count() == 1  # nothing more is tried


def test_send_due_digests_refused_recipient_over_smtp_pauses_their_list_mail(
        member, member_factory, thread, reply_factory, settings, django_capture_on_commit_callbacks):
    settings.DIGEST_HOUR = 7
    reader = member_factory(full_name="Rae Reader", mail_mode=MailPreference.Mode.DAILY)
    backdate(thread.posts.get(), MORNING - timedelta(hours=2))
    handler = Collect(refuse={reader.email})
    controller = start_sink(settings, handler)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            assert send_due_digests(now=MORNING) == 0
        assert send_due_digests(now=MORNING + timedelta(minutes=15)) == 0
    finally:
        controller.stop()

    assert handler.envelopes == []
    assert_paused_for_a_refused_address(reader)
    assert DeliveryEvent.objects.filter(member=reader).count() == 1  # the second run leaves the paused member out
