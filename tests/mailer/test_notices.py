"""Account notices: application decisions, new applications, questions and answers, the stale-queue reminder."""

import email
from datetime import timedelta
from email import policy

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings as django_settings
from django.utils import timezone

from community.eligibility import DOMAIN_VERIFIED
from community.models import Application, EligibilityBasis, User
from community.organizations import applicant_email_confirmed
from community.services import (
    answer_information_request,
    approve_application,
    reject_application,
    request_more_information,
    submit_application,
)
from mailer import notices, tasks
from mailer.models import MailPreference
from mailer.tokens import ModerationTarget, parse_moderation_address
from threads.moderation import approve_held_post, reject_held_post
from threads.services import create_reply


def parsed(message):
    return email.message_from_bytes(message.message().as_bytes(), policy=policy.default)


@pytest.fixture
def application(pending_member):
    return Application.objects.get(member=pending_member)


def test_send_application_decision_welcomes_approved_applicant(
    application, moderator, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        approve_application(application, moderator)

    [message] = mailoutbox
    parsed_message = parsed(message)
    assert message.to == [application.member.email]
    assert parsed_message["Subject"] == "Welcome to HealTalk"
    assert "http://testserver/" in parsed_message.get_body(("plain",)).get_content()
    assert 'href="http://testserver/"' in parsed_message.get_body(("html",)).get_content()


def test_send_application_decision_tells_declined_applicant_why(
    application, moderator, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        reject_application(
            application, moderator, "We could not confirm that your program serves survivors & their families."
        )

    [message] = mailoutbox
    parsed_message = parsed(message)
    assert message.to == [application.member.email]
    assert parsed_message["Subject"] == "Your HealTalk application"
    assert "serves survivors & their families." in parsed_message.get_body(("plain",)).get_content()
    assert "serves survivors &amp; their families." in parsed_message.get_body(("html",)).get_content()


def test_send_application_decision_sends_nothing_while_the_application_is_open(
    application, moderator, mailoutbox
):
    request_more_information(application, moderator, "Which grant?")

    notices.send_application_decision(application.id)

    assert mailoutbox == []


def _submit(organization, email="rosa@cascade.example.org", organization_name=""):
    user = User.objects.create_user(email=email, password="x" * 12)
    return submit_application(
        user=user, full_name="Rosa Applicant", eligibility_category=EligibilityBasis.ORR_TVRA_GRANTEE,
        organization=organization, organization_name=organization_name, role_title="Intake coordinator",
        statement="I run intake for survivors.",
    )


def _confirm_email(application):
    """What allauth's email_confirmed receiver does once the applicant follows the verification link."""
    EmailAddress.objects.create(user=application.member.user, email=application.work_email, verified=True)
    applicant_email_confirmed(application.member, application.work_email)


def test_submit_application_tells_moderators_nothing_before_the_email_is_verified(
    organization, moderator, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _submit(organization)

    assert mailoutbox == []


def test_applicant_email_confirmed_emails_each_moderator_with_the_evidence(
    organization, moderator, admin, member, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        application = _submit(organization)
        _confirm_email(application)

    assert application.eligibility_result == DOMAIN_VERIFIED
    assert sorted(message.to[0] for message in mailoutbox) == sorted([moderator.email, admin.email])
    message = mailoutbox[0]
    assert message.subject == "New application from Rosa Applicant (Cascade Center for Survivors) — Work email matches"
    assert f"http://testserver/moderation/applications/#application-{application.id}" in message.body
    assert "is a verified domain of Cascade Center for Survivors" in message.body
    html = parsed(message).get_body(("html",)).get_content()
    assert f'href="http://testserver/moderation/applications/#application-{application.id}"' in html


def generation_of(member_id):
    return MailPreference.objects.filter(member_id=member_id).values_list("token_generation", flat=True).first()


def test_applicant_email_confirmed_lets_each_moderator_answer_by_email(
    organization, moderator, admin, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        application = _submit(organization)
        _confirm_email(application)

    for message in mailoutbox:
        [reply_to] = message.reply_to
        moderator_id = moderator.id if message.to == [moderator.email] else admin.id
        assert parse_moderation_address(reply_to, generation_of) == ModerationTarget(
            kind="application", object_id=application.id, member_id=moderator_id)
        assert "Reply with the word approve to approve it, or reject followed by a reason." in message.body
        assert "Reply with the word approve" in parsed(message).get_body(("html",)).get_content()


def test_applicant_email_confirmed_from_free_mail_says_it_needs_a_manual_check(
    moderator, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _confirm_email(_submit(None, email="rosa@gmail.com", organization_name="Riverbend Clinic"))

    [message] = mailoutbox
    assert message.subject == (
        "New application from Rosa Applicant (Riverbend Clinic (not listed)) — Needs a manual check"
    )
    assert "free-mail address" in message.body


def test_applicant_email_confirmed_notifies_only_after_commit(organization, moderator, mailoutbox,
                                                              django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _confirm_email(_submit(organization))

    assert mailoutbox == []
    for callback in callbacks:
        callback()
    assert [message.to for message in mailoutbox] == [[moderator.email]]


def test_applicant_email_confirmed_for_another_address_announces_nothing(
    organization, moderator, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        application = _submit(organization)
        EmailAddress.objects.create(user=application.member.user, email="home@example.net", verified=True)
        applicant_email_confirmed(application.member, "home@example.net")

    assert mailoutbox == []


def test_send_new_application_notice_skips_an_application_already_decided(application, moderator, mailoutbox):
    approve_application(application, moderator)

    notices.send_new_application_notice(application.id)

    assert mailoutbox == []


def test_request_more_information_emails_the_applicant_a_link_to_answer(
    application, moderator, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        request_more_information(application, moderator, "Which ORR grant funds your program?")

    [message] = mailoutbox
    assert message.to == [application.member.email]
    assert message.subject == "A question about your HealTalk application"
    assert "Which ORR grant funds your program?" in message.body
    assert "http://testserver/application/" in message.body
    assert 'href="http://testserver/application/"' in parsed(message).get_body(("html",)).get_content()


def test_answer_information_request_emails_moderators_the_answer(
    application, moderator, admin, member, mailoutbox, django_capture_on_commit_callbacks
):
    request_more_information(application, moderator, "Which grant?")

    with django_capture_on_commit_callbacks(execute=True):
        answer_information_request(application, "TVRA, since 2019.")

    assert sorted(message.to[0] for message in mailoutbox) == sorted([moderator.email, admin.email])
    assert mailoutbox[0].subject == f"{application.member.full_name} answered your question"
    assert "TVRA, since 2019." in mailoutbox[0].body
    assert f"http://testserver/moderation/applications/#application-{application.id}" in mailoutbox[0].body


def test_send_stale_applications_reminder_lists_only_applications_waiting_over_three_days(
    application, applicant_factory, moderator, mailoutbox
):
    fresh = Application.objects.get(member=applicant_factory(full_name="Fresh Applicant"))
    Application.objects.filter(pk=application.pk).update(submitted_at=timezone.now() - timedelta(days=5))

    notices.send_stale_applications_reminder()

    [message] = mailoutbox
    assert message.to == [moderator.email]
    assert message.subject == "1 HealTalk application waiting more than 3 days"
    assert f"{application.member.full_name}, Cascade Center for Survivors: waiting 5 days" in message.body
    assert fresh.member.full_name not in message.body
    assert "http://testserver/moderation/applications/" in message.body


def test_send_stale_applications_reminder_sends_nothing_when_nothing_is_stale(application, moderator, mailoutbox):
    Application.objects.filter(pk=application.pk).update(submitted_at=timezone.now() - timedelta(days=2))

    tasks.remind_stale_applications.delay()

    assert mailoutbox == []


def test_remind_stale_applications_runs_once_a_day_in_beat():
    [entry] = [
        entry for entry in django_settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == "mailer.tasks.remind_stale_applications"
    ]

    assert entry["schedule"].hour == {11}
    assert entry["schedule"].minute == {0}


# --- Held posts --------------------------------------------------------------------------------------------------

def _hold(author, parent, capture, body="Is it all right to share **this** flyer?"):
    with capture(execute=True):
        return create_reply(author=author, parent=parent, body=body)


def test_create_reply_by_held_member_asks_each_moderator_with_an_answerable_email(
    held_member, opening_post, moderator, admin, mailoutbox, django_capture_on_commit_callbacks
):
    mailoutbox.clear()
    post = _hold(held_member, opening_post, django_capture_on_commit_callbacks)

    to_moderators = [message for message in mailoutbox if message.to != [held_member.email]]
    assert sorted(message.to[0] for message in to_moderators) == sorted([moderator.email, admin.email])
    for message in to_moderators:
        assert message.subject == "Waiting for approval: Hal Held in “Group work with new arrivals”"
        [reply_to] = message.reply_to
        moderator_id = moderator.id if message.to == [moderator.email] else admin.id
        assert parse_moderation_address(reply_to, generation_of) == ModerationTarget(
            kind="post", object_id=post.id, member_id=moderator_id)
        assert "Is it all right to share **this** flyer?" in message.body
        assert "Hal Held, Cascade Center for Survivors" in message.body
        assert "Reply with the word approve to publish it, or reject followed by a reason." in message.body
        assert f"http://testserver/moderation/posts/held/#held-{post.id}" in message.body
        html = parsed(message).get_body(("html",)).get_content()
        assert "<strong>this</strong> flyer" in html
        assert "Reply with the word approve to publish it, or reject followed by a reason." in html


def test_create_reply_by_held_member_tells_the_author_it_waits(
    held_member, opening_post, moderator, mailoutbox, django_capture_on_commit_callbacks
):
    mailoutbox.clear()
    post = _hold(held_member, opening_post, django_capture_on_commit_callbacks)

    [message] = [message for message in mailoutbox if message.to == [held_member.email]]
    assert message.subject == "Your post in “Group work with new arrivals” is waiting for a moderator"
    assert "Nobody else can see it yet." in message.body
    assert f"http://testserver/posts/{post.id}/" in message.body
    assert not message.reply_to


def test_send_held_post_notice_skips_a_post_decided_before_it_ran(held_member, opening_post, moderator,
                                                                  mailoutbox):
    post = create_reply(author=held_member, parent=opening_post, body="Approved before the task ran.")
    approve_held_post(post, moderator)
    mailoutbox.clear()

    notices.send_held_post_notice(post.id)
    notices.send_held_post_receipt(post.id)

    assert mailoutbox == []


def test_reject_held_post_emails_the_author_the_reason_and_their_text(
    held_member, opening_post, moderator, mailoutbox, django_capture_on_commit_callbacks
):
    post = _hold(held_member, opening_post, django_capture_on_commit_callbacks)
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        reject_held_post(post, moderator, "It names a client & their town.")

    [message] = mailoutbox
    assert message.to == [held_member.email]
    assert message.subject == "Your post in “Group work with new arrivals” was not published"
    assert "The moderator's reason: It names a client & their town." in message.body
    assert "Is it all right to share **this** flyer?" in message.body
    assert "It names a client &amp; their town." in parsed(message).get_body(("html",)).get_content()
