"""Fixtures shared by the live, catch-up, presence and reaction tests."""

import pytest


@pytest.fixture
def member_cookie(member):
    from tests.threads.test_live import session_cookie

    return session_cookie(member)


@pytest.fixture
def replier(member_factory):
    return member_factory(full_name="Rae Replier")
