import pytest

from community.models import Member
from threads.models import Category, Post, Thread
from threads.services import create_reply


@pytest.fixture
def announcements(db):
    return Category.objects.create(name="Announcements", moderators_only=True)


def test_home_lists_recent_threads_and_categories(member_client, thread, announcements):
    page = member_client.get("/").content.decode()

    assert f'href="{thread.get_absolute_url()}"' in page
    assert thread.title in page
    assert f'href="{thread.category.get_absolute_url()}"' in page
    assert f'href="{announcements.get_absolute_url()}"' in page


def test_category_lists_its_threads_only(member_client, thread, thread_factory, moderator, announcements):
    other = thread_factory(author=moderator, cat=announcements, title="Webinar next week")

    page = member_client.get(thread.category.get_absolute_url()).content.decode()

    assert thread.title in page
    assert other.title not in page
    assert "/threads/new/?category=" in page


def test_category_moderators_only_offers_no_new_thread_to_member(member_client, announcements):
    page = member_client.get(announcements.get_absolute_url()).content.decode()

    assert "/threads/new/?category=" not in page
    assert "Only moderators start threads here" in page


def test_unknown_category_and_thread_are_404(member_client, db):
    assert member_client.get("/c/no-such-category/").status_code == 404
    assert member_client.get("/threads/999999/").status_code == 404
    assert member_client.post("/posts/999999/reply/", {"body": "Hello"}).status_code == 404


def test_new_thread_creates_thread_and_redirects(member_client, member, category):
    response = member_client.post("/threads/new/", {
        "category": category.pk, "title": "Sleep hygiene handouts", "body": "Which handouts work for you?",
    })

    thread = Thread.objects.get(title="Sleep hygiene handouts")
    assert response.status_code == 302
    assert response["Location"] == thread.get_absolute_url()
    assert thread.author == member
    assert thread.posts.get().body == "Which handouts work for you?"
    assert "Which handouts work for you?" in member_client.get(response["Location"]).content.decode()


def test_new_thread_in_moderators_only_category_is_refused_to_member(member_client, announcements):
    response = member_client.post("/threads/new/", {
        "category": announcements.pk, "title": "Not mine to announce", "body": "Hello",
    })

    assert response.status_code == 200
    assert response.context["form"].errors["category"]
    assert not Thread.objects.filter(title="Not mine to announce").exists()


def test_new_thread_missing_title_keeps_body(member_client, category):
    response = member_client.post("/threads/new/", {"category": category.pk, "title": "", "body": "Kept text"})

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert "Kept text" in response.content.decode()
    assert not Thread.objects.exists()


def test_reply_creates_post_under_chosen_parent_and_redirects_to_it(
    member_client, member, thread, member_factory, reply_factory
):
    first = thread.posts.get()
    other = reply_factory(author=member_factory(), parent=first, body="Start with safety.")

    response = member_client.post(f"/posts/{other.id}/reply/", {"body": "Agreed, **safety first**."})

    post = Post.objects.get(body="Agreed, **safety first**.")
    assert post.parent == other
    assert post.thread == thread
    assert post.author == member
    assert post.html == "<p>Agreed, <strong>safety first</strong>.</p>\n"
    assert response.status_code == 302
    assert response["Location"] == f"{thread.get_absolute_url()}#post-{post.id}"
    thread.refresh_from_db()
    assert thread.post_count == 3
    page = member_client.get(thread.get_absolute_url()).content.decode()
    assert f'id="post-{post.id}"' in page


def test_reply_page_shows_the_parent(member_client, thread):
    parent = thread.posts.get()

    page = member_client.get(f"/posts/{parent.id}/reply/").content.decode()

    assert parent.author.full_name in page
    assert parent.html in page


def test_reply_empty_rerenders_with_error(member_client, thread):
    parent = thread.posts.get()

    response = member_client.post(f"/posts/{parent.id}/reply/", {"body": "  "})

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert thread.posts.count() == 1


def test_reply_to_locked_thread_is_refused_with_message(member_client, thread):
    Thread.objects.filter(pk=thread.pk).update(locked=True)
    parent = thread.posts.get()

    response = member_client.post(f"/posts/{parent.id}/reply/", {"body": "One more thing"})

    assert response.status_code == 200
    page = response.content.decode()
    assert "This thread is closed to new replies." in page
    assert "One more thing" in page
    assert thread.posts.count() == 1


def test_thread_page_locked_has_no_reply_form(member_client, thread):
    Thread.objects.filter(pk=thread.pk).update(locked=True)

    page = member_client.get(thread.get_absolute_url()).content.decode()

    assert "This thread is closed to new replies." in page
    assert 'id="reply-heading"' not in page


def test_reply_in_moderators_only_category_open_to_member(member_client, member, moderator, announcements,
                                                          thread_factory):
    thread = thread_factory(author=moderator, cat=announcements, title="Webinar next week")

    page = member_client.get(thread.get_absolute_url()).content.decode()
    response = member_client.post(f"/posts/{thread.posts.get().id}/reply/", {"body": "I will be there."})

    assert 'id="reply-heading"' in page
    assert response.status_code == 302
    assert thread.posts.filter(author=member, body="I will be there.").exists()


def test_thread_page_shows_replies_after_their_parent(member_client, thread, member_factory):
    first = thread.posts.get()
    author = member_factory()
    answer = create_reply(author=author, parent=first, body="First answer.")
    second_answer = create_reply(author=author, parent=first, body="Second answer.")
    reply_to_answer = create_reply(author=author, parent=answer, body="Reply to the first answer.")

    page = member_client.get(thread.get_absolute_url()).content.decode()

    positions = [page.index(f'id="post-{post.id}"') for post in (first, answer, reply_to_answer, second_answer)]
    assert positions == sorted(positions)
    # Replies to the opening post are the top-level subtrees; a reply to one of them is nested inside it.
    assert f'data-depth="1"><article class="post" id="post-{reply_to_answer.id}"' in page


def _thread_with_posts(thread, member_factory, count):
    """A tree of `count` posts by several authors, one without an organization."""
    authors = [member_factory() for _ in range(3)]
    Member.objects.filter(pk=authors[1].pk).update(organization=None)
    posts = [thread.posts.get()]
    for n in range(count - 1):
        parent = posts[n // 2]
        posts.append(create_reply(author=authors[n % 3], parent=parent, body=f"Reply number {n}"))
    return posts


@pytest.mark.parametrize("count", [5, 50])
def test_thread_page_query_count_is_constant(
    member_client, thread, member_factory, django_assert_num_queries, count
):
    posts = _thread_with_posts(thread, member_factory, count)

    # user, member, thread with category, author and e-consultation; the page: outline of the thread, the page's
    # posts with authors and organizations, their attachments (threads.posts.thread_page); reading: read mark,
    # reactions, bookmarks, subscriptions (threads.reading.open_thread). The session is in the cache.
    with django_assert_num_queries(11):
        response = member_client.get(thread.get_absolute_url())

    assert response.content.decode().count('<article class="post') == len(posts) == count


@pytest.mark.parametrize("count", [1, 40])
def test_category_page_is_paginated_in_constant_queries(member_client, category, thread_factory, count,
                                                        django_assert_num_queries):
    for n in range(count):
        thread_factory(title=f"Thread {n}")
    member_client.get(category.get_absolute_url())

    # user, member, category, watch/mute choice, the number of threads, the page of threads with unread counts
    with django_assert_num_queries(6):
        page = member_client.get(category.get_absolute_url()).content.decode()

    assert page.count("data-thread-id=") == min(count, 30)
    assert ("Next page" in page) == (count > 30)

