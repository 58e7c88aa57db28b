"""Mail that asks for something: unsubscribe by the List-Unsubscribe mailto, moderation by answering a notice."""

import re
import uuid

import pytest

from community.models import Application, Member
from mailer.models import InboundMessage, MailPreference
from mailer.outbound import build_post_message
from mailer.tokens import make_moderation_address
from threads.models import Category, Post
from threads.services import create_reply

from .inbound_mail import auto_replies, eml, notices, rejections

# Unsubscribe


def unsubscribe_mailto(post, member) -> tuple[str, str]:
    """The address and subject of the List-Unsubscribe mailto in the list mail this member got."""
    header = build_post_message(post.id, member).extra_headers["List-Unsubscribe"]
    address, subject = re.search(r"<mailto:([^?>]+)\?subject=([^>]+)>", header).groups()
    return address, subject


def unsubscribe_eml(sender: str, to: str, subject: str, *headers: str) -> bytes:
    # What Apple Mail sends for its "Unsubscribe" banner: the mailto's subject and an empty body.
    return "\n".join([
        f"From: {sender}", f"To: {to}", f"Subject: {subject}", *headers,
        f"Message-Id: <{uuid.uuid4()}@cascade.example.org>", "Date: Tue, 4 Mar 2025 08:00:00 -0500",
        "Content-Type: text/plain; charset=us-ascii", "Mime-Version: 1.0 (Mac OS X Mail 16.0)", "", "",
    ]).encode()


def mail_mode(member) -> str:
    return MailPreference.objects.get(member=member).mode


def test_unsubscribe_by_email_turns_list_mail_off_and_confirms_to_the_members_own_address(
        parent, replier, deliver, mailoutbox):
    address, token = unsubscribe_mailto(parent, replier)
    forwarded_to = "sam.colleague@tacoma.example.org"  # the list mail was forwarded, and its banner clicked

    stored = deliver(unsubscribe_eml(forwarded_to, address, token))

    assert mail_mode(replier) == MailPreference.Mode.NONE
    [confirmation] = notices(mailoutbox)
    assert confirmation.to == [replier.email]
    assert confirmation.extra_headers["Auto-Submitted"] == "auto-replied"
    assert "you will no longer get messages or digests" in confirmation.body
    assert "http://testserver/mail/settings/" in confirmation.body
    stored.refresh_from_db()
    assert stored.status == InboundMessage.Status.HANDLED
    assert rejections(mailoutbox) == []


def test_unsubscribe_by_email_twice_confirms_once(parent, replier, deliver, mailoutbox):
    address, token = unsubscribe_mailto(parent, replier)

    deliver(unsubscribe_eml(replier.email, address, token))
    deliver(unsubscribe_eml(replier.email, address, f"Re: {token}"))

    assert mail_mode(replier) == MailPreference.Mode.NONE
    assert len(auto_replies(mailoutbox)) == 1


def test_unsubscribe_by_email_is_honoured_when_marked_automated(parent, replier, deliver):
    address, token = unsubscribe_mailto(parent, replier)

    deliver(unsubscribe_eml(replier.email, address, token, "Auto-Submitted: auto-generated"))

    assert mail_mode(replier) == MailPreference.Mode.NONE


def test_unsubscribe_by_email_is_not_shadowed_by_a_category_of_that_name(parent, replier, deliver):
    Category.objects.create(name="Unsubscribe", slug="unsubscribe")
    address, token = unsubscribe_mailto(parent, replier)

    deliver(unsubscribe_eml(replier.email, address, token))

    assert mail_mode(replier) == MailPreference.Mode.NONE


def test_unsubscribe_by_email_refuses_a_withdrawn_token(parent, replier, deliver, mailoutbox):
    address, token = unsubscribe_mailto(parent, replier)
    MailPreference.objects.filter(member=replier).update(token_generation=1)

    deliver(unsubscribe_eml(replier.email, address, token))

    assert mail_mode(replier) == MailPreference.Mode.EACH
    [rejection] = rejections(mailoutbox)
    assert rejection.to == [replier.email]
    assert "This unsubscribe link has been withdrawn." in rejection.body


def test_unsubscribe_by_email_ignores_an_automated_message_without_a_token(replier, deliver, mailoutbox, settings):
    stored = deliver(unsubscribe_eml(replier.email, f"unsubscribe@{settings.LIST_DOMAIN}", "Out of office",
                                     "Auto-Submitted: auto-replied"))

    stored.refresh_from_db()
    assert stored.status == InboundMessage.Status.IGNORED
    assert auto_replies(mailoutbox) == []


# Moderation


@pytest.fixture
def application(pending_member):
    return Application.objects.get(member=pending_member)


def moderation_eml(moderator, kind: str, object_id: int, words: str, sender: str | None = None) -> bytes:
    address = make_moderation_address(kind=kind, object_id=object_id, member_id=moderator.id, generation=0)
    return eml("moderation_reply.eml", sender=sender or moderator.email, reply_address=address, words=words,
               message_key=uuid.uuid4().hex[:12])


def one_line(mailoutbox, moderator) -> str:
    [answer] = notices(mailoutbox)
    assert answer.to == [moderator.email]
    assert answer.extra_headers["Auto-Submitted"] == "auto-replied"
    return answer.body


def test_moderate_by_email_approves_an_application(application, moderator, deliver, mailoutbox):
    stored = deliver(moderation_eml(moderator, "application", application.id, "Approve"))

    stored.refresh_from_db()
    assert stored.status == InboundMessage.Status.HANDLED
    application.refresh_from_db()
    assert (application.status, application.decided_by) == (Application.Status.APPROVED, moderator)
    assert Member.objects.get(pk=application.member_id).status == Member.Status.ACTIVE
    assert "Approved the application of Pat Pending (Cascade Center for Survivors)" in one_line(mailoutbox, moderator)
    assert any(message.to == [application.member.email] for message in mailoutbox)  # the applicant is told


def test_moderate_by_email_rejects_an_application_with_the_reason(application, moderator, deliver, mailoutbox):
    deliver(moderation_eml(moderator, "application", application.id,
                           "reject: We could not confirm that your organization serves survivors."))

    application.refresh_from_db()
    assert application.status == Application.Status.REJECTED
    assert application.decision_reason == "We could not confirm that your organization serves survivors."
    assert "Rejected the application of Pat Pending" in one_line(mailoutbox, moderator)


@pytest.mark.parametrize(("words", "expected"), [
    ("Yes please", "Nothing was done about the application of Pat Pending"),
    ("reject", "write the reason after “reject”"),
])
def test_moderate_by_email_says_what_words_work(words, expected, application, moderator, deliver, mailoutbox):
    stored = deliver(moderation_eml(moderator, "application", application.id, words))

    application.refresh_from_db()
    assert application.status == Application.Status.PENDING
    answer = one_line(mailoutbox, moderator)
    assert expected in answer
    if words == "Yes please":
        assert "- approve\n- reject, followed by the reason" in answer
    stored.refresh_from_db()
    assert stored.status == InboundMessage.Status.REJECTED


def test_moderate_by_email_changes_nothing_once_decided(application, moderator, admin, deliver, mailoutbox):
    deliver(moderation_eml(admin, "application", application.id, "reject Not eligible."))
    mailoutbox.clear()

    deliver(moderation_eml(moderator, "application", application.id, "approve"))

    application.refresh_from_db()
    assert (application.status, application.decided_by) == (Application.Status.REJECTED, admin)
    assert "Nothing was changed: the application of Pat Pending (Cascade Center for Survivors) was already decided " \
           "(Declined)." in one_line(mailoutbox, moderator)


@pytest.mark.parametrize("case", ["other sender", "no longer a moderator", "forged"])
def test_moderate_by_email_refuses(case, application, moderator, deliver, mailoutbox):
    raw = moderation_eml(moderator, "application", application.id, "approve")
    sender = moderator.email
    if case == "other sender":
        sender = "someone@tacoma.example.org"
        raw = raw.replace(f"<{moderator.email}>".encode(), f"<{sender}>".encode())
    elif case == "no longer a moderator":
        Member.objects.filter(pk=moderator.pk).update(role=Member.Role.MEMBER)
    else:
        # The last character of the MAC changed (to one it is not already).
        raw = re.sub(rb"(moderate-[a-z0-9-]+?)([a-z2-7])(@)",
                     lambda found: found[1] + (b"b" if found[2] == b"a" else b"a") + found[3], raw)

    deliver(raw)

    application.refresh_from_db()
    assert application.status == Application.Status.PENDING
    [rejection] = rejections(mailoutbox)
    assert rejection.to == [sender]
    assert notices(mailoutbox) == []


@pytest.fixture
def held_post(parent, member_factory, django_capture_on_commit_callbacks):
    author = member_factory(full_name="Hal Held")
    Member.objects.filter(pk=author.pk).update(posts_held=True)
    author.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        return create_reply(author=author, parent=parent, body="Our client Mr. X said ...")


def test_moderate_by_email_approves_a_held_post(held_post, moderator, deliver, mailoutbox):
    assert held_post.held_at is not None
    mailoutbox.clear()

    deliver(moderation_eml(moderator, "post", held_post.id, "approve"))

    held_post.refresh_from_db()
    assert (held_post.held_at, held_post.hidden_at) == (None, None)
    expected = f"Published the post by Hal Held in “Group work with new arrivals”: http://testserver/posts/{held_post.id}/"
    assert expected in one_line(mailoutbox, moderator)


def test_moderate_by_email_rejects_a_held_post(held_post, moderator, deliver, mailoutbox):
    mailoutbox.clear()

    deliver(moderation_eml(moderator, "post", held_post.id, "Reject please remove the client's name"))

    held_post.refresh_from_db()
    assert held_post.deleted_at is not None and held_post.held_at is not None
    assert "Rejected the post by Hal Held" in one_line(mailoutbox, moderator)

    mailoutbox.clear()
    deliver(moderation_eml(moderator, "post", held_post.id, "approve"))

    assert Post.objects.get(pk=held_post.pk).held_at is not None
    assert "Nothing was changed about the post by Hal Held" in one_line(mailoutbox, moderator)
