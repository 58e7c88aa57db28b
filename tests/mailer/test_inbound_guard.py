"""The confidentiality guard on the email path, end to end: an emailed post that may identify a client is saved
held, nothing reaches the list or the moderators, and its sender alone is told what was found (masked) with the
link where they edit or confirm it; editing it clean or confirming publishes it to the list once; a moderator may
approve or reject it instead, and a rejection repeats neither what was found nor the thread's title."""

import json
import re

import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from community.models import AuditRecord
from mailer import inbound
from mailer.models import InboundMessage, OutboundMessage
from tests.conftest import login
from threads.models import GuardCheck, Post, Thread
from threads.services import HELD_MEMBER_REASON

from .inbound_mail import auto_replies, eml, fixture_text, reply_address, reply_eml
from .test_webhooks import BASIC_AUTH, auth

SITE = "https://healtalk.example.org"
A_NUMBER = "212-345-678"
REPLY_BODY = ("Before the group starts, one question: our client (A# 212-345-678) got a\n"
              "hearing notice for the wrong court. Has anyone asked EOIR to change venue?\n\nRosa")
CLEAN_BODY = "Before the group starts, one question: has anyone asked EOIR to change venue?\n\nRosa"
GUARD_SUBJECT = "Not published yet: your message may identify a client"
HELD_TITLE = "Hearing moved for A# 212-345-678"


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = SITE  # the edit link must be absolute, to this site


@pytest.fixture
def reader(member_factory):
    """A member who gets every message by email: list mail would reach them."""
    return member_factory(full_name="Rita Reader")


def list_mail(mailoutbox) -> list:
    return [message for message in mailoutbox if "List-Id" in message.extra_headers]


def mail_to(mailoutbox, address: str) -> list:
    return [message for message in mailoutbox if message.to == [address]]


def everything_in(message) -> str:
    """The subject, the text and every alternative: where a found identifier must not appear."""
    return "\n".join([message.subject, message.body, *(content for content, _ in getattr(message, "alternatives", []))])


def held_reply(parent) -> Post:
    return Post.objects.get(parent=parent, source=Post.Source.EMAIL)


def guard_thread_eml(sender: str, to: str) -> bytes:
    return eml("new_thread.eml", sender=sender, to=to, subject=f"[HealTorture-Talk] {HELD_TITLE}")


def assert_held_and_told(post, sender, stored, mailoutbox, *, kind_label: str, masked: str, clear: str):
    """Held, nothing to the list or the moderators, one private answer to the sender with the findings masked."""
    assert post.held_at is not None and post.hidden_at is not None
    assert post.hidden_reason.startswith("It may identify a client")
    check = GuardCheck.objects.get(post=post)
    assert (check.outcome, check.source, check.author, check.decided_by) == ("held", "email", sender, None)
    stored.refresh_from_db()
    assert (stored.status, stored.post) == (InboundMessage.Status.POSTED, post)
    assert stored.note.startswith("Held by the confidentiality guard: ")
    assert not OutboundMessage.objects.filter(post=post).exists()
    assert list_mail(mailoutbox) == []
    [answer] = mailoutbox  # the moderators hear nothing until the author has answered the guard
    assert answer.to == [sender.email]
    assert answer.subject == GUARD_SUBJECT
    assert answer.extra_headers["Auto-Submitted"] == "auto-replied"
    assert answer.extra_headers["In-Reply-To"] == stored.message_id
    assert answer.from_email.endswith(f"<{inbound.auto_reply_address()}>")
    assert f"- {kind_label}: " in answer.body and masked in answer.body
    assert clear not in everything_in(answer)
    assert f"{SITE}/posts/{post.id}/edit/" in answer.body
    return answer


# --- Held on the way in --------------------------------------------------------------------------------------------

def test_process_inbound_holds_a_reply_that_may_identify_a_client(parent, replier, reader, moderator, deliver,
                                                                 mailoutbox):
    stored = deliver(reply_eml("guard_reply.eml", parent, replier))

    post = held_reply(parent)
    assert post.body == REPLY_BODY
    assert GuardCheck.objects.get(post=post).kinds == ["a_number"]
    assert Thread.objects.get(pk=parent.thread_id).post_count == 1
    assert_held_and_told(post, replier, stored, mailoutbox, kind_label="A-number", masked="(A# 2••-•••-•••)",
                         clear=A_NUMBER)
    assert stored.note == "Held by the confidentiality guard: an A-number."


@pytest.mark.parametrize("to", ["list", "category"])
def test_process_inbound_holds_a_new_thread_whose_subject_identifies_a_client(to, replier, category, reader,
                                                                             moderator, deliver, mailoutbox):
    address = django_settings.LIST_ADDRESS if to == "list" else f"{category.slug}@{django_settings.LIST_DOMAIN}"

    stored = deliver(guard_thread_eml(replier.email, address))

    thread = Thread.objects.get(author=replier)
    assert (thread.title, thread.category, thread.post_count) == (HELD_TITLE, category, 0)
    assert thread.held_at is not None
    answer = assert_held_and_told(thread.posts.get(), replier, stored, mailoutbox, kind_label="A-number",
                                  masked="Hearing moved for A# 2••-•••-•••", clear=A_NUMBER)
    assert 'your email "Hearing moved for A# 2••-•••-•••"' in answer.body  # the subject quoted back masked too


def test_postmark_inbound_webhook_holds_a_reply_with_an_ssn(client, parent, replier, reader, settings, mailoutbox,
                                                            django_capture_on_commit_callbacks):
    settings.ANYMAIL = {"WEBHOOK_SECRET": BASIC_AUTH}
    payload = fixture_text("postmark_inbound.json", sender=replier.email, reply_address=reply_address(parent, replier),
                           parent_message_id=parent.message_id)
    # The same sentence in every form Postmark sends it: the raw message, its text, its HTML, its stripped reply.
    payload = payload.replace("Happy to share our handout if it helps.",
                              "The clinic asked for her SSN (987-65-4321) on the intake form.")
    assert "987-65-4321" in json.loads(payload)["RawEmail"]

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/anymail/postmark/inbound/", payload, content_type="application/json", **auth())

    assert response.status_code == 200
    post = held_reply(parent)
    assert "her SSN (987-65-4321)" in post.body
    stored = InboundMessage.objects.get()
    assert_held_and_told(post, replier, stored, mailoutbox, kind_label="Social Security number",
                         masked="SSN (9••-••-••••)", clear="987-65-4321")
    assert stored.note == "Held by the confidentiality guard: a Social Security number."


@pytest.mark.parametrize("fixture", ["guard_auto_reply.eml", "guard_bounce.eml"])
def test_process_inbound_never_answers_automated_mail_that_may_identify_a_client(fixture, parent, replier, deliver,
                                                                                mailoutbox):
    deliver(reply_eml("guard_reply.eml", parent, replier))
    assert len(mailoutbox) == 1  # a person's message with the number is held and answered

    stored = deliver(reply_eml(fixture, parent, replier))

    stored.refresh_from_db()
    assert stored.status == InboundMessage.Status.IGNORED
    assert Post.objects.filter(parent=parent).count() == 1
    assert GuardCheck.objects.count() == 1
    assert len(mailoutbox) == 1


def test_process_inbound_drops_an_autoresponder_answering_the_guard(parent, replier, deliver, mailoutbox):
    deliver(reply_eml("guard_reply.eml", parent, replier))
    [answer] = auto_replies(mailoutbox)
    assert answer.extra_headers["X-Auto-Response-Suppress"] == "All"

    # An out-of-office that answers anyway writes to the address the answer came from, which is never read.
    stored = deliver(eml("guard_auto_reply.eml", sender=replier.email, reply_address=inbound.auto_reply_address(),
                         parent_message_id=answer.extra_headers["Message-ID"]))

    stored.refresh_from_db()
    assert stored.status == InboundMessage.Status.IGNORED
    assert len(mailoutbox) == 1
    assert GuardCheck.objects.count() == 1


# --- The author follows the link -----------------------------------------------------------------------------------

def guard_fields(page: str) -> dict:
    """The hidden fields the edit page carries: which check is answered, and the digest of the text shown."""
    return {name: re.search(rf'name="{name}" value="([^"]*)"', page).group(1)
            for name in ("guard-check", "guard-checked")}


def edit_form(page: str, body: str, **extra) -> dict:
    return {"body": body, "content_note_choice": "", "content_note_words": "", **guard_fields(page), **extra}


@pytest.fixture
def emailed(parent, replier, deliver, mailoutbox):
    """The reply the guard held, and its sender signed in; the guard's answer is left out of mailoutbox."""
    deliver(reply_eml("guard_reply.eml", parent, replier))
    mailoutbox.clear()
    return held_reply(parent)


@pytest.fixture
def author_client(client, replier):
    return login(client, replier)


def test_edit_post_page_shows_the_held_post_with_what_was_found(emailed, author_client):
    response = author_client.get(f"/posts/{emailed.id}/edit/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Your post is not published yet" in page
    assert "Not published yet: this may identify a client" in page
    assert '<mark class="guard-found">A# 212-345-678<span class="guard-label"> [A-number]</span></mark>' in page
    assert guard_fields(page)["guard-check"] == str(GuardCheck.objects.get(post=emailed).id)
    assert '<button type="submit">Publish</button>' in page


def test_edit_post_page_of_a_held_post_is_not_open_to_another_member(emailed, client, reader):
    login(client, reader)

    assert client.get(f"/posts/{emailed.id}/").status_code == 404
    assert client.get(f"/posts/{emailed.id}/edit/").status_code == 404


def test_edit_post_edited_clean_publishes_the_held_reply_to_the_list_once(
        emailed, author_client, parent, replier, member, reader, moderator, mailoutbox,
        django_capture_on_commit_callbacks):
    page = author_client.get(f"/posts/{emailed.id}/edit/").content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = author_client.post(f"/posts/{emailed.id}/edit/", edit_form(page, CLEAN_BODY))

    assert response.status_code == 302
    emailed.refresh_from_db()
    assert (emailed.held_at, emailed.hidden_at, emailed.body) == (None, None, CLEAN_BODY)
    assert Thread.objects.get(pk=parent.thread_id).post_count == 2
    check = GuardCheck.objects.get(post=emailed)
    assert (check.outcome, check.decided_by, check.reason) == ("edited", replier, "")
    assert check.decided_at is not None
    assert AuditRecord.objects.filter(action="guard_released", actor=replier).count() == 1
    sent = list_mail(mailoutbox)
    assert sorted(message.to[0] for message in sent) == sorted([member.email, reader.email, moderator.email])
    assert all(CLEAN_BODY.splitlines()[0] in message.body and A_NUMBER not in message.body for message in sent)

    # A later edit of the published post sends nothing again.
    with django_capture_on_commit_callbacks(execute=True):
        author_client.post(f"/posts/{emailed.id}/edit/", edit_form(page, CLEAN_BODY + " Thanks!"))
    assert len(list_mail(mailoutbox)) == 3
    assert OutboundMessage.objects.filter(post=emailed).count() == 3


def test_edit_post_confirmed_with_a_reason_publishes_the_held_reply(
        emailed, author_client, replier, member, reader, mailoutbox, django_capture_on_commit_callbacks):
    page = author_client.get(f"/posts/{emailed.id}/edit/").content.decode()
    reason = "The number printed on the EOIR sample notice"

    with django_capture_on_commit_callbacks(execute=True):
        response = author_client.post(f"/posts/{emailed.id}/edit/", edit_form(
            page, REPLY_BODY, **{"guard-confirmed": "on", "guard-reason": reason}))

    assert response.status_code == 302
    emailed.refresh_from_db()
    assert emailed.held_at is None and emailed.body == REPLY_BODY
    check = GuardCheck.objects.get(post=emailed)
    assert (check.outcome, check.reason, check.decided_by, check.kinds) == ("confirmed", reason, replier,
                                                                            ["a_number"])
    assert AuditRecord.objects.get(action="guard_confirmed").reason == reason
    assert AuditRecord.objects.filter(action="guard_released", actor=replier).exists()
    assert sorted(message.to[0] for message in list_mail(mailoutbox)) == sorted([member.email, reader.email])


def test_edit_post_ticked_without_a_reason_keeps_the_reply_held(emailed, author_client, mailoutbox,
                                                                django_capture_on_commit_callbacks):
    page = author_client.get(f"/posts/{emailed.id}/edit/").content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = author_client.post(f"/posts/{emailed.id}/edit/", edit_form(
            page, REPLY_BODY, **{"guard-confirmed": "on", "guard-reason": " "}))

    assert response.status_code == 200
    assert "Say in a few words why this is not client information" in response.content.decode()
    emailed.refresh_from_db()
    assert emailed.held_at is not None
    assert GuardCheck.objects.get(post=emailed).outcome == "held"
    assert mailoutbox == []


def test_edit_post_by_a_held_member_then_waits_for_the_moderators(parent, held_member, member, moderator, client,
                                                                  deliver, mailoutbox,
                                                                  django_capture_on_commit_callbacks):
    deliver(reply_eml("guard_reply.eml", parent, held_member))
    post = held_reply(parent)
    assert [message.to for message in mailoutbox] == [[held_member.email]]  # the guard's answer alone
    mailoutbox.clear()
    author_client = login(client, held_member)
    page = author_client.get(f"/posts/{post.id}/edit/").content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        author_client.post(f"/posts/{post.id}/edit/", edit_form(page, CLEAN_BODY))

    post.refresh_from_db()
    assert post.held_at is not None and post.hidden_reason == HELD_MEMBER_REASON
    assert GuardCheck.objects.get(post=post).outcome == "edited"
    assert not AuditRecord.objects.filter(action="guard_released").exists()
    assert list_mail(mailoutbox) == []
    [notice] = mail_to(mailoutbox, moderator.email)
    assert notice.subject == f"Waiting for approval: {held_member.full_name} in “{parent.thread.title}”"
    assert CLEAN_BODY.splitlines()[0] in notice.body
    [receipt] = mail_to(mailoutbox, held_member.email)
    assert receipt.subject.endswith("is waiting for a moderator")
    assert mail_to(mailoutbox, member.email) == []


# --- A moderator decides instead -----------------------------------------------------------------------------------

def test_approve_held_post_publishes_a_post_the_guard_held(emailed, moderator_client, moderator, member, replier,
                                                           mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = moderator_client.post(reverse("approve_held_post", args=[emailed.id]))

    assert response.status_code == 302
    emailed.refresh_from_db()
    assert emailed.held_at is None and emailed.hidden_at is None
    check = GuardCheck.objects.get(post=emailed)
    assert (check.outcome, check.decided_by) == ("released", moderator)
    assert check.decided_at is not None
    recipients = [message.to[0] for message in list_mail(mailoutbox)]
    assert member.email in recipients and replier.email not in recipients


def test_reject_held_post_tells_the_author_neither_the_number_nor_the_title(
        replier, category, member, moderator, moderator_client, deliver, mailoutbox,
        django_capture_on_commit_callbacks):
    deliver(guard_thread_eml(replier.email, django_settings.LIST_ADDRESS))
    post = Thread.objects.get(author=replier).posts.get()
    mailoutbox.clear()
    reason = "Please send it again without your client's A-number."

    with django_capture_on_commit_callbacks(execute=True):
        moderator_client.post(reverse("reject_held_post", args=[post.id]), {"reason": reason})

    post.refresh_from_db()
    assert post.deleted_at is not None and post.held_at is not None
    check = GuardCheck.objects.get(post=post)
    assert (check.outcome, check.decided_by, check.reason) == ("rejected", moderator, reason)
    [rejection] = mailoutbox
    assert rejection.to == [replier.email]
    assert rejection.subject == "Your post was not published"
    assert reason in rejection.body
    assert A_NUMBER not in everything_in(rejection)
    assert "Hearing moved" not in everything_in(rejection)
    assert list_mail(mailoutbox) == []


# --- Over real SMTP ------------------------------------------------------------------------------------------------

def test_process_inbound_over_smtp_sends_the_guard_answer_and_no_list_mail(parent, replier, member, reader,
                                                                          smtp_sink, deliver):
    deliver(reply_eml("guard_reply.eml", parent, replier))

    [envelope] = smtp_sink.envelopes
    assert envelope.rcpt_tos == [replier.email]
    assert envelope.mail_from == inbound.auto_reply_address()
    [answer] = smtp_sink.received(replier.email)
    assert answer["Subject"] == GUARD_SUBJECT
    assert answer["Auto-Submitted"] == "auto-replied"
    text = answer.get_content()
    assert "(A# 2••-•••-•••)" in text
    assert A_NUMBER not in envelope.content.decode()
    assert f"{SITE}/posts/{held_reply(parent).id}/edit/" in text
    assert smtp_sink.received(member.email) == smtp_sink.received(reader.email) == []
