import io
import os
import smtplib
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings as django_settings
from django.core.mail.backends import locmem
from django.core.management import call_command
from django.utils import timezone

from community.celery import app as celery_app
from community.models import Member
from mailer import inbound
from mailer.models import DeliveryEvent, InboundMessage, MailPreference
from mailer.outbound import build_post_message
from mailer.tokens import make_bounce_address
from threads.models import Category, Post, Thread

from .inbound_mail import auto_replies, eml, rejections, reply_address, reply_eml


class FlakyBackend(locmem.EmailBackend):
    """A mail server that refuses the first message it is given, then works."""

    refused = 0

    def send_messages(self, messages):
        if FlakyBackend.refused == 0:
            FlakyBackend.refused += 1
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


def email_replies(parent):
    return list(Post.objects.filter(parent=parent, source=Post.Source.EMAIL))


EXPECTED_BODIES = {
    "gmail_reply.eml": (
        "We start with a short grounding exercise and keep the first three sessions\n"
        "about what to expect, not about what happened.\n\n"
        "Happy to share our handout if it helps.\n\n"
        "Rosa"
    ),
    "outlook_reply.eml": (
        "Thank you for raising this. At our center we work only with interpreters who have had "
        "trauma-informed training, and we brief them before every session.\n\n"
        "Rosa Alvarez, LCSW\nClinical Director"
    ),
    "apple_mail_reply.eml": (
        "We\u2019re running a waiting-list group too. We send a short check-in note every two weeks so "
        "nobody feels forgotten."
    ),
    # The two below carry the original in forms the reply parser library alone leaves in place.
    "yahoo_reply.eml": "We open with a welcome circle and keep the group to six people at most.\nAna",
    "gmail_spanish_reply.eml": (
        "Nosotros hacemos los grupos en espa\u00f1ol con una co-facilitadora de la\n"
        "comunidad. It made a real difference for attendance."
    ),
    "html_only_reply.eml": (
        "Two things that helped us:\n\n"
        "- Meeting at the same time & place every week\n"
        "- A shared meal at the end\n\n"
        "Our notes are in the program guide <https://cascade.example.org/groups>."
    ),
    # Bottom-posted under the quote, format=flowed lines joined into paragraphs, "-- " signature dropped.
    "thunderbird_bottom_post.eml": (
        "We start with a circle of chairs and a pot of tea, and keep the first session to forty-five minutes. "
        "Everyone on the waiting list gets a check-in call every two weeks until a place opens.\n\n"
        "Our intake worker makes the calls, not the clinician: it keeps the clinician\u2019s hours for the sessions."
    ),
    # Answers between the quoted questions keep their questions.
    "interleaved_reply.eml": (
        "Hi Dana,\n\n"
        "> How many sessions do you plan?\n\n"
        "Eight, then we ask the group whether to go on.\n\n"
        "> Do you work with interpreters?\n\n"
        "Yes, and always the same one for the whole group, so that trust builds.\n\n"
        "> Any handouts you could share?\n> We have nothing in Dari yet.\n\n"
        "I will post ours on the website this week."
    ),
    # Text, a photo, text: both texts, "Sent from my iPhone" and the quote set aside, the photo attached.
    "iphone_reply.eml": "This is the flyer we hand out in the waiting room:\n\nWe print it in Spanish and Dari too.",
    # The [cid:...] placeholder of the inline picture is gone; the picture is attached.
    "outlook_inline_image_reply.eml": (
        "This is how we set up the room for the first session:\n\n"
        "Chairs in a circle, the door left open, tea on the side table.\n\n"
        "Rosa Alvarez, LCSW\nClinical Director"
    ),
}


def test_receive_raw_stores_the_message_and_enqueues_on_commit(parent, replier,
                                                               django_capture_on_commit_callbacks):
    address = reply_address(parent, replier)
    with django_capture_on_commit_callbacks() as callbacks:
        stored = inbound.receive_raw(reply_eml("gmail_reply.eml", parent, replier), envelope_recipient=address)

    stored.refresh_from_db()
    assert stored.status == InboundMessage.Status.RECEIVED
    assert stored.message_id == "<CAF3xk2Lq0b9nS-WcH8Jp1Y2qM=dQ5u7Zc1vF3nT8o@mail.gmail.com>"
    assert stored.sender == replier.email
    assert stored.recipient == address
    assert stored.subject == "Re: [HealTorture-Talk] Group work with new arrivals"
    assert "Happy to share our handout" in stored.raw
    assert len(callbacks) == 1
    assert email_replies(parent) == []


@pytest.mark.parametrize("fixture", sorted(EXPECTED_BODIES))
def test_process_inbound_posts_the_reply_without_quoted_text(fixture, parent, replier, deliver, mailoutbox):
    stored = deliver(reply_eml(fixture, parent, replier))

    [post] = email_replies(parent)
    assert post.author == replier
    assert post.thread == parent.thread
    assert post.body == EXPECTED_BODIES[fixture]
    stored.refresh_from_db()
    assert (stored.status, stored.post) == (InboundMessage.Status.POSTED, post)
    assert rejections(mailoutbox) == []


def test_process_inbound_matches_the_sender_whatever_its_case(parent, replier, deliver):
    deliver(reply_eml("gmail_reply.eml", parent, replier, sender=replier.email.upper()))

    assert len(email_replies(parent)) == 1


def test_process_inbound_finds_the_reply_address_in_the_envelope_only(parent, replier, deliver):
    raw = reply_eml("gmail_reply.eml", parent, replier).replace(
        reply_address(parent, replier).encode(), django_settings.LIST_ADDRESS.encode()
    )

    deliver(raw, envelope_recipient=reply_address(parent, replier))

    assert len(email_replies(parent)) == 1


def test_receive_raw_ignores_a_duplicate_delivery(parent, replier, deliver, django_capture_on_commit_callbacks):
    raw = reply_eml("gmail_reply.eml", parent, replier)
    assert deliver(raw) is not None

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert inbound.receive_raw(raw) is None

    assert callbacks == []
    assert InboundMessage.objects.count() == 1
    assert len(email_replies(parent)) == 1


def test_receive_raw_gives_mail_without_message_id_a_stable_one(parent, replier, deliver):
    raw = b"\n".join(line for line in reply_eml("gmail_reply.eml", parent, replier).split(b"\n")
                     if not line.startswith(b"Message-ID:"))

    first = deliver(raw)
    again = deliver(raw)

    assert first.message_id.startswith("<") and first.message_id.endswith("@no-message-id.invalid>")
    assert again is None
    assert len(email_replies(parent)) == 1


def test_process_inbound_does_nothing_for_a_message_already_processed(parent, replier, deliver):
    stored = deliver(reply_eml("gmail_reply.eml", parent, replier))

    inbound.process_inbound(stored.id)

    assert len(email_replies(parent)) == 1


@pytest.mark.parametrize("fixture", ["auto_reply.eml", "bounce.eml"])
def test_process_inbound_ignores_automated_mail_silently(fixture, parent, replier, deliver, mailoutbox):
    stored = deliver(reply_eml(fixture, parent, replier))

    stored.refresh_from_db()
    assert stored.status == InboundMessage.Status.IGNORED
    assert email_replies(parent) == []
    assert rejections(mailoutbox) == []


@pytest.mark.parametrize("header", [
    "Precedence: bulk",
    "Precedence: junk",
    "Auto-Submitted: auto-generated",
    "X-Autoreply: yes",
    "X-Autorespond: Out of office",
    "Return-Path: <>",
])
def test_process_inbound_ignores_mail_marked_automated(header, parent, replier, deliver, mailoutbox):
    raw = reply_eml("gmail_reply.eml", parent, replier).replace(b"Return-Path:", b"X-Was-Return-Path:")

    stored = deliver(f"{header}\n".encode() + raw)

    stored.refresh_from_db()
    assert stored.status == InboundMessage.Status.IGNORED
    assert email_replies(parent) == []
    assert rejections(mailoutbox) == []


def test_process_inbound_posts_mail_marked_not_automated(parent, replier, deliver):
    deliver(b"Auto-Submitted: no\n" + reply_eml("gmail_reply.eml", parent, replier))

    assert len(email_replies(parent)) == 1


def test_process_inbound_ignores_mail_from_the_postmaster(parent, replier, deliver, mailoutbox):
    stored = deliver(reply_eml("gmail_reply.eml", parent, replier, sender="postmaster@cascade.example.org"))

    stored.refresh_from_db()
    assert stored.status == InboundMessage.Status.IGNORED
    assert rejections(mailoutbox) == []


def _forwarded_by_a_filter(list_mail, member):
    """As a mailbox rule might pass list mail on: list headers dropped, From rewritten, Message-ID kept."""
    for name in ("From", "List-Id", "Precedence", "Sender"):
        del list_mail[name]
    list_mail["From"] = member.email
    return list_mail


@pytest.mark.parametrize("rewrite", [lambda list_mail, member: list_mail, _forwarded_by_a_filter],
                         ids=["as sent", "forwarded by a filter"])
def test_process_inbound_ignores_our_own_list_mail_coming_back(rewrite, parent, replier, deliver, mailoutbox):
    list_mail = rewrite(build_post_message(parent.id, replier).message(), replier)

    stored = deliver(list_mail.as_bytes(), envelope_recipient=reply_address(parent, replier))

    stored.refresh_from_db()
    assert stored.status == InboundMessage.Status.IGNORED
    assert email_replies(parent) == []
    assert rejections(mailoutbox) == []


def assert_rejected_once(stored, sender, mailoutbox, reason):
    stored.refresh_from_db()
    assert stored.status == InboundMessage.Status.REJECTED
    assert stored.post is None
    [rejection] = rejections(mailoutbox)
    assert rejection.to == [sender]
    assert rejection.extra_headers["In-Reply-To"] == stored.message_id
    assert rejection.subject == f"Not posted: {stored.subject}"
    assert "was not posted" in rejection.body
    assert reason in rejection.body


def test_process_inbound_tells_a_non_member_why_nothing_was_posted(parent, member, deliver, mailoutbox):
    sender = "sam.colleague@tacoma.example.org"

    stored = deliver(reply_eml("non_member.eml", parent, member, sender=sender))

    assert email_replies(parent) == []
    assert_rejected_once(stored, sender, mailoutbox, "from an address other than the one the list wrote to")


def test_process_inbound_refuses_a_member_writing_with_another_members_address(parent, member, replier, deliver,
                                                                               mailoutbox):
    stored = deliver(reply_eml("gmail_reply.eml", parent, member, sender=replier.email))

    assert email_replies(parent) == []
    assert_rejected_once(stored, replier.email, mailoutbox, "from an address other than")


@pytest.mark.parametrize("status", [Member.Status.PENDING, Member.Status.SUSPENDED, Member.Status.LAPSED])
def test_process_inbound_refuses_a_member_who_is_not_active(status, parent, replier, deliver, mailoutbox):
    address = reply_address(parent, replier)
    Member.objects.filter(pk=replier.pk).update(status=status)

    stored = deliver(eml("gmail_reply.eml", sender=replier.email, reply_address=address,
                         parent_message_id=parent.message_id))

    assert email_replies(parent) == []
    assert_rejected_once(stored, replier.email, mailoutbox, "your membership is not active")


def test_process_inbound_refuses_a_forged_reply_address(parent, replier, deliver, mailoutbox):
    address = reply_address(parent, replier)
    local, domain = address.split("@")
    forged = f"{local[:-1]}{'a' if local[-1] != 'a' else 'b'}@{domain}"

    stored = deliver(eml("gmail_reply.eml", sender=replier.email, reply_address=forged,
                         parent_message_id=parent.message_id))

    assert email_replies(parent) == []
    assert_rejected_once(stored, replier.email, mailoutbox, "it may have been altered or withdrawn")


def test_process_inbound_refuses_a_revoked_reply_address(parent, replier, deliver, mailoutbox):
    raw = reply_eml("gmail_reply.eml", parent, replier)
    MailPreference.objects.filter(member=replier).update(token_generation=1)

    stored = deliver(raw)

    assert email_replies(parent) == []
    assert_rejected_once(stored, replier.email, mailoutbox, "it may have been altered or withdrawn")


def test_process_inbound_refuses_an_expired_reply_address(parent, replier, deliver, mailoutbox, settings,
                                                          monkeypatch):
    settings.REPLY_TOKEN_MAX_AGE_DAYS = 30
    issued = timezone.now() - timedelta(days=31)
    with monkeypatch.context() as patch:
        patch.setattr(timezone, "now", lambda: issued)
        raw = reply_eml("gmail_reply.eml", parent, replier)

    stored = deliver(raw)

    assert email_replies(parent) == []
    assert_rejected_once(stored, replier.email, mailoutbox, "This reply address has expired.")


def test_process_inbound_refuses_a_reply_to_a_locked_thread(parent, replier, deliver, mailoutbox):
    parent.thread.locked = True
    parent.thread.save()

    stored = deliver(reply_eml("gmail_reply.eml", parent, replier))

    assert email_replies(parent) == []
    assert_rejected_once(stored, replier.email, mailoutbox, "This thread is closed to new replies.")


def test_process_inbound_refuses_mail_not_sent_to_any_of_our_addresses(parent, replier, deliver, mailoutbox):
    raw = reply_eml("gmail_reply.eml", parent, replier).replace(
        reply_address(parent, replier).encode(), b"healtorture-talk@googlegroups.com"
    )

    stored = deliver(raw)

    assert Post.objects.filter(source=Post.Source.EMAIL).count() == 0
    assert_rejected_once(stored, replier.email, mailoutbox, "not sent to an address where the list takes messages.")


def test_process_inbound_refuses_an_empty_reply(parent, replier, deliver, mailoutbox):
    # The text part keeps only the attribution and the quote.
    raw = reply_eml("gmail_reply.eml", parent, replier).replace(EXPECTED_BODIES["gmail_reply.eml"].encode(), b"")

    stored = deliver(raw)

    assert email_replies(parent) == []
    assert_rejected_once(stored, replier.email, mailoutbox, "Your reply was empty")


def test_process_inbound_sends_one_rejection_an_hour_per_sender(parent, replier, deliver, mailoutbox):
    parent.thread.locked = True
    parent.thread.save()
    raw = reply_eml("gmail_reply.eml", parent, replier)

    deliver(raw)
    deliver(raw.replace(b"Message-ID: <CAF3xk2", b"Message-ID: <second-CAF3xk2"))

    assert InboundMessage.objects.filter(status=InboundMessage.Status.REJECTED).count() == 2
    assert len(rejections(mailoutbox)) == 1


def test_send_rejection_failed_send_is_retried_and_sent_once(parent, replier, deliver, mailoutbox, settings):
    settings.EMAIL_BACKEND = f"{__name__}.FlakyBackend"
    FlakyBackend.refused = 0
    celery_app.conf.task_eager_propagates = False  # so eager apply() runs the retry in turn
    parent.thread.locked = True
    parent.thread.save()

    deliver(reply_eml("gmail_reply.eml", parent, replier))

    assert FlakyBackend.refused == 1
    assert len(rejections(mailoutbox)) == 1


def test_requeue_stale_inbound_processes_mail_stored_while_the_queue_was_down(
    parent, replier, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):  # the enqueue never happened
        stored = inbound.receive_raw(reply_eml("gmail_reply.eml", parent, replier))
    assert inbound.requeue_stale_inbound() == 0  # too fresh: its own task may still be on the way
    InboundMessage.objects.filter(pk=stored.pk).update(received_at=timezone.now() - timedelta(minutes=10))

    assert inbound.requeue_stale_inbound() == 1
    assert inbound.requeue_stale_inbound() == 0

    [post] = email_replies(parent)
    assert post.body == EXPECTED_BODIES["gmail_reply.eml"]


def test_process_inbound_reply_reaches_members_who_get_each_message(parent, replier, member_factory, deliver,
                                                                   mailoutbox):
    reader = member_factory(full_name="Each Reader", mail_mode=MailPreference.Mode.EACH)
    digest_reader = member_factory(full_name="Digest Reader", mail_mode=MailPreference.Mode.DAILY)
    mailoutbox.clear()

    deliver(reply_eml("outlook_reply.eml", parent, replier))

    [post] = email_replies(parent)
    list_mail = [message for message in mailoutbox if message.extra_headers.get("Message-ID") == post.message_id]
    recipients = {address for message in list_mail for address in message.to}
    assert reader.email in recipients
    assert digest_reader.email not in recipients
    assert replier.email not in recipients
    assert "interpreters who have had trauma-informed training" in list_mail[0].body


def test_inbound_email_command_stores_and_processes_stdin(parent, replier, django_capture_on_commit_callbacks):
    raw = reply_eml("apple_mail_reply.eml", parent, replier)
    out = io.StringIO()

    with django_capture_on_commit_callbacks(execute=True):
        call_command("inbound_email", "--recipient", reply_address(parent, replier), stdin=io.BytesIO(raw),
                     stdout=out)
        call_command("inbound_email", stdin=io.BytesIO(raw), stdout=out)

    [post] = email_replies(parent)
    assert post.body == EXPECTED_BODIES["apple_mail_reply.eml"]
    assert InboundMessage.objects.get().recipient == reply_address(parent, replier)
    assert "Already received" in out.getvalue()


def test_inbound_email_command_asks_the_mta_to_retry_when_the_database_is_down(parent, replier):
    project = Path(__file__).resolve().parents[2]
    env = {**os.environ, "DATABASE_URL": "postgres://postgres@127.0.0.1:9/unreachable",
           "SECRET_KEY": "test-only-secret-key", "DEBUG": "0"}

    result = subprocess.run(
        [sys.executable, "manage.py", "inbound_email"], check=False, cwd=project, env=env, capture_output=True,
        timeout=60, input=reply_eml("gmail_reply.eml", parent, replier),
    )

    assert result.returncode == 75, result.stderr.decode()
    assert InboundMessage.objects.count() == 0


# New threads by email


def new_thread_eml(sender: str, to: str, subject: str = "[HealTorture-Talk] Dari interpreters by video") -> bytes:
    return eml("new_thread.eml", sender=sender, to=to, subject=subject)


NEW_THREAD_BODY = ("Has anyone found a Dari interpreter who can also work by video? Our\n"
                   "clients in rural counties cannot travel to the office.")


def test_process_inbound_starts_a_thread_from_mail_to_the_list_address(replier, category, other_category, deliver,
                                                                     mailoutbox):
    stored = deliver(new_thread_eml(replier.email, django_settings.LIST_ADDRESS))

    [thread] = Thread.objects.filter(author=replier)
    assert (thread.title, thread.category) == ("Dari interpreters by video", category)
    [post] = thread.posts.all()
    assert (post.body, post.source, post.parent) == (NEW_THREAD_BODY, Post.Source.EMAIL, None)
    stored.refresh_from_db()
    assert (stored.status, stored.post) == (InboundMessage.Status.POSTED, post)
    assert rejections(mailoutbox) == []


def test_process_inbound_starts_a_thread_in_the_default_category(replier, category, other_category, deliver,
                                                                settings):
    settings.LIST_DEFAULT_CATEGORY = other_category.slug

    deliver(new_thread_eml(replier.email, settings.LIST_ADDRESS))

    assert Thread.objects.get(author=replier).category == other_category


def test_default_category_is_the_first_one_members_may_start_threads_in(db, settings):
    settings.LIST_DEFAULT_CATEGORY = ""
    Category.objects.create(name="Announcements", position=0, moderators_only=True)
    open_to_all = Category.objects.create(name="Clinical questions", position=1)

    assert inbound.default_category() == open_to_all


def test_process_inbound_starts_a_thread_in_the_category_of_its_address(replier, category, other_category,
                                                                       deliver):
    deliver(new_thread_eml(replier.email, f"{other_category.slug.upper()}@lists.example.org"))

    assert Thread.objects.get(author=replier).category == other_category


def test_process_inbound_takes_a_new_thread_from_a_confirmed_second_address(replier, category, deliver):
    EmailAddress.objects.create(user=replier.user, email="rosa.alvarez@gmail.example.com", verified=True)

    deliver(new_thread_eml("Rosa.Alvarez@gmail.example.com", django_settings.LIST_ADDRESS))

    assert Thread.objects.get(title="Dari interpreters by video").author == replier


def test_process_inbound_lets_moderators_start_threads_in_moderators_only_categories(moderator, deliver):
    announcements = Category.objects.create(name="Announcements", moderators_only=True)

    deliver(new_thread_eml(moderator.email, f"{announcements.slug}@lists.example.org"))

    assert Thread.objects.get(author=moderator).category == announcements


@pytest.mark.parametrize(("setup", "reason"), [
    ("unknown", "this address does not belong to a member"),
    ("unconfirmed", "This address is in your account but not confirmed yet."),
    ("suspended", "your membership is not active"),
    ("lapsed", "your membership is not active"),
    ("moderators_only", "Only moderators start discussions in “Announcements”."),
    ("no_subject", "It had no subject."),
    ("unknown_category", "There is no discussion area at housing@lists.example.org."),
])
def test_process_inbound_refuses_a_new_thread(setup, reason, replier, category, deliver, mailoutbox):
    sender, to, subject = replier.email, django_settings.LIST_ADDRESS, "Dari interpreters by video"
    if setup == "unknown":
        sender = "sam.colleague@tacoma.example.org"
    elif setup == "unconfirmed":
        sender = "rosa@home.example.net"
        EmailAddress.objects.create(user=replier.user, email=sender, verified=False)
    elif setup in ("suspended", "lapsed"):
        Member.objects.filter(pk=replier.pk).update(status=setup)
    elif setup == "moderators_only":
        to = f"{Category.objects.create(name='Announcements', moderators_only=True).slug}@lists.example.org"
    elif setup == "no_subject":
        subject = "Re: [HealTorture-Talk]"
    elif setup == "unknown_category":
        to = "housing@lists.example.org"

    stored = deliver(new_thread_eml(sender, to, subject))

    assert not Thread.objects.filter(posts__source=Post.Source.EMAIL).exists()
    assert_rejected_once(stored, sender, mailoutbox, reason)


def test_process_inbound_puts_a_reply_to_the_list_address_under_the_post_it_answers(parent, replier, deliver):
    raw = reply_eml("gmail_reply.eml", parent, replier).replace(
        reply_address(parent, replier).encode(), django_settings.LIST_ADDRESS.encode())

    deliver(raw, envelope_recipient=django_settings.LIST_ADDRESS)

    [post] = email_replies(parent)
    assert post.body == EXPECTED_BODIES["gmail_reply.eml"]
    assert Thread.objects.count() == 1


def test_process_inbound_puts_a_reply_all_under_the_post_whichever_copy_comes_first(parent, replier, deliver):
    raw = b"Cc: " + django_settings.LIST_ADDRESS.encode() + b"\n" + reply_eml("gmail_reply.eml", parent, replier)

    deliver(raw, envelope_recipient=django_settings.LIST_ADDRESS)
    deliver(raw, envelope_recipient=reply_address(parent, replier))

    assert len(email_replies(parent)) == 1
    assert Thread.objects.count() == 1


def test_process_inbound_refuses_an_answer_to_a_whole_digest_and_gives_the_words_back(replier, category, deliver,
                                                                                    mailoutbox):
    digest_id = f"<176512345678.4242.9876543210.digest-daily@{django_settings.LIST_DOMAIN}>"
    raw = new_thread_eml(replier.email, django_settings.LIST_ADDRESS,
                         subject="Re: [HealTorture-Talk] Daily digest, Monday 1 December: 3 new messages")
    raw = f"In-Reply-To: {digest_id}\nReferences: {digest_id}\n".encode() + raw

    stored = deliver(raw, envelope_recipient=django_settings.LIST_ADDRESS)

    assert not Thread.objects.filter(author=replier).exists()
    assert_rejected_once(stored, replier.email, mailoutbox, "It answered a whole digest")
    [rejection] = rejections(mailoutbox)
    assert "What you wrote, so that nothing is lost:" in rejection.body
    assert "clients in rural counties cannot travel to the office." in rejection.body


@pytest.mark.parametrize("local_part", ["unsubscribe", "auto-replies", "talk", "postmaster", "reply-guidelines"])
def test_category_address_is_none_for_a_reserved_local_part(local_part, db):
    assert inbound.category_address(Category(name="x", slug=local_part)) is None
    assert inbound.category_address(Category(name="x", slug="housing")) == "housing@lists.example.org"


# Addresses we never answer


def test_process_inbound_hands_a_bounce_to_the_bounce_handler_without_answering(parent, replier, deliver,
                                                                               mailoutbox):
    bounce_address = make_bounce_address(member_id=replier.id, generation=0)

    stored = deliver(eml("bounce.eml", sender=replier.email, reply_address=bounce_address),
                     envelope_recipient=bounce_address)

    stored.refresh_from_db()
    assert stored.status == InboundMessage.Status.IGNORED
    [event] = DeliveryEvent.objects.all()
    assert (event.member, event.kind) == (replier, DeliveryEvent.Kind.HARD_BOUNCE)
    assert f"delivery event {event.id}" in stored.note
    assert auto_replies(mailoutbox) == []


def test_process_inbound_drops_answers_to_our_automatic_replies(replier, category, deliver, mailoutbox):
    stored = deliver(new_thread_eml(replier.email, inbound.auto_reply_address(), "Re: Not posted: Interpreters"))

    stored.refresh_from_db()
    assert stored.status == InboundMessage.Status.IGNORED
    assert not Thread.objects.filter(author=replier).exists()
    assert auto_replies(mailoutbox) == []


def test_send_rejection_comes_from_an_address_whose_mail_is_dropped(parent, replier, deliver, smtp_sink):
    parent.thread.locked = True
    parent.thread.save()

    deliver(reply_eml("gmail_reply.eml", parent, replier))

    [envelope] = [envelope for envelope in smtp_sink.envelopes if envelope.rcpt_tos == [replier.email]]
    assert envelope.mail_from == inbound.auto_reply_address()
    [rejection] = smtp_sink.received(replier.email)
    assert rejection["From"].addresses[0].addr_spec == inbound.auto_reply_address()
    assert rejection["Auto-Submitted"] == "auto-replied"
    assert inbound.address_kind(envelope.mail_from) == inbound.Kind.DROP
