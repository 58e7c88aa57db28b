import pytest
from django.core.management import CommandError, call_command

from community.access import can_moderate
from community.models import User


def test_create_moderator_makes_an_approved_moderator_who_can_sign_in(db, client, monkeypatch):
    monkeypatch.setenv("FIRST_MODERATOR_PASSWORD", "a-long-enough-password-2026")

    call_command("create_moderator", "Lead@Example.org", "--name", "Lee Lead",
                 "--password-from-env", "FIRST_MODERATOR_PASSWORD")

    user = User.objects.get(email="Lead@example.org")
    assert can_moderate(user)
    assert client.login(email="Lead@example.org", password="a-long-enough-password-2026")
    # Moderator pages need two-step sign-in: the first visit goes to setting it up.
    assert client.get("/moderation/applications/")["Location"] == "/accounts/2fa/totp/activate/"


def test_create_moderator_refuses_a_weak_password_and_creates_nothing(db, monkeypatch):
    monkeypatch.setenv("FIRST_MODERATOR_PASSWORD", "short")

    with pytest.raises(CommandError, match="too short"):
        call_command("create_moderator", "lead@example.org", "--name", "Lee Lead",
                     "--password-from-env", "FIRST_MODERATOR_PASSWORD")

    assert not User.objects.exists()
