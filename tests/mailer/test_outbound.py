import email
import smtplib
from email import policy
from email.utils import getaddresses
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction

from community.celery import app as celery_app
from community.models import Member
from mailer import outbound, tasks
from mailer.models import MailPreference, OutboundMessage
from mailer.tokens import parse_reply_address, read_unsubscribe_token
from threads.mentions import handle_for
from threads.services import create_reply

LOCMEM = "django.core.mail.backends.locmem.EmailBackend"


class RefusingBackend(BaseEmailBackend):
    """A mail server that is down."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


def parsed(message):
    return email.message_from_bytes(message.message().as_bytes(), policy=policy.default)


def recipients(mailoutbox):
    return sorted(address for message in mailoutbox for address in message.to)


def angle_urls(header):
    return [part.strip().strip("<>") for part in header.split(",")]


def generation_of(member_id):
    return MailPreference.objects.get(member_id=member_id).token_generation


@pytest.fixture
def list_members(member_factory):
    """Everyone who could conceivably get a post, keyed by why they should or should not."""
    return {
        "each": member_factory(full_name="Eve Each"),
        "each_too": member_factory(full_name="Ed Each"),
        "daily": member_factory(mail_mode=MailPreference.Mode.DAILY),
        "none": member_factory(mail_mode=MailPreference.Mode.NONE),
        "pending": member_factory(status=Member.Status.PENDING),
        "suspended": member_factory(status=Member.Status.SUSPENDED),
    }


def test_create_reply_emails_each_message_members_once(member, list_members, thread, reply_factory, mailoutbox):
    mailoutbox.clear()

    reply_factory(author=list_members["each"], parent=thread.posts.get(), body="We start with tea.")

    assert recipients(mailoutbox) == sorted([member.email, list_members["each_too"].email])


def test_create_thread_emails_each_message_members_but_not_the_author(member, list_members, thread, mailoutbox):
    assert recipients(mailoutbox) == sorted([list_members["each"].email, list_members["each_too"].email])
    assert OutboundMessage.objects.filter(status=OutboundMessage.Status.SENT).count() == 2


def test_deliver_outbound_message_headers(member, list_members, thread, reply_factory, mailoutbox):
    root = thread.posts.get()
    first = reply_factory(author=list_members["each"], parent=root, body="We start with tea.")
    second = reply_factory(author=list_members["each_too"], parent=first, body="*Tea* helps.")
    [message] = [m for m in mailoutbox if m.to == [member.email] and "helps" in m.body]
    parsed_message = parsed(message)

    assert parsed_message["Subject"] == "Re: [HealTorture-Talk] Group work with new arrivals"
    [sender] = parsed_message["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ("Ed Each via HealTorture-Talk", settings.LIST_ADDRESS)
    assert parsed_message["Sender"] == settings.LIST_ADDRESS
    [(_, reply_to)] = getaddresses([parsed_message["Reply-To"]])
    target = parse_reply_address(reply_to, generation_of)
    assert (target.post_id, target.member_id) == (second.id, member.id)
    assert parsed_message["Message-ID"] == second.message_id
    assert parsed_message["In-Reply-To"] == first.message_id
    assert parsed_message["References"].split() == [root.message_id, first.message_id]
    assert parsed_message["List-Id"] == f"HealTorture-Talk <{settings.LIST_ID}>"
    assert parsed_message["List-Post"] == f"<mailto:{settings.LIST_ADDRESS}>"
    assert parsed_message["List-Archive"] == f"<http://testserver/threads/{thread.id}/>"
    web, mailto = angle_urls(parsed_message["List-Unsubscribe"])
    token = urlsplit(web).path.removeprefix("/mail/unsubscribe/").rstrip("/")
    assert web.startswith("http://testserver/mail/unsubscribe/")
    assert read_unsubscribe_token(token) == (member.id, 0)
    assert urlsplit(mailto).path == f"unsubscribe@{settings.LIST_DOMAIN}"
    assert parse_qs(urlsplit(mailto).query)["subject"] == [token]
    assert parsed_message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed_message["Precedence"] == "list"
    assert parsed_message["X-Auto-Response-Suppress"] == "OOF, AutoReply"
    text = parsed_message.get_body(("plain",)).get_content()
    html = parsed_message.get_body(("html",)).get_content()
    assert "*Tea* helps." in text
    assert f"http://testserver/posts/{second.id}/" in text  # the post's address finds its page of the thread
    assert "Reply to this email to post your answer to the list" in text
    assert web in text
    assert "<em>Tea</em> helps." in html
    assert web.replace("&", "&amp;") in html


def test_deliver_outbound_thread_start_is_not_a_reply(list_members, thread, mailoutbox):
    parsed_message = parsed(mailoutbox[0])

    assert parsed_message["Subject"] == "[HealTorture-Talk] Group work with new arrivals"
    assert parsed_message["Message-ID"] == thread.posts.get().message_id
    assert parsed_message["In-Reply-To"] is None
    assert parsed_message["References"] is None


def test_fan_out_post_twice_sends_nothing_new(list_members, thread, mailoutbox):
    post = thread.posts.get()
    sent = len(mailoutbox)

    tasks.fan_out_post.delay(post.id)

    assert len(mailoutbox) == sent == 2
    assert OutboundMessage.objects.filter(post=post).count() == 2


def test_create_reply_rolled_back_sends_nothing(list_members, thread, mailoutbox, django_capture_on_commit_callbacks):
    mailoutbox.clear()

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        create_reply(author=list_members["each"], parent=thread.posts.get(), body="Never mind.")
        raise RuntimeError("the page failed after the reply was written")

    assert callbacks == []
    assert mailoutbox == []
    assert not OutboundMessage.objects.filter(post__thread=thread).exclude(post__parent=None).exists()


@pytest.fixture
def unsent(member_factory, thread):
    """A delivery row for a member who joined after the post went out."""
    return OutboundMessage.objects.create(post=thread.posts.get(), member=member_factory())


def test_deliver_outbound_records_a_failure_then_sends_exactly_once(unsent, settings, mailoutbox):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"

    with pytest.raises(outbound.TransientSendError):
        outbound.deliver_outbound(unsent.id)

    unsent.refresh_from_db()
    assert (unsent.status, unsent.attempts, unsent.sent_at) == (OutboundMessage.Status.PENDING, 1, None)
    assert "Connection unexpectedly closed" in unsent.last_error
    assert mailoutbox == []

    settings.EMAIL_BACKEND = LOCMEM
    outbound.deliver_outbound(unsent.id)
    outbound.deliver_outbound(unsent.id)

    unsent.refresh_from_db()
    assert (unsent.status, unsent.attempts) == (OutboundMessage.Status.SENT, 2)
    assert unsent.sent_at is not None
    assert [message.to for message in mailoutbox] == [[unsent.member.email]]


@pytest.mark.parametrize("change", ["suspended", "unsubscribed"])
def test_deliver_outbound_skips_member_who_lost_access_after_fan_out(unsent, change, mailoutbox):
    if change == "suspended":
        Member.objects.filter(pk=unsent.member_id).update(status=Member.Status.SUSPENDED)
    else:
        MailPreference.objects.filter(member_id=unsent.member_id).update(mode=MailPreference.Mode.NONE)

    outbound.deliver_outbound(unsent.id)

    unsent.refresh_from_db()
    assert unsent.status == OutboundMessage.Status.SKIPPED
    assert mailoutbox == []


def test_deliver_outbound_task_gives_up_after_max_retries(unsent, settings, mailoutbox):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    celery_app.conf.task_eager_propagates = False  # so eager apply() runs every retry in turn

    result = tasks.deliver_outbound.apply(args=[unsent.id])

    assert isinstance(result.result, outbound.TransientSendError)

    unsent.refresh_from_db()
    assert (unsent.status, unsent.attempts) == (OutboundMessage.Status.FAILED, tasks.deliver_outbound.max_retries + 1)

    settings.EMAIL_BACKEND = LOCMEM
    outbound.deliver_outbound(unsent.id)

    assert mailoutbox == []



def test_deliver_outbound_mention_links_point_at_the_site(member, list_members, thread, reply_factory, mailoutbox):
    mentioned = list_members["each_too"]
    reply_factory(author=list_members["each"], parent=thread.posts.get(),
                  body=f"Ask @{handle_for(mentioned.full_name)} about groups.")
    [message] = [m for m in mailoutbox if m.to == [member.email] and "about groups" in m.body]

    html = parsed(message).get_body(("html",)).get_content()

    assert f'href="http://testserver/members/{mentioned.id}/"' in html
    assert 'href="/members/' not in html
