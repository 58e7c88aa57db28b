"""Fixtures shared by the live, catch-up, presence and reaction tests."""

import pytest

from tests.threads.events_helpers import recorded
from threads.events import resource_reviewed, resource_submitted


@pytest.fixture
def member_cookie(member):
    from tests.threads.test_live import session_cookie

    return session_cookie(member)


@pytest.fixture
def replier(member_factory):
    return member_factory(full_name="Rae Replier")


@pytest.fixture
def resource_events():
    """The resource library's domain events sent while the test runs, as (name, resource_id)."""
    with recorded(submitted=resource_submitted, reviewed=resource_reviewed) as sent:
        yield sent
