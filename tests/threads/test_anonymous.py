"""Anonymous-to-members posting: members see "a member (clinical staff, Midwest)", never the author; moderators
see who wrote it."""

import re

import pytest
from django.test import Client

from community.models import Member, Organization
from threads.anonymity import anonymous_label, label_for, region_of
from threads.live import render_live_post
from threads.live_room import highlight_question
from threads.models import Category, LiveEvent, Post
from threads.posts import edit_post, quote_body
from threads.services import PostingNotAllowed, create_reply, create_thread
from threads.webinars import create_econsultation

from ..conftest import login


@pytest.fixture
def private_category(db):
    return Category.objects.create(name="Hard cases", allow_anonymous=True)


@pytest.fixture
def author(member_factory, organization_factory):
    """Someone whose name, handle and organization must never reach members through an anonymous post."""
    org = organization_factory(name="Lakeshore Refugee Clinic", state="IL")
    author = member_factory(full_name="Quinn Hidden", org=org)
    Member.objects.filter(pk=author.pk).update(staff_role=Member.StaffRole.CLINICAL)
    author.staff_role = Member.StaffRole.CLINICAL
    return author


@pytest.fixture
def anonymous_thread(author, private_category, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return create_thread(author=author, category=private_category, title="When a client discloses late",
                             body="What do you do when a client tells you months in?", anonymous=True)


LABEL = "a member (clinical staff, Midwest)"
CHECKED = re.compile(r'<input type="checkbox" name="anonymous"[^>]* checked>')
SECRETS = ("Quinn Hidden", "quinn.hidden", "Lakeshore Refugee Clinic")


def assert_no_author(text):
    for secret in SECRETS:
        assert secret not in text


@pytest.mark.parametrize(("role", "state", "label"), [
    ("clinical", "IL", "a member (clinical staff, Midwest)"),
    ("legal", "New York", "a member (legal staff, Northeast)"),
    ("case_management", "tx", "a member (case management, South)"),
    ("", "Washington", "a member (West)"),
    ("administration", "", "a member (program administration)"),
    ("", "Puerto Rico", "a member"),
    ("", None, "a member"),
])
def test_label_for_builds_the_label_from_role_and_region(role, state, label):
    assert label_for(role, state) == label


def test_region_of_reads_codes_and_names():
    assert (region_of("D.C."), region_of(" north  dakota "), region_of("Ontario")) == ("South", "Midwest", "")


def test_anonymous_label_without_organization(member):
    member.organization = None
    assert anonymous_label(member) == "a member"


def test_create_thread_refuses_anonymity_where_the_category_does_not_allow_it(member, category):
    with pytest.raises(PostingNotAllowed, match="cannot be anonymous"):
        create_thread(author=member, category=category, title="T", body="B", anonymous=True)
    assert not Post.objects.exists()


def test_create_reply_refuses_anonymity_where_the_category_does_not_allow_it(member, opening_post):
    with pytest.raises(PostingNotAllowed, match="cannot be anonymous"):
        create_reply(author=member, parent=opening_post, body="B", anonymous=True)


def test_thread_page_shows_members_the_label_only(anonymous_thread, member_client):
    page = member_client.get(anonymous_thread.get_absolute_url()).content.decode()

    post_id = anonymous_thread.posts.get().id
    assert f'<span class="author anonymous" id="post-{post_id}-author">A member (clinical staff, Midwest)<' in page
    assert_no_author(page)
    assert f"/members/{anonymous_thread.author_id}/" not in page and "posted anonymously by" not in page


def test_thread_page_shows_moderators_who_wrote_it(anonymous_thread, moderator_client):
    page = moderator_client.get(anonymous_thread.get_absolute_url()).content.decode()

    assert "posted anonymously by" in page and "Quinn Hidden" in page


def test_thread_page_tells_the_author_it_is_anonymous(anonymous_thread, author, client):
    page = login(client, author).get(anonymous_thread.get_absolute_url()).content.decode()

    assert "you posted this anonymously" in page


@pytest.mark.parametrize("path", ["/", "/c/{slug}/"])
def test_thread_lists_show_the_label_as_starter(anonymous_thread, member_client, path):
    page = member_client.get(path.format(slug=anonymous_thread.category.slug)).content.decode()

    assert f"started by {LABEL}" in page
    assert_no_author(page)


def test_my_threads_of_a_member_who_replied_show_the_label(anonymous_thread, member, member_client, reply_factory):
    reply_factory(author=member, parent=anonymous_thread.posts.get())

    page = member_client.get("/my/threads/").content.decode()

    assert f"started by {LABEL}" in page
    assert_no_author(page)


def test_live_frames_carry_no_author(anonymous_thread, author, member, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        reply = create_reply(author=author, parent=anonymous_thread.posts.get(), body="More.", anonymous=True)

    html = render_live_post(Post.objects.select_related("author__organization", "thread").get(pk=reply.pk))

    assert "A member (clinical staff, Midwest)" in html
    assert_no_author(html)


def test_flat_view_reply_names_the_anonymous_parent_by_label(anonymous_thread, author, member, member_client,
                                                            reply_factory):
    first = reply_factory(author=member, parent=anonymous_thread.posts.get(), body="Asking back.")
    with_label = create_reply(author=author, parent=first, body="Answer.", anonymous=True)
    reply_factory(author=member, parent=with_label, body="Thanks.")

    page = member_client.get(f"{anonymous_thread.get_absolute_url()}?view=flat").content.decode()

    assert f"in reply to {LABEL}" in page
    assert_no_author(page)


def test_quote_of_an_anonymous_post_says_a_member_wrote(anonymous_thread, member_client):
    post = anonymous_thread.posts.get()

    assert quote_body(post).startswith("A member wrote:\n\n> What do you do")
    page = member_client.get(f"/posts/{post.id}/reply/?quote=1").content.decode()
    assert "A member wrote:" in page and "Reply to a member (clinical staff, Midwest)" in page
    assert_no_author(page)


def test_history_of_an_anonymous_post_edited_by_its_author_names_nobody(anonymous_thread, author, member_client):
    post = anonymous_thread.posts.get()
    edit_post(editor=author, post_id=post.id, body="Edited.")

    page = member_client.get(f"/posts/{post.id}/history/").content.decode()

    assert f"by {LABEL}" in page
    assert_no_author(page)


def test_search_shows_the_label_and_never_finds_anonymous_posts_by_author(anonymous_thread, author, member_client,
                                                                         moderator):
    page = member_client.get("/search/", {"q": "discloses"}).content.decode()
    assert f"by {LABEL}" in page
    assert_no_author(page.split("search-results")[1])

    by_author = member_client.get("/search/", {"q": "discloses", "author": author.id}).content.decode()
    assert "0 results" in by_author

    moderator_client = login(Client(), moderator)
    assert "1 result" in moderator_client.get("/search/", {"q": "discloses", "author": author.id}).content.decode()


def test_bookmarks_page_names_the_anonymous_author_by_label(anonymous_thread, member, member_client):
    member_client.post(f"/posts/{anonymous_thread.posts.get().id}/bookmark/", {"bookmarked": "1"})

    page = member_client.get("/bookmarks/").content.decode()

    assert "A member (clinical staff, Midwest) ·" in page
    assert_no_author(page)


def test_profile_page_lists_no_anonymous_post(anonymous_thread, author, member_client):
    page = member_client.get(f"/members/{author.id}/").content.decode()

    assert "Quinn Hidden" in page and anonymous_thread.title not in page


def test_highlighted_anonymous_question_is_announced_by_label(author, moderator, private_category):
    from datetime import timedelta

    from django.utils import timezone

    from threads.models import Webinar

    webinar = Webinar.objects.create(title="Late disclosure", starts_at=timezone.now() - timedelta(hours=1),
                                     time_zone="America/Chicago")
    econsultation = create_econsultation(webinar, category=private_category, moderator=moderator)
    opening = econsultation.thread.posts.get()
    question = create_reply(author=author, parent=opening, body="Asked anonymously.", is_question=True,
                            anonymous=True)

    highlight_question(host=moderator, post_id=question.id)

    event = LiveEvent.objects.get(kind="question.highlighted")
    assert event.payload["author"] == LABEL


def test_reply_form_offers_anonymity_only_where_allowed(member_client, opening_post, anonymous_thread):
    assert 'name="anonymous"' not in member_client.get(f"/posts/{opening_post.id}/reply/").content.decode()
    page = member_client.get(f"/posts/{anonymous_thread.posts.get().id}/reply/").content.decode()
    assert 'type="checkbox" name="anonymous"' in page and not CHECKED.search(page)


def test_reply_form_keeps_the_author_anonymous_by_default(anonymous_thread, author, client):
    login(client, author)
    post = anonymous_thread.posts.get()
    assert CHECKED.search(client.get(f"/posts/{post.id}/reply/").content.decode())

    client.post(f"/posts/{post.id}/reply/", {"body": "Following up.", "anonymous": "on"})

    assert Post.objects.get(parent=post).anonymous


def test_new_thread_form_refuses_anonymity_in_a_category_that_does_not_allow_it(member_client, category,
                                                                                 private_category):
    page = member_client.get("/threads/new/").content.decode()
    assert "Only in Hard cases." in page

    response = member_client.post("/threads/new/", {"category": category.id, "title": "T", "body": "B",
                                                    "anonymous": "on"})

    assert response.status_code == 200 and "cannot be anonymous" in response.content.decode()
    assert not Post.objects.exists()


def test_edit_profile_sets_the_kind_of_work_and_reading_choice(member_client, member):
    from tests.community.test_profile import profile_data

    response = member_client.post("/profile/", profile_data(member, staff_role="legal", expand_content_notes="on"))

    assert response.status_code == 302
    member.refresh_from_db()
    assert (member.staff_role, member.expand_content_notes) == ("legal", True)
    page = member_client.get("/profile/").content.decode()
    assert "Your kind of work" in page and "Always show posts behind a content note" in page


def test_organization_state_change_changes_the_label(anonymous_thread, author, member_client):
    Organization.objects.filter(pk=author.organization_id).update(state="Oregon")

    page = member_client.get(anonymous_thread.get_absolute_url()).content.decode()

    assert "A member (clinical staff, West)" in page
