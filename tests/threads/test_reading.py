from datetime import timedelta

import pytest
from django.utils import timezone

from community.models import Member
from tests.conftest import login
from threads.models import Bookmark, Post, Thread, ThreadRead
from threads.reading import mark_thread_read, my_threads, set_bookmark, with_unread_counts
from threads.services import create_reply


@pytest.fixture
def reader(member_factory):
    reader = member_factory(full_name="Rae Reader")
    Member.objects.filter(pk=reader.pk).update(joined_at=timezone.now() - timedelta(days=30))
    reader.refresh_from_db()
    return reader


@pytest.fixture
def reader_client(client, reader):
    return login(client, reader)


def at(post, when):
    Post.objects.filter(pk=post.pk).update(created_at=when)


def test_mark_thread_read_returns_previous_mark_and_never_moves_back(reader, thread):
    first, later = timezone.now() - timedelta(hours=2), timezone.now()

    assert mark_thread_read(reader, thread.id, first) is None
    assert mark_thread_read(reader, thread.id, later) == first
    assert mark_thread_read(reader, thread.id, first) == later
    assert ThreadRead.objects.get(member=reader, thread=thread).last_read_at == later


def test_mark_thread_read_is_one_query(reader, thread, django_assert_num_queries):
    with django_assert_num_queries(1):
        mark_thread_read(reader, thread.id, timezone.now())


def test_thread_page_marks_thread_read_up_to_newest_post(reader_client, reader, thread, member):
    reply = create_reply(author=member, parent=thread.posts.get(), body="Newest.")

    reader_client.get(thread.get_absolute_url())

    assert ThreadRead.objects.get(member=reader, thread=thread).last_read_at == reply.created_at


def test_thread_page_marks_first_post_new_since_last_visit(reader_client, reader, thread, member_factory):
    opening = thread.posts.get()
    seen = create_reply(author=member_factory(), parent=opening, body="Seen before.")
    reader_client.get(thread.get_absolute_url())
    mine = create_reply(author=reader, parent=opening, body="My own reply.")
    new = create_reply(author=member_factory(), parent=seen, body="Posted since.")
    newer = create_reply(author=member_factory(), parent=opening, body="Posted later still.")
    for minutes, post in enumerate([mine, new, newer], start=1):
        at(post, timezone.now() + timedelta(minutes=minutes))

    page = reader_client.get(thread.get_absolute_url()).content.decode()

    assert page.count('id="new"') == 1
    marker = page.index('id="new"')
    assert page.index(f'id="post-{seen.id}"') < marker < page.index(f'id="post-{new.id}"')
    assert 'href="#new"' in page
    assert "New since your last visit" not in reader_client.get(thread.get_absolute_url()).content.decode()


def test_thread_page_first_visit_marks_nothing(reader_client, thread, member):
    create_reply(author=member, parent=thread.posts.get(), body="Hello.")

    page = reader_client.get(thread.get_absolute_url()).content.decode()

    assert 'id="new"' not in page


def test_with_unread_counts_counts_new_posts_of_others_since_read_mark(reader, thread, member, member_factory):
    opening = thread.posts.get()
    mark_thread_read(reader, thread.id, timezone.now())
    create_reply(author=member, parent=opening, body="New one.")
    create_reply(author=member_factory(), parent=opening, body="New two.")
    create_reply(author=reader, parent=opening, body="Mine, not news.")
    hidden = create_reply(author=member, parent=opening, body="Hidden, not news.")
    Post.objects.filter(pk=hidden.pk).update(hidden_at=timezone.now())
    old = create_reply(author=member, parent=opening, body="Before my visit.")
    at(old, timezone.now() - timedelta(days=1))

    [counted] = with_unread_counts(Thread.objects.filter(pk=thread.pk), reader)

    assert counted.new_count == 2


def test_with_unread_counts_never_opened_thread_counts_posts_since_joining(reader, thread, member):
    old = thread.posts.get()
    at(old, reader.joined_at - timedelta(days=1))
    create_reply(author=member, parent=old, body="After I joined.")

    [counted] = with_unread_counts(Thread.objects.filter(pk=thread.pk), reader)

    assert counted.new_count == 1


@pytest.fixture
def threads_with_news(thread_factory, member, reader):
    def make(count):
        threads = [thread_factory(title=f"Thread {n}") for n in range(count)]
        for thread in threads:
            mark_thread_read(reader, thread.id, timezone.now())
            create_reply(author=member, parent=thread.posts.get(), body="News.")
        return threads

    return make


@pytest.mark.parametrize("count", [1, 10])
def test_home_shows_new_counts_in_constant_queries(reader_client, threads_with_news, django_assert_num_queries,
                                                   count):
    threads = threads_with_news(count)

    # user, member, categories, threads with their new counts, e-consultations
    with django_assert_num_queries(5):
        page = reader_client.get("/").content.decode()

    assert page.count(">1 new</a>") == count
    assert f'href="{threads[0].get_absolute_url()}#new"' in page


@pytest.mark.parametrize("count", [1, 10])
def test_category_page_shows_new_counts_in_constant_queries(reader_client, threads_with_news, category,
                                                            django_assert_num_queries, count):
    threads_with_news(count)

    # user, member, category, the number of threads (pagination), the page of threads with their new counts,
    # the member's choice for the category
    with django_assert_num_queries(6):
        page = reader_client.get(category.get_absolute_url()).content.decode()

    assert page.count(">1 new</a>") == count


@pytest.mark.parametrize("count", [1, 10])
def test_my_threads_lists_started_and_replied_threads_newest_first(reader_client, reader, thread_factory, member,
                                                                    django_assert_num_queries, count):
    replied = [thread_factory(title=f"Replied {n}") for n in range(count)]
    for thread in replied:
        create_reply(author=reader, parent=thread.posts.get(), body="My reply.")
    started = thread_factory(author=reader, title="Started by me")
    create_reply(author=member, parent=started.posts.get(), body="An answer.")
    untouched = thread_factory(title="Not mine")

    # user, member, count for the paginator, the page of threads with new counts
    with django_assert_num_queries(4):
        page = reader_client.get("/my/threads/").content.decode()

    assert untouched.title not in page
    assert page.index("Started by me") < page.index(f"Replied {count - 1}") <= page.index("Replied 0")
    assert page.count('<li data-thread-id=') == count + 1
    assert [thread.id for thread in my_threads(reader)][0] == started.id


def test_bookmark_post_then_listed_and_removed(reader_client, reader, thread):
    post = thread.posts.get()

    response = reader_client.post(f"/posts/{post.id}/bookmark/", {"bookmarked": "1"})
    page = reader_client.get("/bookmarks/").content.decode()

    assert response.status_code == 302
    assert Bookmark.objects.filter(member=reader, post=post).exists()
    assert thread.title in page and f'href="{post.get_absolute_url()}"' in page
    assert "Remove bookmark" in reader_client.get(thread.get_absolute_url()).content.decode()

    response = reader_client.post(f"/posts/{post.id}/bookmark/", {"bookmarked": "0", "from": "bookmarks"})

    assert response["Location"] == "/bookmarks/"
    assert not Bookmark.objects.exists()


@pytest.mark.parametrize("count", [1, 10])
def test_bookmarks_page_query_count_is_constant(reader_client, reader, thread_factory, django_assert_num_queries,
                                                count):
    for n in range(count):
        set_bookmark(reader, thread_factory(title=f"Kept {n}").posts.get(), True)

    # user, member, count for the paginator, bookmarks with posts, authors, threads and categories
    with django_assert_num_queries(4):
        page = reader_client.get("/bookmarks/").content.decode()

    assert page.count("Remove bookmark") == count


def test_bookmark_unreadable_post_is_404(reader_client):
    assert reader_client.post("/posts/999999/bookmark/", {"bookmarked": "1"}).status_code == 404
