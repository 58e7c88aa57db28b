import pytest

from community.models import Application, AuditRecord, Member
from tests.conftest import login


@pytest.fixture
def application(pending_member):
    return Application.objects.get(member=pending_member)


def approve_url(application):
    return f"/moderation/applications/{application.id}/approve/"


def reject_url(application):
    return f"/moderation/applications/{application.id}/reject/"


def test_approve_activates_member_records_audit_and_emails(
    client, moderator, application, mailoutbox, django_capture_on_commit_callbacks
):
    login(client, moderator)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(approve_url(application))

    assert response.status_code == 302
    assert response["Location"] == "/moderation/applications/"
    application.refresh_from_db()
    assert application.status == Application.Status.APPROVED
    assert application.decided_by == moderator
    member = application.member
    member.refresh_from_db()
    assert member.status == Member.Status.ACTIVE
    assert member.joined_at is not None
    audit = AuditRecord.objects.get()
    assert (audit.actor, audit.subject, audit.action) == (moderator, member, "application_approved")
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


@pytest.mark.parametrize("action", ["approve", "reject"])
def test_decide_by_non_moderator_is_forbidden(
    client, member, application, mailoutbox, django_capture_on_commit_callbacks, action
):
    login(client, member)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/moderation/applications/{application.id}/{action}/", {"reason": "No."})

    assert response.status_code == 403
    application.refresh_from_db()
    assert application.status == Application.Status.PENDING
    assert not AuditRecord.objects.exists()
    assert mailoutbox == []


@pytest.mark.parametrize("second", ["approve", "reject"])
def test_decide_twice_shows_error_and_sends_no_second_email(
    client, moderator, application, mailoutbox, django_capture_on_commit_callbacks, second
):
    login(client, moderator)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(approve_url(application))

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/moderation/applications/{application.id}/{second}/", {"reason": "Changed my mind."}, follow=True
        )

    assert response.redirect_chain == [("/moderation/applications/", 302)]
    assert "This application has already been decided." in response.content.decode()
    application.refresh_from_db()
    assert application.status == Application.Status.APPROVED
    assert AuditRecord.objects.count() == 1
    assert len(mailoutbox) == 1


def test_moderation_queue_lists_pending_applications(client, moderator, application, applicant_factory):
    decided = Application.objects.get(member=applicant_factory(full_name="Already Decided"))
    decided.status = Application.Status.REJECTED
    decided.save()
    login(client, moderator)

    page = client.get("/moderation/applications/").content.decode()

    assert application.member.full_name in page
    assert application.statement in page
    assert f'action="{approve_url(application)}"' in page
    assert "Already Decided" not in page


@pytest.mark.parametrize("pending", [1, 10])
def test_moderation_queue_query_count_is_constant(
    client, moderator, applicant_factory, django_assert_num_queries, pending
):
    applicants = [applicant_factory() for _ in range(pending)]
    login(client, moderator)

    # user, member, applications with their member, user and organization (the session is in the cache)
    with django_assert_num_queries(3):
        response = client.get("/moderation/applications/")

    assert response.content.decode().count('<li id="application-') == pending
    assert all(applicant.full_name in response.content.decode() for applicant in applicants)
