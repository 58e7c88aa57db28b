"""The audit log: every moderation action, newest first, for moderators only."""

from datetime import timedelta

import pytest
from django.utils import timezone

from community.models import Application, AuditRecord
from community.services import approve_application, request_more_information, suspend_member
from tests.conftest import login

AUDIT = "/moderation/audit/"


def record(actor, subject, action="member_suspended", *, days_ago=0, **fields):
    return AuditRecord.objects.create(
        actor=actor, subject=subject, action=action, created_at=timezone.now() - timedelta(days=days_ago), **fields
    )


def test_audit_log_shows_who_what_whom_target_and_why(client, moderator, pending_member):
    application = Application.objects.get(member=pending_member)
    request_more_information(application, moderator, "Which ORR grant funds your program?")
    login(client, moderator)

    page = client.get(AUDIT).content.decode()

    row = page[page.index('<tr id="audit-'):]
    assert "Mo Derator" in row
    assert "Asked an applicant for more information" in row
    assert f'<a href="/moderation/members/{pending_member.id}/">{pending_member.full_name}</a>' in row
    assert f"Application #{application.id} (Cascade Center for Survivors)" in row
    assert "Which ORR grant funds your program?" in row


def test_audit_log_lists_newest_first(client, moderator, member):
    record(moderator, member, reason="The older one", days_ago=2)
    record(moderator, member, reason="The newer one", days_ago=1)
    login(client, moderator)

    page = client.get(AUDIT).content.decode()

    assert page.index("The newer one") < page.index("The older one")


def test_audit_log_filters_by_action(client, moderator, member, pending_member):
    suspend_member(member, moderator, "Shared a client's photo.")
    approve_application(Application.objects.get(member=pending_member), moderator)
    login(client, moderator)

    page = client.get(AUDIT, {"action": "member_suspended"}).content.decode()

    assert "Shared a client&#x27;s photo." in page
    assert "Approved an application" not in page.split("</select>")[1]
    assert '<option value="application_approved">Approved an application</option>' in page
    assert '<option value="member_suspended" selected>Suspended a member</option>' in page


def test_audit_log_pages_by_fifty_and_keeps_the_filter(client, moderator, member):
    AuditRecord.objects.bulk_create(
        AuditRecord(actor=moderator, subject=member, action="member_suspended", reason=f"Reason {n}") for n in range(51)
    )
    login(client, moderator)

    first = client.get(AUDIT, {"action": "member_suspended"}).content.decode()
    second = client.get(AUDIT, {"action": "member_suspended", "page": 2}).content.decode()

    assert first.count('<tr id="audit-') == 50
    assert second.count('<tr id="audit-') == 1
    assert 'href="?action=member_suspended&amp;page=2"' in first


def test_audit_log_is_forbidden_to_members(client, member):
    login(client, member)

    assert client.get(AUDIT).status_code == 403


@pytest.mark.parametrize("count", [1, 12])
def test_audit_log_query_count_is_constant(client, moderator, member_factory, django_assert_num_queries, count):
    for n in range(count):
        record(moderator, member_factory(), "member_suspended" if n % 2 else "role_changed", target="x")
    login(client, moderator)

    # user, member, TOTP check, the actions for the filter, count, the page with actors and subjects, held posts
    # waiting (moderation menu)
    with django_assert_num_queries(7):
        response = client.get(AUDIT)

    assert response.content.decode().count('<tr id="audit-') == count
