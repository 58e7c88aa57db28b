"""The application queue and what moderators do with an application: approve, decline, ask, bulk-approve."""

from datetime import timedelta

import pytest
from django.utils import timezone

from community.eligibility import DOMAIN_VERIFIED, NEEDS_MANUAL_CHECK
from community.models import Application, AuditRecord, Member
from community.services import (
    ModerationError,
    answer_information_request,
    approve_application,
    bulk_approve_applications,
    request_more_information,
)
from tests.conftest import login

QUEUE = "/moderation/applications/"


@pytest.fixture
def application(pending_member):
    return Application.objects.get(member=pending_member)


@pytest.fixture
def verified_application_factory(applicant_factory):
    def make(**kwargs):
        application = Application.objects.get(member=applicant_factory(**kwargs))
        application.eligibility_result = DOMAIN_VERIFIED
        application.eligibility_evidence = ["The work email domain cascade.example.org is a verified domain."]
        application.save()
        return application

    return make


def approve_url(application):
    return f"/moderation/applications/{application.id}/approve/"


def reject_url(application):
    return f"/moderation/applications/{application.id}/reject/"


def ask_url(application):
    return f"/moderation/applications/{application.id}/ask/"


def submitted_days_ago(application, days):
    Application.objects.filter(pk=application.pk).update(submitted_at=timezone.now() - timedelta(days=days))


def test_approve_activates_member_records_audit_and_emails(
    client, moderator, application, mailoutbox, django_capture_on_commit_callbacks
):
    login(client, moderator)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(approve_url(application))

    assert response.status_code == 302
    assert response["Location"] == QUEUE
    application.refresh_from_db()
    assert application.status == Application.Status.APPROVED
    assert application.decided_by == moderator
    member = application.member
    member.refresh_from_db()
    assert member.status == Member.Status.ACTIVE
    assert member.joined_at is not None
    assert member.verified_at is not None
    audit = AuditRecord.objects.get()
    assert (audit.actor, audit.subject, audit.action) == (moderator, member, "application_approved")
    assert audit.target == f"Application #{application.id} (Cascade Center for Survivors)"
    assert [message.to for message in mailoutbox] == [[member.user.email]]
    assert "Welcome" in mailoutbox[0].subject
    assert member.full_name in mailoutbox[0].body


def test_approve_lets_the_new_member_in(client, moderator, application, django_capture_on_commit_callbacks):
    login(client, moderator)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(approve_url(application))
    client.logout()

    login(client, application.member)

    assert client.get("/").status_code == 200


def test_reject_without_reason_shows_error_and_changes_nothing(
    client, moderator, application, mailoutbox, django_capture_on_commit_callbacks
):
    login(client, moderator)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reject_url(application), {"reason": "   "})

    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert response.context["rejecting"] == application.id
    application.refresh_from_db()
    assert application.status == Application.Status.PENDING
    assert application.member.status == Member.Status.PENDING
    assert not AuditRecord.objects.exists()
    assert mailoutbox == []


def test_reject_with_reason_declines_and_emails_reason(
    client, moderator, application, mailoutbox, django_capture_on_commit_callbacks
):
    login(client, moderator)
    reason = "We could not confirm that your program is ORR-funded. Please reapply with your grant number."

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reject_url(application), {"reason": reason})

    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == Application.Status.REJECTED
    assert application.decision_reason == reason
    assert application.member.status == Member.Status.REJECTED
    audit = AuditRecord.objects.get()
    assert (audit.action, audit.reason) == ("application_rejected", reason)
    assert [message.to for message in mailoutbox] == [[application.member.user.email]]
    assert reason in mailoutbox[0].body


@pytest.mark.parametrize("action", ["approve", "reject", "ask"])
def test_decide_by_non_moderator_is_forbidden(
    client, member, application, mailoutbox, django_capture_on_commit_callbacks, action
):
    login(client, member)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/moderation/applications/{application.id}/{action}/", {"reason": "No.", "question": "Why?"}
        )

    assert response.status_code == 403
    application.refresh_from_db()
    assert application.status == Application.Status.PENDING
    assert not AuditRecord.objects.exists()
    assert mailoutbox == []


@pytest.mark.parametrize("second", ["approve", "reject", "ask"])
def test_decide_twice_shows_error_and_sends_no_second_email(
    client, moderator, application, mailoutbox, django_capture_on_commit_callbacks, second
):
    login(client, moderator)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(approve_url(application))

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/moderation/applications/{application.id}/{second}/",
            {"reason": "Changed my mind.", "question": "Where do you work?"}, follow=True,
        )

    assert response.redirect_chain == [(QUEUE, 302)]
    assert "This application has already been decided." in response.content.decode()
    application.refresh_from_db()
    assert application.status == Application.Status.APPROVED
    assert AuditRecord.objects.count() == 1
    assert len(mailoutbox) == 1


def test_approve_application_by_member_who_is_not_a_moderator_is_refused(member, application):
    with pytest.raises(ModerationError):
        approve_application(application, member)

    application.refresh_from_db()
    assert application.status == Application.Status.PENDING


def test_moderation_queue_lists_pending_applications_oldest_first(client, moderator, application, applicant_factory):
    newer = Application.objects.get(member=applicant_factory(full_name="Newer Applicant"))
    submitted_days_ago(application, 2)
    decided = Application.objects.get(member=applicant_factory(full_name="Already Decided"))
    decided.status = Application.Status.REJECTED
    decided.save()
    login(client, moderator)

    page = client.get(QUEUE).content.decode()

    assert page.index(application.member.full_name) < page.index(newer.member.full_name)
    assert application.statement in page
    assert f'action="{approve_url(application)}"' in page
    assert "Already Decided" not in page


def test_moderation_queue_shows_evidence_badge_and_sentences(
    client, moderator, application, verified_application_factory
):
    verified = verified_application_factory(full_name="Vera Verified")
    application.eligibility_result = NEEDS_MANUAL_CHECK
    application.eligibility_evidence = ["gmail.com is a free-mail address: it does not show where the applicant works."]
    application.save()
    login(client, moderator)

    response = client.get(QUEUE)

    page = response.content.decode()
    verified_row = page[page.index(f'id="application-{verified.id}"'):]
    manual_row = page[page.index(f'id="application-{application.id}"'):page.index(f'id="application-{verified.id}"')]
    assert "Work email matches the organization" in verified_row
    assert "is a verified domain" in verified_row
    assert "Needs a manual check" in manual_row
    assert "gmail.com is a free-mail address" in manual_row


def test_moderation_queue_shows_unlisted_organization_with_its_website(client, moderator, application):
    application.organization = None
    application.organization_name = "Riverbend Refugee Clinic"
    application.organization_website = "https://riverbend.example.org"
    application.save()
    login(client, moderator)

    page = client.get(QUEUE).content.decode()

    assert "Riverbend Refugee Clinic <em>(not listed)</em>" in page
    assert 'href="https://riverbend.example.org"' in page


def test_moderation_queue_flags_applications_waiting_more_than_three_days(
    client, moderator, application, applicant_factory
):
    fresh = Application.objects.get(member=applicant_factory(full_name="Fresh Applicant"))
    submitted_days_ago(application, 4)
    login(client, moderator)

    page = client.get(QUEUE).content.decode()

    assert "1 waiting more than 3 days" in page
    stale_row = page[page.index(f'id="application-{application.id}"'):page.index(f'id="application-{fresh.id}"')]
    assert "waiting 4 days" in stale_row
    assert 'class="is-stale"' in stale_row
    assert "waiting 0 days" not in page


def test_moderation_queue_shows_history_for_a_change_of_organization(
    client, moderator, member, organization_factory, django_capture_on_commit_callbacks
):
    member.joined_at = timezone.now() - timedelta(days=400)
    member.save()
    AuditRecord.objects.create(actor=moderator, action="member_suspended", subject=member, reason="Posted a name.")
    change = Application.objects.create(
        member=member, kind=Application.Kind.CHANGE, eligibility_category="ncttp",
        organization=organization_factory(name="Harbor Health"), role_title="Therapist",
        work_email=member.email, statement="I moved to Harbor Health.",
    )
    login(client, moderator)

    page = client.get(QUEUE).content.decode()

    row = page[page.index(f'id="application-{change.id}"'):]
    assert "Changed organization or work email" in row
    assert f"History of {member.full_name}" in row
    assert "currently at Cascade Center for Survivors" in row
    assert "Suspended a member by Mo Derator" in row
    assert "Posted a name." in row


def test_request_info_emails_the_question_and_lists_the_application_as_waiting(
    client, moderator, application, mailoutbox, django_capture_on_commit_callbacks
):
    login(client, moderator)
    question = "Which ORR grant funds your program?"

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(ask_url(application), {"question": question}, follow=True)

    application.refresh_from_db()
    assert application.status == Application.Status.INFO_REQUESTED
    assert application.info_request == question
    assert application.info_requested_at is not None
    audit = AuditRecord.objects.get()
    assert (audit.actor, audit.action, audit.reason) == (moderator, "application_info_requested", question)
    [message] = mailoutbox
    assert message.to == [application.member.email]
    assert question in message.body
    assert "http://testserver/application/" in message.body
    page = response.content.decode()
    assert f'id="application-{application.id}"' not in page
    assert f'id="awaiting-{application.id}"' in page
    assert question in page


def test_request_info_without_question_shows_error(client, moderator, application, mailoutbox):
    login(client, moderator)

    response = client.post(ask_url(application), {"question": " "})

    assert response.status_code == 400
    assert response.context["asking"] == application.id
    assert "This field is required." in response.content.decode()
    application.refresh_from_db()
    assert application.status == Application.Status.PENDING
    assert mailoutbox == []


def test_request_more_information_twice_before_an_answer_is_refused(moderator, application):
    request_more_information(application, moderator, "Which grant?")

    with pytest.raises(ModerationError, match="has not answered"):
        request_more_information(application, moderator, "And your supervisor?")

    application.refresh_from_db()
    assert application.info_request == "Which grant?"


def test_application_page_shows_the_question_and_takes_the_answer(
    client, moderator, application, member_factory, mailoutbox, django_capture_on_commit_callbacks
):
    other_moderator = member_factory(role=Member.Role.ADMIN, full_name="Ada Admin")
    request_more_information(application, moderator, "Which ORR grant funds your program?")
    login(client, application.member)

    page = client.get("/application/").content.decode()
    assert "Which ORR grant funds your program?" in page
    assert 'name="answer"' in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/application/", {"answer": "Our TVRA grant, 90ZT0123."}, follow=True)

    assert "Thank you. Your answer is with the moderators." in response.content.decode()
    application.refresh_from_db()
    assert application.status == Application.Status.PENDING
    assert application.info_response == "Our TVRA grant, 90ZT0123."
    assert application.info_responded_at is not None
    assert sorted(message.to[0] for message in mailoutbox) == sorted([moderator.email, other_moderator.email])
    assert all("Our TVRA grant, 90ZT0123." in message.body for message in mailoutbox)


def test_application_page_refuses_an_empty_answer(client, moderator, application):
    request_more_information(application, moderator, "Which grant?")
    login(client, application.member)

    response = client.post("/application/", {"answer": "  "})

    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    application.refresh_from_db()
    assert application.status == Application.Status.INFO_REQUESTED


def test_application_page_answer_without_a_question_changes_nothing(client, application):
    login(client, application.member)

    response = client.post("/application/", {"answer": "Hello?"}, follow=True)

    assert "There is no question waiting for your answer." in response.content.decode()
    application.refresh_from_db()
    assert (application.status, application.info_response) == (Application.Status.PENDING, "")


def test_moderation_queue_shows_the_question_and_answer_of_an_answered_application(
    client, moderator, application
):
    request_more_information(application, moderator, "Which grant?")
    answer_information_request(application, "TVRA, since 2019.")
    login(client, moderator)

    page = client.get(QUEUE).content.decode()

    row = page[page.index(f'id="application-{application.id}"'):]
    assert "You asked</dt><dd>Which grant?" in row
    assert "They answered</dt><dd>TVRA, since 2019." in row
    assert f'id="awaiting-{application.id}"' not in page


def test_answered_application_waits_from_the_answer_not_from_submission(client, moderator, application):
    submitted_days_ago(application, 10)
    request_more_information(application, moderator, "Which grant?")
    answer_information_request(application, "TVRA.")
    login(client, moderator)

    page = client.get(QUEUE).content.decode()

    assert "waiting more than 3 days" not in page


def test_approve_application_waiting_for_an_answer_is_allowed(moderator, application):
    request_more_information(application, moderator, "Which grant?")

    approve_application(application, moderator)

    application.refresh_from_db()
    assert application.status == Application.Status.APPROVED


def test_bulk_approve_approves_domain_verified_and_names_the_refused(
    client, moderator, application, verified_application_factory, mailoutbox, django_capture_on_commit_callbacks
):
    first = verified_application_factory(full_name="Vera One")
    second = verified_application_factory(full_name="Vic Two")
    login(client, moderator)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/moderation/applications/bulk-approve/",
            {"application": [first.id, second.id, application.id]}, follow=True,
        )

    page = response.content.decode()
    assert "Approved 2: Vera One, Vic Two. They have been emailed." in page
    assert f"Not approved: {application.member.full_name} (needs a manual check)." in page
    statuses = dict(Application.objects.values_list("id", "status"))
    assert statuses == {first.id: "approved", second.id: "approved", application.id: "pending"}
    assert AuditRecord.objects.filter(action="application_approved", actor=moderator).count() == 2
    assert sorted(message.to[0] for message in mailoutbox) == sorted([first.member.email, second.member.email])


def test_bulk_approve_applications_refuses_decided_ones(moderator, verified_application_factory):
    verified = verified_application_factory()
    approve_application(verified, moderator)

    result = bulk_approve_applications([verified.id], moderator)

    assert result.approved == []
    assert [(refused.id, why) for refused, why in result.refused] == [(verified.id, "already decided")]
    assert AuditRecord.objects.count() == 1


def test_moderation_queue_offers_bulk_checkbox_only_for_domain_verified(
    client, moderator, application, verified_application_factory
):
    verified = verified_application_factory()
    login(client, moderator)

    page = client.get(QUEUE).content.decode()

    assert f'value="{verified.id}" form="bulk-approve"' in page
    assert f'value="{application.id}" form="bulk-approve"' not in page
    assert 'id="bulk-approve"' in page


def test_moderation_queue_without_domain_verified_rows_has_no_bulk_form(client, moderator, application):
    login(client, moderator)

    assert 'id="bulk-approve"' not in client.get(QUEUE).content.decode()


@pytest.mark.parametrize("pending", [1, 10])
def test_moderation_queue_query_count_is_constant(
    client, moderator, applicant_factory, verified_application_factory, member, django_assert_num_queries, pending
):
    applicants = [applicant_factory() for _ in range(pending - 1)] + [verified_application_factory().member]
    waiting = Application.objects.get(member=applicant_factory(full_name="Wanda Waiting"))
    request_more_information(waiting, moderator, "Which grant?")
    Application.objects.create(
        member=member, kind=Application.Kind.CHANGE, eligibility_category="ncttp", role_title="Therapist",
        work_email=member.email, statement="Moved.",
    )
    login(client, moderator)

    # user, member, TOTP check, applications with member, user and organizations, their earlier applications,
    # their audit records, applications waiting for the applicant, held posts waiting (moderation menu); the
    # session is in the cache
    with django_assert_num_queries(8):
        response = client.get(QUEUE)

    page = response.content.decode()
    assert page.count('<li id="application-') == pending + 1
    assert all(applicant.full_name in page for applicant in applicants)
    assert "Wanda Waiting" in page
