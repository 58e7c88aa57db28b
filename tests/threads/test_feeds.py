import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from community.models import Member
from tests.conftest import login
from threads.feeds import ensure_tokens, issue_token, revoke_token
from threads.models import EConsultation, FeedToken

from .events_helpers import make_econsultation, make_webinar

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def webinar(db):
    return make_webinar(title="Complex Care", starts_at=datetime(2030, 3, 14, 17, 0, tzinfo=UTC),
                        ends_at=datetime(2030, 3, 14, 18, 30, tzinfo=UTC), time_zone="America/Chicago",
                        registration_url="https://example.org/register")


def _events(body: bytes) -> dict:
    return {str(event["uid"]): event for event in Calendar.from_ical(body).walk("VEVENT")}


def test_webinar_ics_holds_the_webinar_and_the_live_window(client, member, moderator, webinar):
    econsultation = make_econsultation(moderator, EConsultation.OPEN, webinar=webinar)
    login(client, member)

    response = client.get(f"/events/{webinar.pk}.ics")

    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    events = _events(response.content)
    talk = events[f"webinar-{webinar.pk}@lists.example.org"]
    live = events[f"econsultation-{econsultation.pk}@lists.example.org"]
    assert str(talk["summary"]) == "Webinar: Complex Care"
    assert talk["dtstart"].params["TZID"] == "America/Chicago"
    assert talk.decoded("dtstart") == datetime(2030, 3, 14, 12, 0, tzinfo=ZoneInfo("America/Chicago"))
    assert talk.decoded("dtend") == webinar.ends_at
    assert "https://example.org/register" in str(talk["description"])
    assert str(talk["url"]) == f"http://testserver/events/{webinar.pk}/"
    assert (live.decoded("dtstart"), live.decoded("dtend")) == (econsultation.live_starts_at,
                                                                econsultation.live_ends_at)
    assert talk.decoded("dtstamp").utcoffset().total_seconds() == 0
    assert "TZID:America/Chicago" in response.content.decode()  # the VTIMEZONE calendar apps need


def test_webinar_ics_uids_are_stable(client, member, webinar):
    login(client, member)

    first, second = (set(_events(client.get(f"/events/{webinar.pk}.ics").content)) for _ in range(2))

    assert first == second == {f"webinar-{webinar.pk}@lists.example.org"}


def test_feeds_page_is_for_members_only(client, db):
    assert client.get("/feeds/")["Location"] == "/accounts/login/?next=/feeds/"


def test_feeds_page_makes_private_links_on_demand(client, member):
    login(client, member)
    assert "Make my private links" in client.get("/feeds/").content.decode()

    client.post("/feeds/create/")

    tokens = ensure_tokens(member)
    page = client.get("/feeds/").content.decode()
    assert f"http://testserver/feeds/private/calendar/{tokens['calendar'].token}.ics" in page
    assert f"http://testserver/feeds/private/threads/{tokens['news'].token}.atom" in page
    assert len(tokens["calendar"].token) >= 43


def test_calendar_feed_opens_without_signing_in(client, member, moderator, webinar):
    econsultation = make_econsultation(moderator)
    token = issue_token(member, FeedToken.Kind.CALENDAR).token

    response = client.get(f"/feeds/private/calendar/{token}.ics")

    assert response.status_code == 200
    assert set(_events(response.content)) == {
        f"webinar-{webinar.pk}@lists.example.org", f"webinar-{econsultation.webinar_id}@lists.example.org",
        f"econsultation-{econsultation.pk}@lists.example.org",
    }


def test_calendar_feed_unknown_or_wrong_kind_token_is_404(client, member):
    news = issue_token(member, FeedToken.Kind.NEWS).token

    assert client.get("/feeds/private/calendar/not-a-token.ics").status_code == 404
    assert client.get(f"/feeds/private/calendar/{news}.ics").status_code == 404


def test_feed_token_regenerated_or_revoked_stops_the_old_link(client, member, thread):
    login(client, member)
    old = issue_token(member, FeedToken.Kind.NEWS).token

    client.post("/feeds/regenerate/", {"kind": "news"})

    new = member.feed_tokens.get(kind="news", revoked_at__isnull=True).token
    assert new != old
    client.logout()
    assert client.get(f"/feeds/private/threads/{old}.atom").status_code == 404
    assert client.get(f"/feeds/private/threads/{new}.atom").status_code == 200
    revoke_token(member, FeedToken.Kind.NEWS)
    assert client.get(f"/feeds/private/threads/{new}.atom").status_code == 404


def test_feed_revoke_from_the_feeds_page(client, member):
    token = issue_token(member, FeedToken.Kind.CALENDAR).token
    login(client, member)

    response = client.post("/feeds/revoke/", {"kind": "calendar"})

    assert response["Location"] == "/feeds/"
    assert client.get(f"/feeds/private/calendar/{token}.ics").status_code == 404


@pytest.mark.parametrize("status", [Member.Status.SUSPENDED, Member.Status.LAPSED, Member.Status.DEPARTED])
def test_feeds_stop_when_membership_stops(status, client, member, webinar):
    tokens = ensure_tokens(member)
    Member.objects.filter(pk=member.pk).update(status=status)

    assert client.get(f"/feeds/private/calendar/{tokens['calendar'].token}.ics").status_code == 404
    assert client.get(f"/feeds/private/threads/{tokens['news'].token}.atom").status_code == 404


def test_threads_feed_lists_new_threads_titles_and_links_only(client, member, thread_factory):
    older = thread_factory(title="Sleep hygiene handouts", body="A private detail about my caseload.")
    newer = thread_factory(title="Interpreters in groups", body="Another private detail.")
    token = issue_token(member, FeedToken.Kind.NEWS).token

    response = client.get(f"/feeds/private/threads/{token}.atom")

    assert response["Content-Type"].startswith("application/atom+xml")
    assert b"private detail" not in response.content
    feed = ET.fromstring(response.content)
    entries = feed.findall(f"{ATOM}entry")
    assert [entry.find(f"{ATOM}title").text for entry in entries] == [newer.title, older.title]
    assert entries[0].find(f"{ATOM}link").get("href") == f"http://testserver{newer.get_absolute_url()}"
    assert entries[0].find(f"{ATOM}summary") is None and entries[0].find(f"{ATOM}content") is None
    assert entries[0].find(f"{ATOM}author") is None


def test_threads_feed_query_count_is_constant(client, member, thread_factory, django_assert_num_queries):
    token = issue_token(member, FeedToken.Kind.NEWS).token
    thread_factory()
    # token with its member, and the threads
    with django_assert_num_queries(2):
        client.get(f"/feeds/private/threads/{token}.atom")
    for n in range(10):
        thread_factory(title=f"Thread {n}")

    with django_assert_num_queries(2):
        client.get(f"/feeds/private/threads/{token}.atom")


def test_calendar_feed_query_count_is_constant(client, member, moderator, django_assert_num_queries):
    token = issue_token(member, FeedToken.Kind.CALENDAR).token
    make_econsultation(moderator)
    # token with its member, and the webinars with their e-consultations and threads
    with django_assert_num_queries(2):
        client.get(f"/feeds/private/calendar/{token}.ics")
    for _ in range(5):
        make_econsultation(moderator)

    with django_assert_num_queries(2):
        response = client.get(f"/feeds/private/calendar/{token}.ics")
    assert len(_events(response.content)) == 12
