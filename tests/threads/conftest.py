"""Fixtures shared by the live, catch-up, presence and reaction tests."""

import pytest


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
    from threads.events import resource_reviewed, resource_submitted

    sent = []

    def submitted(sender, resource_id, **kwargs):
        sent.append(("submitted", resource_id))

    def reviewed(sender, resource_id, **kwargs):
        sent.append(("reviewed", resource_id))

    resource_submitted.connect(submitted, weak=False)
    resource_reviewed.connect(reviewed, weak=False)
    yield sent
    resource_submitted.disconnect(submitted)
    resource_reviewed.disconnect(reviewed)
