"""The guard's second stop in autocommit, as in production: the tests' usual rolled-back transaction would hide
that the stop is recorded after the service's transaction has ended (threads.guard_checks.records_stops)."""

import re

import pytest
from django.urls import reverse

from threads.models import GuardCheck, Post

from .test_guard_posting import IDENTIFYING


def shown_check(page: str) -> dict:
    return {name: re.search(rf'name="{name}" value="([^"]*)"', page).group(1)
            for name in ("guard-check", "guard-checked")}


@pytest.mark.django_db(transaction=True)
def test_reply_ticked_without_a_reason_is_stopped_again_not_an_error(client, member, opening_post):
    client.force_login(member.user)
    url = reverse("reply", args=[opening_post.id])
    stopped = client.post(url, {"body": IDENTIFYING}).content.decode()

    response = client.post(url, {"body": IDENTIFYING, **shown_check(stopped), "guard-confirmed": "on",
                                 "guard-reason": ""})

    assert response.status_code == 200
    assert "Say in a few words why this is not client information" in response.content.decode()
    assert not Post.objects.filter(parent=opening_post).exists()
    assert GuardCheck.objects.get().outcome == GuardCheck.Outcome.STOPPED
