import re
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from threads.library import LibraryFilters, discussed_in, library_resources
from threads.models import Attachment, Post, Resource, Webinar
from threads.services import create_reply, create_thread


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _titles(user, **filters) -> list[str]:
    return [resource.title for resource in library_resources(user, LibraryFilters(**filters))]


def _listed(response) -> list[str]:
    return [resource.title for resource in response.context["page"]]


def _cite(resource) -> str:
    return f"We use [it]({resource.get_absolute_url()})."


# --- The library list ------------------------------------------------------------------------------------------

def test_library_lists_approved_resources_newest_first(member_client, resource_factory):
    now = timezone.now()
    resource_factory(title="Older guide", approved_at=now - timedelta(days=3))
    resource_factory(title="Newer guide", approved_at=now - timedelta(days=1))
    for status in (Resource.Status.SUBMITTED, Resource.Status.CHANGES_REQUESTED, Resource.Status.REJECTED):
        resource_factory(title=f"Not approved: {status}", status=status)

    response = member_client.get("/resources/")

    assert _listed(response) == ["Newer guide", "Older guide"]
    assert "Not approved" not in response.content.decode()


def test_library_paginates_by_twenty(member_client, resource_factory):
    for n in range(23):
        resource_factory(title=f"Guide {n}")

    first = member_client.get("/resources/")
    second = member_client.get("/resources/", {"page": 2})

    assert len(first.context["page"].object_list) == 20
    assert len(second.context["page"].object_list) == 3
    assert "page=2" in first.content.decode()


def test_library_browses_by_topic_with_the_complex_care_domains_first(member_client, resource_factory):
    resource_factory(title="Telling the story", topics=["trauma-story"])
    resource_factory(title="Running a group", topics=["group-work", "psychological"])

    response = member_client.get("/resources/", {"topic": "group-work"})

    assert _listed(response) == ["Running a group"]
    page = response.content.decode()
    browse = page.split('aria-label="Browse the library"')[1].split("<h2>Audience</h2>")[0]
    names = re.findall(r'href="\?[^"]*topic=([\w-]+)[^"]*"', browse)
    assert names[:5] == ["trauma-story", "biomedical", "psychological", "social", "spiritual"]
    assert names.index("group-work") > 4
    assert 'topic=group-work" aria-current="true"' in page
    assert "Trauma story</a> <span class=\"muted\">(1)</span>" in page
    assert 'id="id_topic"' in page and '<optgroup label="Complex Care domains">' in page


def test_library_browses_by_audience_and_keeps_the_topic(member_client, resource_factory):
    resource_factory(title="For new staff", audiences=[Resource.Audience.NEW_EMPLOYEE], topics=["social"])
    resource_factory(title="For lawyers", audiences=[Resource.Audience.LEGAL], topics=["social"])
    resource_factory(title="For new staff, other topic", audiences=[Resource.Audience.NEW_EMPLOYEE])

    response = member_client.get("/resources/", {"topic": "social", "audience": "new_employee"})

    assert _listed(response) == ["For new staff"]
    page = response.content.decode()
    # Choosing another audience keeps the topic chosen.
    assert 'href="?topic=social&amp;audience=legal"' in page
    assert "New employees</a> <span class=\"muted\">(2)</span>" in page


def test_library_filters_by_language(member, member_client, resource_factory):
    resource_factory(title="Guía de intérpretes", language="Spanish")
    resource_factory(title="Interpreter guide")

    response = member_client.get("/resources/", {"language": "Spanish"})

    assert _listed(response) == ["Guía de intérpretes"]
    assert '<option value="Spanish" selected>Spanish</option>' in response.content.decode()
    assert _titles(member.user, language="english") == ["Interpreter guide"]


def test_library_language_filter_offers_only_languages_in_the_library(member_client, resource_factory):
    resource_factory(title="Guide", language="Arabic")
    resource_factory(title="Pending", language="Tigrinya", status=Resource.Status.SUBMITTED)

    response = member_client.get("/resources/", {"language": "Tigrinya"})

    assert response.context["form"].errors["language"]
    assert _listed(response) == []


def test_library_search_ranks_title_matches_first_and_understands_other_forms(member, resource_factory):
    resource_factory(title="Sleep hygiene handout", description="Interpreters say clients cannot sleep.")
    resource_factory(title="Working with interpreters", description="Before the session.")
    resource_factory(title="Gardening", description="Growing food together.")

    assert _titles(member.user, text="interpreter") == ["Working with interpreters", "Sleep hygiene handout"]
    assert _titles(member.user, text='"growing food"') == ["Gardening"]
    assert _titles(member.user, text="interpreter -sleep") == ["Working with interpreters"]


def test_library_search_leaves_out_resources_not_approved(member, resource_factory):
    resource_factory(title="Interpreters", status=Resource.Status.SUBMITTED)

    assert _titles(member.user, text="interpreters") == []


def test_library_page_highlights_matches_and_escapes_the_rest(member_client, resource_factory):
    resource_factory(title="Interpreters <em>again</em>",
                     description="Our **interpreter** said <script>alert(1)</script> something & more.")

    response = member_client.get("/resources/", {"q": "interpreter"})

    [result] = response.context["page"]
    assert "<mark>interpreter</mark>" in result.snippet_html
    assert "**" not in result.snippet_html and "<script>" not in result.snippet_html
    assert result.title_html.startswith("<mark>Interpreters</mark>")
    assert "<em>" not in result.title_html
    page = response.content.decode()
    assert "<mark>interpreter</mark>" in page and "<script>alert" not in page


@pytest.mark.parametrize("path", ["/resources/", "/resources/{id}/"])
def test_library_pages_refuse_non_members(client, pending_member, resource_factory, path):
    resource = resource_factory()
    url = path.format(id=resource.pk)

    anonymous = client.get(url)
    client.force_login(pending_member.user)
    pending = client.get(url)

    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous.url
    assert pending.status_code == 302 and "/application/" in pending.url


def test_library_finds_nothing_for_non_member(pending_member, resource_factory):
    resource_factory(title="Interpreters")

    assert _titles(pending_member.user) == []


def test_main_nav_links_the_library(member_client):
    assert '<a href="/resources/">Resources</a>' in member_client.get("/").content.decode()


def test_posting_forms_say_how_to_cite_a_resource(member_client, opening_post):
    assert "Cite a library resource by pasting its link" in member_client.get(
        f"/posts/{opening_post.pk}/reply/").content.decode()


# --- The search page lists matching resources ------------------------------------------------------------------

def test_search_page_lists_matching_resources_above_posts(member_client, thread_factory, resource_factory):
    thread_factory(title="Interpreters by video", body="Anyone?")
    resource_factory(title="Working with interpreters")
    resource_factory(title="Sleep hygiene", description="Routines for rest.")

    response = member_client.get("/search/", {"q": "interpreters"})

    page = response.content.decode()
    assert [resource.title for resource in response.context["resources"]] == ["Working with interpreters"]
    assert page.index("In the library") < page.index("in discussions")
    assert "<mark>interpreters</mark>" in page.split("In the library")[1]
    assert 'href="/resources/?q=interpreters"' in page


def test_search_page_shows_five_resources_and_links_to_more(member_client, resource_factory):
    for n in range(6):
        resource_factory(title=f"Interpreter guide {n}")

    response = member_client.get("/search/", {"q": "interpreter"})

    assert len(response.context["resources"]) == 5
    assert "More matching resources in the library" in response.content.decode()


# --- The resource page -----------------------------------------------------------------------------------------

def _file(resource, name="handout.pdf", content=b"%PDF-1.4 handout"):
    attachment = Attachment(resource=resource, original_name=name, content_type="application/pdf",
                            size=len(content))
    attachment.file.save("upload", ContentFile(content))
    return attachment


def test_resource_page_shows_everything_about_the_resource(member_client, member, resource_factory, settings):
    settings.SITE_URL = "https://talk.example.org"
    resource = resource_factory(
        title="Interpreter toolkit", description="Before **every** session.", url="https://example.org/toolkit",
        topics=["social", "interpreters"], audiences=[Resource.Audience.CLINICIAN, Resource.Audience.LEGAL],
        language="Spanish", webinar=Webinar.objects.create(title="Complex Care in practice", starts_at=timezone.now()),
    )
    handout = _file(resource)

    page = member_client.get(f"/resources/{resource.pk}/").content.decode()

    assert "Before <strong>every</strong> session." in page
    assert 'href="https://example.org/toolkit"' in page
    assert f'href="/attachments/{handout.pk}/handout.pdf"' in page
    assert 'href="/resources/?topic=social">Social</a>, <a href="/resources/?topic=interpreters">' in page
    assert ">Clinicians</a>, <a href=\"/resources/?audience=legal\">Legal staff</a>" in page
    assert ">Spanish</a>" in page
    assert f'href="/events/{resource.webinar_id}/">Complex Care in practice</a>' in page
    assert f"Shared by {member.full_name}, {member.organization.name}" in page
    assert f'value="https://talk.example.org/resources/{resource.pk}/" readonly' in page
    assert "Copy link" in page
    assert "may be broken" not in page and "not in the library yet" not in page


def test_resource_page_names_a_former_member(member_client, resource_factory):
    resource = resource_factory(submitted_by=None)

    assert "Shared by a former member" in member_client.get(f"/resources/{resource.pk}/").content.decode()


def test_resource_page_says_calmly_that_a_link_may_be_broken(member_client, resource_factory):
    resource = resource_factory(url="https://example.org/gone", link_status=Resource.LinkStatus.BROKEN)

    page = member_client.get(f"/resources/{resource.pk}/").content.decode()

    assert "This link may be broken; moderators have been told." in page
    assert 'href="https://example.org/gone"' in page


@pytest.mark.parametrize("status", [Resource.Status.SUBMITTED, Resource.Status.CHANGES_REQUESTED,
                                    Resource.Status.REJECTED])
def test_resource_not_approved_is_seen_only_by_its_submitter_and_moderators(
    client, member, member_factory, moderator, resource_factory, status
):
    resource = resource_factory(status=status, review_note="Please add the year.")
    url = f"/resources/{resource.pk}/"

    client.force_login(member_factory().user)
    other = client.get(url)
    client.force_login(member.user)
    submitter = client.get(url).content.decode()
    client.force_login(moderator.user)
    as_moderator = client.get(url).content.decode()

    assert other.status_code == 404
    notice = "This resource is not in the library yet: only you and the moderators"
    assert f"<strong>{Resource.Status(status).label}.</strong> {notice}" in submitter
    assert "Please add the year." in submitter
    assert "only the member who shared it and the moderators" in as_moderator
    assert f'href="/moderation/resources/{resource.pk}/"' in as_moderator


def test_resource_page_links_its_webinar_and_thread_only_if_readable(
    client, member, held_member, thread, resource_factory, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        held_thread = create_thread(author=held_member, category=thread.category, title="Held thread", body="Wait.")
    shown = resource_factory(title="Shown", thread=thread)
    hidden = resource_factory(title="Hidden", thread=held_thread)

    client.force_login(member.user)
    with_thread = client.get(f"/resources/{shown.pk}/").content.decode()
    with_held = client.get(f"/resources/{hidden.pk}/").content.decode()
    client.force_login(held_member.user)
    as_author = client.get(f"/resources/{hidden.pk}/").content.decode()

    assert f'href="/threads/{thread.pk}/">{thread.title}</a>' in with_thread
    assert "Held thread" not in with_held
    assert "Held thread" in as_author


def test_resource_page_lists_the_threads_that_cite_it(member_client, member, member_factory, thread_factory,
                                                     reply_factory, resource_factory):
    resource = resource_factory()
    once = thread_factory(title="Cited once", body=_cite(resource))
    twice = thread_factory(title="Cited twice", body="Opening.")
    opening = twice.posts.get()
    reply_factory(author=member_factory(), parent=opening, body=_cite(resource))
    reply_factory(author=member_factory(), parent=opening, body=_cite(resource))
    thread_factory(title="Not citing", body="Nothing.")

    response = member_client.get(f"/resources/{resource.pk}/")

    assert [thread.title for thread in response.context["discussions"]] == ["Cited twice", "Cited once"]
    page = response.content.decode()
    assert f'href="/threads/{once.pk}/">Cited once</a>' in page
    assert "cited in 2 posts" in page
    assert "Not citing" not in page


def test_discussed_in_leaves_out_held_deleted_and_hidden_posts(
    member, moderator, held_member, thread_factory, reply_factory, resource_factory,
    django_capture_on_commit_callbacks
):
    resource = resource_factory()
    visible = thread_factory(title="Visible", body=_cite(resource))
    deleted = thread_factory(title="Deleted post", body="Opening.")
    Post.objects.filter(pk=reply_factory(author=member, parent=deleted.posts.get(), body=_cite(resource)).pk).update(
        deleted_at=timezone.now())
    hidden = thread_factory(title="Hidden post", body="Opening.")
    Post.objects.filter(pk=reply_factory(author=member, parent=hidden.posts.get(), body=_cite(resource)).pk).update(
        hidden_at=timezone.now(), hidden_reason="Identifying details")
    held_reply_in = thread_factory(title="Held reply", body="Opening.")
    with django_capture_on_commit_callbacks(execute=True):
        held_thread = create_thread(author=held_member, category=visible.category, title="Held thread",
                                    body=_cite(resource))
        held_reply = create_reply(author=held_member, parent=held_reply_in.posts.get(), body=_cite(resource))

    assert held_thread.held_at is not None and held_reply.held_at is not None
    for reader in (member, moderator, held_member):
        assert [thread.title for thread in discussed_in(reader.user, resource)] == ["Visible"]


def test_discussed_in_is_empty_for_non_members(pending_member, thread_factory, resource_factory):
    resource = resource_factory()
    thread_factory(body=_cite(resource))

    assert list(discussed_in(pending_member.user, resource)) == []


# --- A fixed number of queries, whatever the number of resources and citations ---------------------------------

def _library_of(resource_factory, count):
    for n in range(count):
        resource_factory(title=f"Interpreter guide {n}", topics=["social", "interpreters"],
                         audiences=[Resource.Audience.CLINICIAN])


# user and member (middleware); topics with their counts; languages; audience counts; the page's count, its
# resources and their topics
LIBRARY_QUERIES = 8


@pytest.mark.parametrize("count", [1, 20])
def test_library_query_count_is_constant(member_client, resource_factory, django_assert_num_queries, count):
    _library_of(resource_factory, count)

    with django_assert_num_queries(LIBRARY_QUERIES):
        response = member_client.get("/resources/")

    assert len(response.context["page"].object_list) == count


@pytest.mark.parametrize("count", [1, 20])
def test_filtered_library_query_count_is_constant(member_client, resource_factory, django_assert_num_queries,
                                                  count):
    _library_of(resource_factory, count)

    with django_assert_num_queries(LIBRARY_QUERIES):
        response = member_client.get("/resources/", {"topic": "social", "audience": "clinician",
                                                     "language": "English", "q": "interpreter"})

    assert len(response.context["page"].object_list) == count


# user and member (middleware); the resource with its submitter, webinar and thread; its topics; its files; the
# threads citing it
RESOURCE_QUERIES = 6


@pytest.mark.parametrize("count", [1, 20])
def test_resource_page_query_count_is_constant(member_client, member_factory, thread, thread_factory,
                                               resource_factory, django_assert_num_queries, count):
    resource = resource_factory(topics=["social", "legal"], thread=thread)
    for n in range(count):
        _file(resource, name=f"handout-{n}.pdf")
        thread_factory(author=member_factory(), title=f"Citing {n}", body=_cite(resource))

    with django_assert_num_queries(RESOURCE_QUERIES):
        response = member_client.get(f"/resources/{resource.pk}/")

    assert len(response.context["discussions"]) == count
