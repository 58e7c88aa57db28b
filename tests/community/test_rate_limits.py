"""allauth's rate limits, counted in the real Redis cache that every web process shares."""

from django.core.cache import cache
from django.test import Client

from tests.conftest import PASSWORD


def _redis_keys(pattern):
    return list(cache._cache.get_client(write=False).scan_iter(match=pattern))


def test_login_failed_rate_limit_blocks_guessing_for_an_account_in_redis(member):
    attempt = {"login": member.user.email, "password": "wrong-password"}
    pages = [Client().post("/accounts/login/", attempt).content.decode() for _ in range(6)]

    assert not any("Too many failed login attempts" in page for page in pages[:5])
    assert "Too many failed login attempts" in pages[5]
    # The right password is refused too while the limit holds; the count lives in Redis, not in a process.
    right = Client().post("/accounts/login/", {**attempt, "password": PASSWORD})
    assert right.status_code == 200
    assert "Too many failed login attempts" in right.content.decode()
    assert _redis_keys(f"{cache.key_prefix}:*rl:*")


def test_signup_rate_limit_per_address(db):
    client = Client(REMOTE_ADDR="203.0.113.7")
    statuses = [client.post("/accounts/signup/", {"email": f"x{i}@example.org"}).status_code for i in range(11)]

    assert statuses[:10] == [200] * 10  # invalid forms, but each counts as an attempt
    assert statuses[10] == 429


def test_password_reset_rate_limit_per_email(member):
    client = Client()
    statuses = [
        client.post("/accounts/password/reset/", {"email": member.user.email}).status_code for _ in range(4)
    ]

    assert statuses[:3] == [302] * 3
    assert statuses[3] == 429
