import re

import pytest

from threads import posts as thread_posts
from threads.models import Post
from threads.services import new_message_id


def _grow_tree(thread, authors, count):
    """`count` posts in all: the opening post and a binary tree of replies under it, one bulk insert per level."""
    level = [thread.posts.get()]
    total = 1
    n = 0
    while total < count:
        children = []
        for parent in level:
            for _ in range(2):
                if total + len(children) >= count:
                    break
                children.append(Post(
                    thread=thread, parent=parent, author=authors[n % len(authors)], body=f"Reply {n}",
                    html=f"<p>Reply {n}</p>", message_id=new_message_id(),
                ))
                n += 1
        level = Post.objects.bulk_create(children)
        total += len(level)
    return list(thread.posts.defer("search_vector").order_by("id"))


def _post_ids(page_html):
    return [int(post_id) for post_id in re.findall(r'<article class="post[^"]*" id="post-(\d+)"', page_html)]


@pytest.mark.parametrize("view", ["nested", "flat"])
@pytest.mark.parametrize("count", [5, 500])
def test_thread_page_renders_every_post_in_constant_queries(
    member_client, thread, member_factory, member, django_assert_num_queries, monkeypatch, view, count
):
    authors = [member, member_factory(), member_factory(org=None)]
    posts = _grow_tree(thread, authors, count)
    monkeypatch.setattr(thread_posts, "POSTS_PER_PAGE", 1000)
    member_client.get(f"{thread.get_absolute_url()}?view={view}")  # the choice is saved once

    # user, member, thread; outline, the page's posts with authors, their attachments (threads.posts.thread_page);
    # the rest is threads.reading.open_thread (read mark, reactions, bookmarks, subscriptions)
    with django_assert_num_queries(11):
        response = member_client.get(thread.get_absolute_url())

    assert sorted(_post_ids(response.content.decode())) == [post.id for post in posts]


def test_thread_page_nested_shows_replies_inside_their_parent(member_client, thread, member, reply_factory):
    opening = thread.posts.get()
    answer = reply_factory(author=member, parent=opening, body="An answer.")
    follow_up = reply_factory(author=member, parent=answer, body="A follow-up.")
    other = reply_factory(author=member, parent=opening, body="Another answer.")

    page = member_client.get(f"{thread.get_absolute_url()}?view=nested").content.decode()

    subtree = page[page.index(f'id="post-{answer.id}"'):page.index(f'id="post-{other.id}"')]
    assert '<details open class="subtree"><summary>Replies to Dana Member</summary><ol class="replies">' in subtree
    assert f'id="post-{follow_up.id}"' in subtree
    # Every list opened is closed: the markup is a well-formed tree.
    assert page.count("<ol") == page.count("</ol>")
    assert page.count("<details open class=\"subtree\">") == 1


def test_thread_page_flat_lists_by_date_with_in_reply_to(member_client, thread, member, member_factory,
                                                        reply_factory):
    opening = thread.posts.get()
    other = member_factory(full_name="Sam Other")
    answer = reply_factory(author=other, parent=opening, body="An answer.")
    second = reply_factory(author=member, parent=opening, body="Second answer.")
    late_reply = reply_factory(author=member, parent=answer, body="Late reply to the first answer.")

    page = member_client.get(f"{thread.get_absolute_url()}?view=flat").content.decode()

    assert _post_ids(page) == [opening.id, answer.id, second.id, late_reply.id]
    assert f'<a class="meta" href="/posts/{answer.id}/">in reply to Sam Other</a>' in page
    assert 'class="subtree"' not in page


def test_chosen_view_is_remembered_for_the_session(member_client, thread):
    assert 'data-view="nested"' in member_client.get(thread.get_absolute_url()).content.decode()

    member_client.get(f"{thread.get_absolute_url()}?view=flat")

    assert 'data-view="flat"' in member_client.get(thread.get_absolute_url()).content.decode()
    member_client.get(f"{thread.get_absolute_url()}?view=nested")
    assert 'data-view="nested"' in member_client.get(thread.get_absolute_url()).content.decode()


@pytest.mark.parametrize("view", ["nested", "flat"])
def test_permalink_lands_on_the_page_that_shows_the_post(
    member_client, thread, member, reply_factory, monkeypatch, view
):
    monkeypatch.setattr(thread_posts, "POSTS_PER_PAGE", 3)
    opening = thread.posts.get()
    answers = [reply_factory(author=member, parent=opening, body=f"Answer {n}") for n in range(4)]
    deep = reply_factory(author=member, parent=answers[0], body="Deep in the first subtree")
    member_client.get(f"{thread.get_absolute_url()}?view={view}")

    for post in [opening, *answers, deep]:
        response = member_client.get(f"/posts/{post.id}/")

        assert response.status_code == 302
        location = response["Location"]
        assert location.endswith(f"#post-{post.id}")
        page = member_client.get(location.split("#")[0]).content.decode()
        assert post.id in _post_ids(page), (view, post.body, location)
    # Nested pages keep a subtree whole: the first answer and the reply to it share a page.
    if view == "nested":
        assert member_client.get(f"/posts/{deep.id}/")["Location"].split("#")[0] == \
            member_client.get(f"/posts/{answers[0].id}/")["Location"].split("#")[0]


def test_thread_page_paginates_with_links(member_client, thread, member, reply_factory, monkeypatch):
    monkeypatch.setattr(thread_posts, "POSTS_PER_PAGE", 2)
    opening = thread.posts.get()
    replies = [reply_factory(author=member, parent=opening, body=f"Answer {n}") for n in range(4)]

    first = member_client.get(f"{thread.get_absolute_url()}?view=flat").content.decode()
    last = member_client.get(f"{thread.get_absolute_url()}?page=3").content.decode()

    assert _post_ids(first) == [opening.id, replies[0].id]
    assert 'href="?page=2" rel="next"' in first
    assert _post_ids(last) == [replies[3].id]
    assert 'href="?page=2" rel="prev"' in last
    assert '<strong aria-current="page">3</strong>' in last
    # The reply form answers the thread, even on a page without the opening post.
    assert f'action="/posts/{opening.id}/reply/"' in last
    assert _post_ids(member_client.get(f"{thread.get_absolute_url()}?page=99").content.decode()) == [replies[3].id]


def test_permalink_of_unknown_post_is_404(member_client, db):
    assert member_client.get("/posts/999999/").status_code == 404
