"""Asking to be erased (community.erasure, community.erasure_views): from the profile or leave page while still a
member, signed in while lapsed, or by a link emailed to an address of an account that can no longer sign in."""

import re
from datetime import timedelta

import pytest
from django.core import signing
from django.utils import timezone

from community.erasure import LINK_SALT, Redactor, request_erasure
from community.models import AuditRecord, ErasureRequest, Member
from tests.conftest import PASSWORD, login

ASK = "/application/erase/"


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def test_request_erasure_leaves_and_tells_moderators_without_naming_the_member(member, moderator, mailoutbox,
                                                                               on_commit):
    with on_commit():
        request = request_erasure(member, note="  Thank you all.  ")

    member.refresh_from_db()
    assert (request.status, request.note, request.member) == (ErasureRequest.Status.REQUESTED, "Thank you all.", member)
    assert member.status == Member.Status.DEPARTED and not member.user.is_active
    assert {record.action for record in AuditRecord.objects.filter(subject=member)} == {"member_left",
                                                                                        "erasure_requested"}
    assert [message.to for message in mailoutbox] == [[moderator.email]]
    assert "/moderation/erasure/" in mailoutbox[0].body
    assert member.full_name not in mailoutbox[0].body + mailoutbox[0].subject


def test_request_erasure_twice_keeps_the_first_request(member):
    first = request_erasure(member, note="First.")

    assert request_erasure(member, note="Second.") == first
    assert ErasureRequest.objects.count() == 1


def test_erasure_request_page_explains_and_offers_the_download_first(member_client):
    page = member_client.get(ASK).content.decode()

    assert "What goes" in page and "What stays" in page
    assert "“Former member”" in page
    assert 'href="/profile/data/"' in page


def test_erasure_request_page_needs_the_box_ticked(member_client, member):
    response = member_client.post(ASK, {"note": "Bye"})

    assert response.status_code == 400
    assert "Tick the box to confirm that you want to be erased." in response.content.decode()
    assert not ErasureRequest.objects.exists()
    member.refresh_from_db()
    assert member.status == Member.Status.ACTIVE


def test_erasure_request_page_files_the_request_and_signs_out(member_client, member):
    response = member_client.post(ASK, {"note": "Bye", "confirm": "on"}, follow=True)

    assert response.redirect_chain == [("/application/erase/requested/", 302)]
    assert "A moderator will carry out the erasure" in response.content.decode()
    assert "_auth_user_id" not in member_client.session
    assert ErasureRequest.objects.get().note == "Bye"


def test_erasure_request_page_open_to_a_lapsed_member(client, member_factory):
    lapsed = member_factory(status=Member.Status.LAPSED)
    login(client, lapsed)

    assert 'href="/application/erase/"' in client.get("/application/").content.decode()
    assert "What goes" in client.get(ASK).content.decode()
    client.post(ASK, {"confirm": "on"})

    assert ErasureRequest.objects.get().member == lapsed


def test_erasure_request_page_shows_a_waiting_request(member, client, member_factory):
    lapsed = member_factory(status=Member.Status.LAPSED)
    request_erasure(lapsed)
    Member.objects.filter(pk=lapsed.pk).update(status=Member.Status.LAPSED)
    lapsed.user.is_active = True
    lapsed.user.save()
    login(client, lapsed)

    page = client.get(ASK).content.decode()

    assert "You asked to be erased on" in page
    assert "<form" not in page.split("<main", 1)[1]


def _link_in(message) -> str:
    return re.search(r"http://testserver(/application/erase/[^/\s]+/)", message.body).group(1)


def test_departed_member_asks_through_a_link_sent_to_their_address(client, member, mailoutbox, on_commit):
    other_address = member.user.emailaddress_set.create(email="dana.home@example.net", verified=True)
    login(client, member).post("/profile/leave/", {"confirm": "on"})
    assert client.post("/accounts/login/", {"login": member.email, "password": PASSWORD})["Location"] == \
        "/accounts/inactive/"
    assert 'href="/application/erase/"' in client.get("/accounts/inactive/").content.decode()
    mailoutbox.clear()

    with on_commit():
        response = client.post(ASK, {"email": "DANA.HOME@example.net"})

    assert response["Location"] == "/application/erase/sent/"
    assert [message.to for message in mailoutbox] == [[other_address.email]]
    link = _link_in(mailoutbox[0])
    assert "What goes" in client.get(link).content.decode()
    assert client.post(link, {"note": "From home.", "confirm": "on"})["Location"] == "/application/erase/requested/"
    assert ErasureRequest.objects.get().member == member


def test_erasure_link_form_says_the_same_for_unknown_addresses_and_sends_once(client, member, mailoutbox, on_commit):
    with on_commit():
        unknown = client.post(ASK, {"email": "nobody@example.org"})
        known = client.post(ASK, {"email": member.email})
        again = client.post(ASK, {"email": member.email})

    assert unknown["Location"] == known["Location"] == again["Location"] == "/application/erase/sent/"
    assert len(mailoutbox) == 1


def test_erasure_link_refused_when_forged_or_expired(client, member, monkeypatch):
    address = member.user.emailaddress_set.get()
    forged = client.get(f"{ASK}{signing.dumps({'a': address.pk, 'u': member.user_id}, salt='other')}/")
    token = signing.dumps({"a": address.pk, "u": member.user_id}, salt=LINK_SALT)
    eight_days_later = (timezone.now() + timedelta(days=8)).timestamp()
    monkeypatch.setattr("django.core.signing.time.time", lambda: eight_days_later)

    expired = client.get(f"{ASK}{token}/")

    assert forged.status_code == 400 and "not valid" in forged.content.decode()
    assert expired.status_code == 400 and "expired" in expired.content.decode()
    assert not ErasureRequest.objects.exists()


def test_leave_and_profile_pages_link_to_erasure(member_client):
    for path in ("/profile/", "/profile/leave/"):
        assert 'href="/application/erase/"' in member_client.get(path).content.decode(), path


# --- Taking a person out of text ------------------------------------------------------------------------------

REDACTOR = Redactor(names=("Dana Member", "José Núñez"), addresses=("dana@cascade.example.org",),
                    handles=("dana.member",), member_id=42)


@pytest.mark.parametrize(("text", "expected"), [
    ("Dana Member wrote:\n> tea", "A former member wrote:\n> tea"),
    ("> > dana  member wrote:", "> > A former member wrote:"),
    ("Thanks @dana.member and @Dana.Member.42!", "Thanks a former member and a former member!"),
    ("@dana.member.43 and @dana.member.lee are other people", "@dana.member.43 and @dana.member.lee are other people"),
    ("Ask José Núñez", "Ask a former member"),
    ("Mail dana@cascade.example.org.", "Mail [address removed]."),
    ("Mail xdana@cascade.example.org or dana@cascade.example.org.uk", "Mail xdana@cascade.example.org or "
                                                                       "dana@cascade.example.org.uk"),
    ("Dana Members and DanaMember and Dana alone", "Dana Members and DanaMember and Dana alone"),
])
def test_redactor_scrub_takes_out_whole_names_handles_and_addresses(text, expected):
    assert REDACTOR.scrub(text) == expected


def test_erasure_request_page_asks_anonymous_visitors_for_an_address_only(client, member):
    page = client.get(ASK).content.decode()

    assert 'name="email"' in page
    assert 'name="confirm"' not in page and member.full_name not in page
