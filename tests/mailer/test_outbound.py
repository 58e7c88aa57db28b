import email
import re
import smtplib
from email import policy
from email.utils import getaddresses
from urllib.parse import parse_qs, urlsplit

import pytest
from anymail.exceptions import AnymailRecipientsRefused
from django.conf import settings
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.utils import timezone

from community.celery import app as celery_app
from community.models import Member
from mailer import outbound, selectors, tasks
from mailer.models import DeliveryEvent, MailPreference, OutboundMessage
from mailer.tokens import parse_bounce_address, parse_reply_address, read_unsubscribe_token
from threads.mentions import handle_for
from threads.models import Category, Post, Subscription
from threads.services import create_reply, create_thread

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
    assert parsed_message["List-Help"] == "<http://testserver/mail/help/>"
    assert parsed_message["Precedence"] == "list"
    assert parsed_message["X-Auto-Response-Suppress"] == "OOF, AutoReply"
    assert parsed_message["Auto-Submitted"] is None  # a member's post is not automatic mail
    assert parse_bounce_address(message.from_email, generation_of) == member.id  # the envelope sender (VERP)
    text = parsed_message.get_body(("plain",)).get_content()
    html = parsed_message.get_body(("html",)).get_content()
    assert "*Tea* helps." in text
    assert f"http://testserver/posts/{second.id}/" in text  # the post's address finds its page of the thread
    assert "Reply to this email to post your answer to the list" in text
    assert web in text
    assert "Email settings: http://testserver/mail/settings/" in text
    assert "<em>Tea</em> helps." in html
    assert web.replace("&", "&amp;") in html
    for link in (f"http://testserver/threads/{thread.id}/", f"http://testserver/posts/{second.id}/",
                 "http://testserver/mail/settings/", "http://testserver/mail/help/"):
        assert f'href="{link}"' in html
    assert "Reply to this email to post your answer to the list." in html


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


# --- Who gets a post as it is posted ---------------------------------------------------------------------------

Mode, Level = MailPreference.Mode, Subscription.Level


def test_each_message_recipient_ids_follow_the_delivery_rules(member, member_factory, category, other_category,
                                                              django_assert_num_queries):
    def make(mode, thread_level=None, category_level=None, on=category):
        chosen = member_factory(mail_mode=mode)
        if category_level:
            Subscription.objects.create(member=chosen, category=on, level=category_level)
        if thread_level:
            Subscription.objects.create(member=chosen, thread=thread, level=thread_level)
        return chosen

    starter = member_factory(full_name="Stella Starter", mail_mode=Mode.MINE)
    thread = create_thread(author=starter, category=category, title="Sleep after torture", body="Where to begin?")
    root = thread.posts.get()
    replier, named_before, named_now = (member_factory(mail_mode=Mode.MINE, full_name=name)
                                        for name in ("Rob Replier", "Nat Before", "Nell Now"))
    category_replier = make(Mode.EACH, category_level=Level.MINE)
    create_reply(author=replier, parent=root, body="We use a sleep diary.")
    create_reply(author=category_replier, parent=root, body="So do we.")
    namer = member_factory(mail_mode=Mode.WEEKLY)  # taking part changes nothing for a member not on "mine"
    create_reply(author=namer, parent=root, body=f"@{handle_for(named_before.full_name)} knows.")
    paused = make(Mode.EACH)
    MailPreference.objects.filter(member=paused).update(delivery_paused_at=timezone.now())
    never_chose = member_factory()
    MailPreference.objects.filter(member=never_chose).delete()
    cases = {
        "each": (make(Mode.EACH), True),
        "daily": (make(Mode.DAILY), False),
        "weekly": (make(Mode.WEEKLY), False),
        "none": (make(Mode.NONE), False),
        "never chose (daily)": (never_chose, False),
        "thread watched, mode daily": (make(Mode.DAILY, thread_level=Level.WATCH), True),
        "thread watched, mode none": (make(Mode.NONE, thread_level=Level.WATCH), True),
        "thread muted, mode each": (make(Mode.EACH, thread_level=Level.MUTE), False),
        "thread on daily, mode each": (make(Mode.EACH, thread_level=Level.DAILY), False),
        "category watched, mode none": (make(Mode.NONE, category_level=Level.WATCH), True),
        "category weekly, mode each": (make(Mode.EACH, category_level=Level.WEEKLY), False),
        "thread watched, category muted": (make(Mode.DAILY, Level.WATCH, Level.MUTE), True),
        "thread muted, category watched": (make(Mode.EACH, Level.MUTE, Level.WATCH), False),
        "other category watched": (make(Mode.DAILY, category_level=Level.WATCH, on=other_category), False),
        "mine, started the thread": (starter, True),
        "mine, replied in it": (replier, True),
        "mine, named in an earlier post": (named_before, True),
        "mine, named in this post": (named_now, True),
        "mine, not taking part": (make(Mode.MINE), False),
        "weekly, wrote in the thread": (namer, False),
        "category on mine, replied in it": (category_replier, True),
        "category on mine, not taking part": (make(Mode.EACH, category_level=Level.MINE), False),
        "each, list mail paused": (paused, False),
        "each, suspended": (member_factory(status=Member.Status.SUSPENDED), False),
        "each, the author": (member, False),
    }
    post = create_reply(author=member, parent=root, body=f"Ask @{handle_for(named_now.full_name)} too.")

    with django_assert_num_queries(1):
        ids = set(selectors.each_message_recipient_ids(post))

    assert {name for name, (who, _) in cases.items() if who.id in ids} == {
        name for name, (_, expected) in cases.items() if expected}
    assert ids <= {who.id for who, _ in cases.values()}


@pytest.fixture
def announcements(db):
    return Category.objects.create(name="Announcements", moderators_only=True)


def test_announcement_goes_at_once_to_everyone_not_on_no_email(moderator, member_factory, announcements,
                                                               django_capture_on_commit_callbacks, mailoutbox):
    getting = [member_factory(mail_mode=mode) for mode in (Mode.EACH, Mode.DAILY, Mode.WEEKLY, Mode.MINE)]
    quiet = member_factory(mail_mode=Mode.NONE)
    muting = member_factory(mail_mode=Mode.DAILY)
    Subscription.objects.create(member=muting, category=announcements, level=Level.MUTE)
    paused = member_factory(mail_mode=Mode.DAILY)
    MailPreference.objects.filter(member=paused).update(delivery_paused_at=timezone.now())
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        thread = create_thread(author=moderator, category=announcements, title="New webinar series",
                               body="Starting in March.")

    assert recipients(mailoutbox) == sorted(who.email for who in getting)
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        create_reply(author=moderator, parent=thread.posts.get(), body="Registration is open.")

    assert recipients(mailoutbox) == [getting[0].email]  # replies follow each member's own choice
    assert quiet.email not in recipients(mailoutbox)


def test_each_message_recipient_ids_none_for_a_held_or_hidden_post(member, list_members, thread):
    post = create_reply(author=member, parent=thread.posts.get(), body="Waiting for a moderator.")
    now = timezone.now()
    Post.objects.filter(pk=post.pk).update(held_at=now, hidden_at=now)

    assert selectors.each_message_recipient_ids(post) == []
    assert not selectors.still_wants_post(list_members["each"].id, post.id)


# --- How the message looks ------------------------------------------------------------------------------------

def test_deliver_outbound_without_verp_sends_from_the_list_address(member, list_members, thread, reply_factory,
                                                                   settings, mailoutbox):
    settings.LIST_VERP = False

    reply_factory(author=list_members["each"], parent=thread.posts.get(), body="No envelope games.")

    [message] = [m for m in mailoutbox if m.to == [member.email]]
    assert message.from_email == f"Eve Each via HealTorture-Talk <{settings.LIST_ADDRESS}>"
    assert "From" not in message.extra_headers


def test_deliver_outbound_envelope_sender_through_anymail(member, list_members, thread, reply_factory, settings):
    """anymail takes from_email as the envelope sender when a From header is given (ESPs that cannot set one
    raise AnymailUnsupportedFeature: LIST_VERP=0 for them)."""
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    mail.outbox = []

    reply_factory(author=list_members["each"], parent=thread.posts.get(), body="Through an ESP.")

    [message] = [m for m in mail.outbox if m.to == [member.email]]
    params = message.anymail_test_params
    assert parse_bounce_address(params["envelope_sender"], generation_of) == member.id
    assert params["from"].addr_spec == settings.LIST_ADDRESS
    assert params["from"].display_name == "Eve Each via HealTorture-Talk"


def test_deliver_outbound_html_stays_readable_in_dark_mode(member, list_members, thread, reply_factory, mailoutbox):
    reply_factory(author=list_members["each"], parent=thread.posts.get(), body="Readable at night.")
    [message] = [m for m in mailoutbox if m.to == [member.email]]

    html = parsed(message).get_body(("html",)).get_content()

    assert '<meta name="color-scheme" content="light dark">' in html
    assert '<meta name="supported-color-schemes" content="light dark">' in html
    assert "@media (prefers-color-scheme: dark)" in html
    styles = re.findall(r'style="([^"]*)"', html)
    with_background = [style for style in styles if "background" in style]
    assert with_background and all(re.search(r"(^|;)color:", style) for style in with_background)
    assert not re.search(r"(^|[;\s])color:\s*#f{3}(f{3})?\b", html, re.IGNORECASE)  # no white text


def test_deliver_outbound_attachments_are_links_not_files(member, list_members, thread, settings, tmp_path,
                                                          mailoutbox, django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = tmp_path
    with django_capture_on_commit_callbacks(execute=True):
        reply = create_reply(author=list_members["each"], parent=thread.posts.get(), body="Slides attached.",
                             attachments=[SimpleUploadedFile("Sleep plan.pdf", b"%PDF-1.7\n%%EOF\n")])
    [attachment] = reply.attachments.all()
    [message] = [m for m in mailoutbox if m.to == [member.email]]

    parsed_message = parsed(message)

    url = f"http://testserver/attachments/{attachment.id}/Sleep%20plan.pdf"
    assert message.attachments == [] and list(parsed_message.iter_attachments()) == []
    assert f"Sleep plan.pdf (15\xa0bytes): {url}" in parsed_message.get_body(("plain",)).get_content()
    assert f'href="{url}"' in parsed_message.get_body(("html",)).get_content()


# --- Refusals --------------------------------------------------------------------------------------------------

class RefusingRecipient(BaseEmailBackend):
    """A mail server that answers the recipient or the message with `error`."""

    error = None

    def send_messages(self, email_messages):
        raise RefusingRecipient.error


@pytest.mark.parametrize(("error", "reason"), [
    (smtplib.SMTPRecipientsRefused({"x@example.org": (550, b"5.1.1 No such user")}), "550 5.1.1 No such user"),
    (smtplib.SMTPDataError(554, b"5.7.1 Message rejected as spam"), "554 5.7.1 Message rejected as spam"),
    (AnymailRecipientsRefused(), "All message recipients were rejected or invalid"),
])
def test_deliver_outbound_permanent_refusal_fails_at_once(unsent, error, reason, settings, mailoutbox):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingRecipient"
    RefusingRecipient.error = error
    celery_app.conf.task_eager_propagates = False

    tasks.deliver_outbound.apply(args=[unsent.id])

    unsent.refresh_from_db()
    assert (unsent.status, unsent.attempts) == (OutboundMessage.Status.FAILED, 1)  # not retried
    assert unsent.last_error == f"Refused for good: {reason}"


@pytest.mark.parametrize(("error", "pauses"), [
    (smtplib.SMTPRecipientsRefused({"x@example.org": (550, b"5.1.1 No such user")}), True),
    (smtplib.SMTPRecipientsRefused({"x@example.org": (550, b"5.2.1 Mailbox disabled")}), True),
    (AnymailRecipientsRefused(), True),
    # Our relay's own refusals and spam verdicts are about us or the message: pausing would stop the whole list.
    (smtplib.SMTPRecipientsRefused({"x@example.org": (550, b"5.7.1 Relaying denied")}), False),
    (smtplib.SMTPRecipientsRefused({"x@example.org": (550, b"Mailbox unavailable")}), False),
    (smtplib.SMTPDataError(554, b"5.7.1 Message rejected as spam"), False),
])
def test_deliver_outbound_permanent_refusal_pauses_list_mail_only_for_a_refused_address(
        unsent, error, pauses, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingRecipient"
    RefusingRecipient.error = error

    with django_capture_on_commit_callbacks(execute=True):
        outbound.deliver_outbound(unsent.id)

    preference = MailPreference.objects.get(member=unsent.member)
    assert (preference.delivery_paused_at is not None) is pauses
    assert DeliveryEvent.objects.filter(member=unsent.member, kind=DeliveryEvent.Kind.HARD_BOUNCE).exists() is pauses


@pytest.mark.parametrize("error", [
    smtplib.SMTPRecipientsRefused({"x@example.org": (450, b"4.2.1 Mailbox busy, try later")}),
    smtplib.SMTPDataError(451, b"4.3.0 Temporary failure"),
    smtplib.SMTPSenderRefused(550, b"5.7.1 Relaying denied", "bounces@example.org"),  # our setup, not theirs
])
def test_deliver_outbound_temporary_refusal_is_retried(unsent, error, settings):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingRecipient"
    RefusingRecipient.error = error

    with pytest.raises(outbound.TransientSendError):
        outbound.deliver_outbound(unsent.id)

    unsent.refresh_from_db()
    assert (unsent.status, unsent.attempts) == (OutboundMessage.Status.PENDING, 1)
