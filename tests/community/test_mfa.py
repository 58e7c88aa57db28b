"""Moderator pages need two-step sign-in (TOTP with recovery codes) as well as the moderator role."""

import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

from community.models import Application, Member
from tests.conftest import PASSWORD, enable_totp, login

MODERATOR_PAGES = ["/moderation/applications/", "/moderation/members/", "/moderation/audit/"]


def totp_code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


@pytest.fixture
def moderator_without_totp(member_factory):
    return member_factory(role=Member.Role.MODERATOR, full_name="Nora Notyet")


@pytest.mark.parametrize("url", MODERATOR_PAGES)
def test_moderator_required_sends_moderator_without_totp_to_set_it_up(client, moderator_without_totp, url):
    login(client, moderator_without_totp)

    response = client.get(url, follow=True)

    assert response.redirect_chain[0] == ("/accounts/2fa/totp/activate/", 302)
    assert "need two-step sign-in" in response.content.decode()


def test_moderator_required_refuses_actions_of_moderator_without_totp(client, moderator_without_totp, pending_member):
    application = Application.objects.get(member=pending_member)
    login(client, moderator_without_totp)

    response = client.post(f"/moderation/applications/{application.id}/approve/")

    assert response["Location"] == "/accounts/2fa/totp/activate/"
    application.refresh_from_db()
    assert application.status == Application.Status.PENDING


@pytest.mark.parametrize("url", MODERATOR_PAGES)
def test_moderator_required_lets_moderator_with_totp_in(client, moderator_without_totp, url):
    Authenticator.objects.create(user=moderator_without_totp.user, type=Authenticator.Type.TOTP, data={})
    login(client, moderator_without_totp)

    assert client.get(url).status_code == 200


@pytest.mark.parametrize("url", MODERATOR_PAGES)
def test_moderator_required_forbids_members_even_with_totp(client, member, url):
    enable_totp(member.user)
    login(client, member)

    assert client.get(url).status_code == 403


def test_moderator_required_forbids_suspended_moderator_with_totp(client, member_factory):
    suspended = member_factory(role=Member.Role.MODERATOR, status=Member.Status.SUSPENDED)
    enable_totp(suspended.user)
    login(client, suspended)

    assert client.get("/moderation/applications/")["Location"] == "/application/"


def test_moderator_setting_up_totp_is_shown_recovery_codes_then_reaches_the_queue(client, moderator_without_totp):
    client.post("/accounts/login/", {"login": moderator_without_totp.email, "password": PASSWORD})
    asked = client.get("/moderation/applications/", follow=True)
    # allauth asks for the password again before adding an authenticator, however recent the sign-in.
    assert asked.redirect_chain[-1][0] == "/accounts/reauthenticate/?next=%2Faccounts%2F2fa%2Ftotp%2Factivate%2F"
    setup = client.post(asked.redirect_chain[-1][0], {"password": PASSWORD}, follow=True)
    secret = setup.context["form"].secret

    activated = client.post("/accounts/2fa/totp/activate/", {"code": totp_code(secret)}, follow=True)

    assert activated.redirect_chain == [("/accounts/2fa/recovery-codes/", 302)]
    codes = activated.context["unused_codes"]
    assert len(codes) == 10
    assert all(code in activated.content.decode() for code in codes)
    assert client.get("/moderation/applications/").status_code == 200


def test_moderator_with_totp_signs_in_with_password_and_code(client, moderator_without_totp):
    secret = enable_totp(moderator_without_totp.user)

    asked = client.post("/accounts/login/", {"login": moderator_without_totp.email, "password": PASSWORD})
    assert asked["Location"] == "/accounts/2fa/authenticate/"
    assert client.get("/moderation/applications/")["Location"].startswith("/accounts/login/")

    client.post("/accounts/2fa/authenticate/", {"code": totp_code(secret)})

    assert client.get("/moderation/applications/").status_code == 200
