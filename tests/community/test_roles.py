"""Managing members: suspend, reactivate, remove, change role, and who may do which to whom."""

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.test import Client
from django.utils import timezone

from community.membership import leave_community, run_reverification, work_email_changed
from community.models import AuditRecord, Member
from community.services import ModerationError, change_role, reactivate_member, remove_member, suspend_member
from tests.conftest import PASSWORD, enable_totp, login
from tests.threads.test_live import communicator_for, forum_communicator, session_cookie
from threads.models import Post

MEMBERS = "/moderation/members/"


@pytest.fixture
def other_moderator(member_factory):
    other = member_factory(role=Member.Role.MODERATOR, full_name="Otto Other")
    enable_totp(other.user)
    return other


def action_url(member, action):
    return f"/moderation/members/{member.id}/{action}/"


def test_suspend_member_cuts_access_at_once_and_records_why(client, moderator, member):
    member_client = login(Client(), member)
    assert member_client.get("/").status_code == 200
    login(client, moderator)

    response = client.post(action_url(member, "suspend"), {"reason": "Posted a client's name twice."}, follow=True)

    assert f"{member} is suspended" in response.content.decode()
    member.refresh_from_db()
    assert member.status == Member.Status.SUSPENDED
    audit = AuditRecord.objects.get()
    assert (audit.actor, audit.action, audit.subject, audit.reason) == (
        moderator, "member_suspended", member, "Posted a client's name twice.")
    assert member_client.get("/")["Location"] == "/application/"


@pytest.mark.parametrize(("action", "status"), [
    ("suspend", Member.Status.ACTIVE), ("reactivate", Member.Status.SUSPENDED), ("remove", Member.Status.ACTIVE),
])
def test_member_action_without_reason_shows_error_and_changes_nothing(
    client, moderator, member_factory, action, status
):
    member = member_factory(status=status)
    login(client, moderator)

    response = client.post(action_url(member, action), {"reason": "  "})

    assert response.status_code == 400
    assert response.context["acting"] == action
    assert "This field is required." in response.content.decode()
    member.refresh_from_db()
    assert member.status == status
    assert not AuditRecord.objects.exists()


def test_reactivate_member_lets_a_suspended_member_back_in(client, moderator, member):
    suspend_member(member, moderator, "Investigating a report.")
    login(client, moderator)

    client.post(action_url(member, "reactivate"), {"reason": "Report was mistaken."})

    member.refresh_from_db()
    assert member.status == Member.Status.ACTIVE
    assert AuditRecord.objects.filter(action="member_reactivated", reason="Report was mistaken.").exists()
    assert login(Client(), member).get("/").status_code == 200


def test_remove_member_stops_sign_in_and_keeps_their_posts(client, moderator, member, thread):
    login(client, moderator)

    client.post(action_url(member, "remove"), {"reason": "Left the program; asked to be removed."})

    member.refresh_from_db()
    assert member.status == Member.Status.DEPARTED
    assert member.departed_at is not None
    assert not member.user.is_active
    assert Post.objects.filter(author=member).exists()
    signing_in = Client().post("/accounts/login/", {"login": member.email, "password": PASSWORD})
    assert "_auth_user_id" not in signing_in.client.session
    assert AuditRecord.objects.get().action == "member_removed"


def test_reactivate_member_after_removal_restores_sign_in(moderator, member):
    remove_member(member, moderator, "Mistaken identity.")

    reactivate_member(member, moderator, "It was someone else.")

    member.refresh_from_db()
    assert (member.status, member.departed_at, member.user.is_active) == (Member.Status.ACTIVE, None, True)
    assert Client().login(email=member.email, password=PASSWORD)


@pytest.mark.parametrize("action", ["suspend", "remove"])
def test_member_action_on_an_admin_is_refused(client, moderator, admin, action):
    login(client, moderator)

    response = client.post(action_url(admin, action), {"reason": "Testing."}, follow=True)

    assert "Administrators cannot be suspended or removed here." in response.content.decode()
    admin.refresh_from_db()
    assert admin.status == Member.Status.ACTIVE
    assert not AuditRecord.objects.exists()


def test_suspend_member_on_yourself_is_refused(moderator):
    with pytest.raises(ModerationError, match="your own account"):
        suspend_member(moderator, moderator, "Taking a break.")


def test_suspend_member_on_a_moderator_needs_an_admin(moderator, other_moderator, admin):
    with pytest.raises(ModerationError, match="Only an administrator"):
        suspend_member(other_moderator, moderator, "Disagreement.")

    suspend_member(other_moderator, admin, "Account compromised.")

    other_moderator.refresh_from_db()
    assert other_moderator.status == Member.Status.SUSPENDED


def test_suspend_member_by_a_member_is_refused(member, member_factory):
    with pytest.raises(ModerationError):
        suspend_member(member_factory(), member, "I do not like them.")


def test_member_action_by_a_member_is_forbidden(client, member, member_factory):
    other = member_factory()
    login(client, member)

    assert client.post(action_url(other, "suspend"), {"reason": "x"}).status_code == 403
    assert client.get(MEMBERS).status_code == 403
    other.refresh_from_db()
    assert other.status == Member.Status.ACTIVE


def test_change_role_by_admin_promotes_and_records_it(client, admin, member):
    login(client, admin)

    response = client.post(action_url(member, "role"), {"role": "moderator", "reason": "Covers the west coast."},
                           follow=True)

    assert f"{member} is now a moderator." in response.content.decode()
    member.refresh_from_db()
    assert member.role == Member.Role.MODERATOR
    audit = AuditRecord.objects.get()
    assert (audit.actor, audit.action, audit.target, audit.reason) == (
        admin, "role_changed", "Member → Moderator", "Covers the west coast.")


def test_change_role_by_moderator_is_refused(client, moderator, member):
    login(client, moderator)

    response = client.post(action_url(member, "role"), {"role": "admin"}, follow=True)

    assert "Only an administrator can change roles." in response.content.decode()
    member.refresh_from_db()
    assert member.role == Member.Role.MEMBER
    assert not AuditRecord.objects.exists()


def test_change_role_of_yourself_is_refused(admin):
    with pytest.raises(ModerationError, match="another administrator"):
        change_role(admin, admin, Member.Role.MEMBER)


def test_member_page_offers_role_change_only_to_admins(client, moderator, admin, member):
    login(client, moderator)
    assert 'name="role"' not in client.get(f"{MEMBERS}{member.id}/").content.decode()

    login(client, admin)
    page = client.get(f"{MEMBERS}{member.id}/").content.decode()
    assert 'name="role"' in page
    assert f'action="{action_url(member, "suspend")}"' in page


def test_member_page_shows_history(client, moderator, member):
    suspend_member(member, moderator, "Investigating a report.")
    login(client, moderator)

    page = client.get(f"{MEMBERS}{member.id}/").content.decode()

    assert "Suspended a member — Mo Derator" in page
    assert "Investigating a report." in page
    assert f'action="{action_url(member, "reactivate")}"' in page
    assert f'action="{action_url(member, "suspend")}"' not in page


def test_members_list_searches_by_name_email_or_organization(client, moderator, member_factory, organization_factory):
    harbor = organization_factory(name="Harbor Health")
    member_factory(full_name="Alma Harbor-Worker", org=harbor)
    member_factory(full_name="Bea Cascade", email="bea@cascade.example.org")
    login(client, moderator)

    by_org = client.get(MEMBERS, {"q": "harbor health"}).content.decode()
    by_email = client.get(MEMBERS, {"q": "bea@cascade"}).content.decode()

    assert "Alma Harbor-Worker" in by_org and "Bea Cascade" not in by_org
    assert "Bea Cascade" in by_email and "Alma Harbor-Worker" not in by_email


def test_members_list_filters_by_status(client, moderator, member_factory):
    member_factory(full_name="Sam Suspended", status=Member.Status.SUSPENDED)
    member_factory(full_name="Andy Active")
    login(client, moderator)

    page = client.get(MEMBERS, {"status": "suspended"}).content.decode()

    assert "Sam Suspended" in page
    assert "Andy Active" not in page


@pytest.mark.parametrize("count", [1, 10])
def test_members_list_query_count_is_constant(client, moderator, member_factory, django_assert_num_queries, count):
    for _ in range(count):
        member_factory()
    login(client, moderator)

    # user, member, TOTP check, count, the page of members with their users and organizations, held posts waiting
    # (moderation menu)
    with django_assert_num_queries(6):
        response = client.get(MEMBERS, {"status": "active"})

    assert response.content.decode().count('<tr id="member-') == count + 1


def _leave(member, moderator, reason):
    leave_community(member)


def _lapse(member, moderator, reason):
    now = timezone.now()
    Member.objects.filter(pk=member.pk).update(
        verified_at=now - timedelta(days=400), reverification_reminders_sent=2,
        last_reminder_at=now - timedelta(days=20),
    )
    run_reverification(now=now)


def _change_to_free_mail(member, moderator, reason):
    work_email_changed(member.user, email="dana.home@gmail.com", previous_email=member.user.email)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("own_channel_prefix", "close_worker_thread_connections")
@pytest.mark.parametrize("action", [suspend_member, remove_member, _leave, _lapse, _change_to_free_mail])
async def test_member_action_closes_open_websockets(member, moderator, thread, action):
    cookie = await database_sync_to_async(session_cookie)(member)
    thread_socket, forum_socket = communicator_for(thread, cookie), forum_communicator(cookie)
    assert (await thread_socket.connect())[0]
    assert (await forum_socket.connect())[0]

    await database_sync_to_async(action)(member, moderator, "Posted a client's name.")

    for socket in (thread_socket, forum_socket):
        assert await socket.receive_output(timeout=5) == {"type": "websocket.close", "code": 4403}


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("own_channel_prefix", "close_worker_thread_connections")
async def test_member_action_leaves_other_members_websockets_open(member, member_factory, moderator, thread):
    bystander = await database_sync_to_async(member_factory)(full_name="Bee Stander")
    socket = communicator_for(thread, await database_sync_to_async(session_cookie)(bystander))
    assert (await socket.connect())[0]

    await database_sync_to_async(suspend_member)(member, moderator, "Posted a client's name.")

    assert await socket.receive_nothing(timeout=1)
    await socket.disconnect()
