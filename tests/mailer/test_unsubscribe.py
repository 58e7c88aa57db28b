import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from mailer.models import MailPreference
from mailer.tokens import make_unsubscribe_token


@pytest.fixture
def csrf_client():
    """Like a mail client: no session, no cookies, and CSRF checks on."""
    return Client(enforce_csrf_checks=True)


def unsubscribe_url(member, generation=0):
    return reverse("unsubscribe", args=[make_unsubscribe_token(member_id=member.id, generation=generation)])


def mode_of(member):
    return MailPreference.objects.get(member=member).mode


def test_unsubscribe_get_asks_before_changing_anything(member, csrf_client):
    response = csrf_client.get(unsubscribe_url(member))

    assert response.status_code == 200
    assert "Stop all email from the list" in response.text
    assert mode_of(member) == MailPreference.Mode.EACH


def test_unsubscribe_one_click_post_without_login_or_csrf_stops_mail(member, csrf_client):
    response = csrf_client.post(
        unsubscribe_url(member), data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 200
    assert "You will get no more email from the list" in response.text
    assert mode_of(member) == MailPreference.Mode.NONE


def test_unsubscribe_post_can_switch_to_daily_digest(member, csrf_client):
    response = csrf_client.post(unsubscribe_url(member), {"mode": "daily"})

    assert response.status_code == 200
    assert mode_of(member) == MailPreference.Mode.DAILY


@pytest.mark.parametrize("mode", ["weekly", "mine"])
def test_unsubscribe_post_can_switch_to_a_weekly_digest_or_only_my_threads(member, csrf_client, mode):
    page = csrf_client.get(unsubscribe_url(member)).content.decode()

    assert f'name="mode" value="{mode}"' in page
    assert 'href="/mail/settings/"' in page

    csrf_client.post(unsubscribe_url(member), {"mode": mode})

    assert mode_of(member) == mode


def test_unsubscribe_member_without_preference_row_gets_one(member, csrf_client):
    MailPreference.objects.filter(member=member).delete()

    csrf_client.post(unsubscribe_url(member))

    assert mode_of(member) == MailPreference.Mode.NONE


def test_unsubscribe_from_list_header_stops_further_posts(member, member_factory, thread_factory, mailoutbox,
                                                          csrf_client):
    reader = member_factory()
    thread_factory(author=member)
    [header] = [m.extra_headers["List-Unsubscribe"] for m in mailoutbox if m.to == [reader.email]]
    web_url = header.split(",")[0].strip("<> ").removeprefix("http://testserver")
    mailoutbox.clear()

    csrf_client.post(web_url, data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    thread_factory(author=member, title="Second thread")

    assert mailoutbox == []


def test_unsubscribe_bad_signature_is_400(member, csrf_client):
    forged = signing.dumps({"m": member.id, "g": 0}, salt="not-the-unsubscribe-salt", compress=True)

    response = csrf_client.post(reverse("unsubscribe", args=[forged]))

    assert response.status_code == 400
    assert "not valid" in response.text
    assert mode_of(member) == MailPreference.Mode.EACH


def test_unsubscribe_revoked_generation_is_400(member, csrf_client):
    url = unsubscribe_url(member, generation=0)
    MailPreference.objects.filter(member=member).update(token_generation=1)

    get_response = csrf_client.get(url)
    post_response = csrf_client.post(url)

    assert (get_response.status_code, post_response.status_code) == (400, 400)
    assert "withdrawn" in post_response.text
    assert mode_of(member) == MailPreference.Mode.EACH
