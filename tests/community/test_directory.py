import re

import pytest

from community.models import Member
from tests.conftest import login


def names(response):
    return re.findall(r'<a class="title" href="/members/\d+/">([^<]+)</a>', response.content.decode())


@pytest.fixture
def portland(organization_factory):
    return organization_factory(name="Portland Survivor Services", state="OR", city="Portland")


@pytest.fixture
def boston(organization_factory):
    return organization_factory(name="Boston Healing Collaborative", state="MA", city="Boston")


def test_directory_lists_active_members_only(client, member, member_factory):
    for status in (Member.Status.PENDING, Member.Status.SUSPENDED, Member.Status.LAPSED, Member.Status.DEPARTED):
        member_factory(full_name=f"Not Shown {status}", status=status)
    member_factory(full_name="Alex Active")
    login(client, member)

    response = client.get("/members/")

    assert names(response) == ["Alex Active", "Dana Member"]
    assert "2 members." in response.content.decode()


def test_directory_search_finds_by_name_organization_and_area(client, member, member_factory, portland):
    by_name = member_factory(full_name="Nadia Haddad")
    by_organization = member_factory(full_name="Owen Org", org=portland)
    by_area = member_factory(full_name="Ari Area")
    by_area.areas_of_practice = "Forensic evaluations for asylum"
    by_area.save()
    login(client, member)

    assert names(client.get("/members/", {"q": "haddad"})) == [by_name.full_name]
    assert names(client.get("/members/", {"q": "portland survivor"})) == [by_organization.full_name]
    assert names(client.get("/members/", {"q": "forensic"})) == [by_area.full_name]


def test_directory_search_and_filters_ignore_what_members_hide(client, member, member_factory, portland):
    private = member_factory(full_name="Pat Private", org=portland)
    private.areas_of_practice = "Forensic evaluations"
    private.show_organization = private.show_bio = False
    private.save()
    login(client, member)

    assert names(client.get("/members/", {"q": "portland"})) == []
    assert names(client.get("/members/", {"q": "forensic"})) == []
    assert names(client.get("/members/", {"state": "OR"})) == []
    assert names(client.get("/members/", {"q": "pat"})) == ["Pat Private"]
    # Organizations only hidden members work at are not even offered as a filter.
    assert "Portland Survivor Services" not in client.get("/members/").content.decode()


def test_directory_filters_by_organization_and_state(client, member, member_factory, portland, boston):
    member_factory(full_name="Olive Oregon", org=portland)
    member_factory(full_name="Mason Mass", org=boston)
    login(client, member)

    assert names(client.get("/members/", {"organization": portland.id})) == ["Olive Oregon"]
    assert names(client.get("/members/", {"state": "MA"})) == ["Mason Mass"]
    page = client.get("/members/").content.decode()
    assert '<option value="MA">MA</option>' in page and '<option value="OR">OR</option>' in page


def test_directory_shows_only_what_each_member_chose(client, member, member_factory, portland):
    shown = member_factory(full_name="Sky Shown", org=portland)
    shown.role_title, shown.areas_of_practice = "Case manager", "Housing"
    shown.save()
    hidden = member_factory(full_name="Hal Hidden", org=portland)
    hidden.role_title, hidden.areas_of_practice = "Psychiatrist", "Medication"
    hidden.show_role = hidden.show_organization = hidden.show_bio = False
    hidden.save()
    login(client, member)

    response = client.get("/members/")
    items = re.findall(r"<li>(.*?)</li>", response.content.decode(), flags=re.S)
    hidden_item = next(item for item in items if "Hal Hidden" in item)
    shown_item = next(item for item in items if "Sky Shown" in item)

    assert "Case manager" in shown_item and "Portland Survivor Services" in shown_item and "Housing" in shown_item
    for secret in ("Psychiatrist", "Portland", "Medication"):
        assert secret not in hidden_item


def test_directory_paginates_keeping_the_search(client, member, member_factory):
    for n in range(30):
        member_factory(full_name=f"Page Person {n:02d}")
    login(client, member)

    first = client.get("/members/", {"q": "page person"})
    second = client.get("/members/", {"q": "page person", "page": 2})

    assert len(names(first)) == 25
    assert 'href="?q=page+person&amp;page=2"' in first.content.decode()
    assert names(second) == [f"Page Person {n:02d}" for n in range(25, 30)]


def test_directory_is_closed_to_lapsed_member(client, member_factory):
    login(client, member_factory(status=Member.Status.LAPSED))

    assert client.get("/members/")["Location"] == "/application/"


@pytest.mark.parametrize("count", [1, 20])
def test_directory_query_count_is_constant(client, member, member_factory, organization_factory, count,
                                           django_assert_num_queries):
    for n in range(count):
        shown = member_factory(org=organization_factory(state=f"S{n}"))
        shown.show_email = True
        shown.save()
    login(client, member)

    # Session user, member, the states to filter by, the count, the page, the organizations to filter by.
    with django_assert_num_queries(6):
        response = client.get("/members/")

    assert len(names(response)) == count + 1
