from django.test import Client

from community.models import AuditRecord, Member
from tests.conftest import PASSWORD, login


def test_leave_page_explains_what_happens(client, member):
    login(client, member)

    page = client.get("/profile/leave/").content.decode()

    assert "Your posts stay in the discussions, shown with your name" in page
    assert "You get no more email from HealTalk" in page
    assert "You cannot sign in any more" in page


def test_leave_without_confirming_changes_nothing(client, member):
    login(client, member)

    response = client.post("/profile/leave/", {})

    assert response.status_code == 200
    assert "Tick the box to confirm that you want to leave." in response.content.decode()
    member.refresh_from_db()
    assert member.status == Member.Status.ACTIVE
    assert not AuditRecord.objects.exists()


def test_leave_departs_signs_out_and_records_it(client, member):
    login(client, member)

    response = client.post("/profile/leave/", {"confirm": "on"}, follow=True)

    assert response.redirect_chain[0] == ("/accounts/login/", 302)
    assert "You have left HealTalk" in response.content.decode()
    assert "_auth_user_id" not in client.session
    member.refresh_from_db()
    assert member.status == Member.Status.DEPARTED
    assert member.departed_at is not None
    assert not member.user.is_active
    audit = AuditRecord.objects.get()
    assert (audit.action, audit.actor, audit.subject) == ("member_left", member, member)


def test_leave_keeps_posts_with_the_name(client, member, member_factory, thread):
    login(client, member)
    client.post("/profile/leave/", {"confirm": "on"})

    reader = login(Client(), member_factory())

    assert member.full_name in reader.get(thread.get_absolute_url()).content.decode()


def test_leave_ends_sessions_on_other_devices(client, member):
    other_device = login(Client(), member)
    login(client, member)

    client.post("/profile/leave/", {"confirm": "on"})

    assert other_device.get("/")["Location"] == "/accounts/login/?next=/"


def test_departed_member_cannot_sign_in(client, member):
    login(client, member)
    client.post("/profile/leave/", {"confirm": "on"})

    response = client.post("/accounts/login/", {"login": member.email, "password": PASSWORD})

    # allauth refuses an inactive account and says so, rather than pretending the password was wrong.
    assert response["Location"] == "/accounts/inactive/"
    assert "_auth_user_id" not in client.session
    assert client.get("/")["Location"] == "/accounts/login/?next=/"


def test_departed_member_gets_no_list_mail(client, member, member_factory, thread, reply_factory, mailoutbox):
    login(client, member)
    client.post("/profile/leave/", {"confirm": "on"})
    mailoutbox.clear()
    reader, writer = member_factory(), member_factory()

    reply_factory(author=writer, parent=thread.posts.get(), body="Thanks for starting this.")

    assert [message.to for message in mailoutbox] == [[reader.email]]
