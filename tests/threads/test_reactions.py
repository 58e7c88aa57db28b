import pytest
from channels.db import database_sync_to_async

from tests.conftest import login
from tests.threads.test_live import communicator_for
from threads.models import LiveEvent, Post, Reaction
from threads.reading import ReactionNotAllowed, toggle_helpful
from threads.services import create_reply


@pytest.fixture
def fan(member_factory):
    return member_factory(full_name="Fay Fan")


def test_toggle_helpful_adds_then_takes_back(fan, opening_post, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        assert toggle_helpful(fan, opening_post) is True
    assert Reaction.objects.get(post=opening_post).member == fan

    with django_capture_on_commit_callbacks():
        assert toggle_helpful(fan, opening_post) is False
    assert not Reaction.objects.exists()


def test_toggle_helpful_records_live_event_with_count(fan, member_factory, opening_post,
                                                      django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        toggle_helpful(fan, opening_post)
        toggle_helpful(member_factory(), opening_post)

    events = list(LiveEvent.objects.filter(thread=opening_post.thread, kind="post.reaction").order_by("id"))
    assert [(event.post_id, event.payload["count"]) for event in events] == [(opening_post.id, 1), (opening_post.id, 2)]


def test_toggle_helpful_refuses_own_and_hidden_posts(member, fan, opening_post):
    with pytest.raises(ReactionNotAllowed):
        toggle_helpful(member, opening_post)
    Post.objects.filter(pk=opening_post.pk).update(hidden_at=opening_post.created_at)
    opening_post.refresh_from_db()
    with pytest.raises(ReactionNotAllowed):
        toggle_helpful(fan, opening_post)
    assert not Reaction.objects.exists()


def test_helpful_button_shows_count_and_who(client, fan, member_factory, thread, opening_post):
    toggle_helpful(member_factory(full_name="Hal Helper"), opening_post)
    login(client, fan)

    response = client.post(f"/posts/{opening_post.id}/helpful/")
    page = client.get(thread.get_absolute_url()).content.decode()

    assert response.status_code == 302
    assert f'aria-pressed="true" title="Found helpful by Hal Helper, Fay Fan">Helpful <span class="helpful-count" ' \
           f'data-post-id="{opening_post.id}">2</span>' in page
    assert "<summary>Who found this helpful</summary>" in page
    assert "<li>Hal Helper</li>" in page and "<li>Fay Fan</li>" in page


def test_helpful_on_own_post_is_refused_with_message(client, member, opening_post):
    login(client, member)

    response = client.post(f"/posts/{opening_post.id}/helpful/", follow=True)

    assert "You cannot mark your own post as helpful." in response.content.decode()
    assert not Reaction.objects.exists()


@pytest.mark.parametrize("count", [2, 20])
def test_thread_page_with_reactions_and_bookmarks_query_count_is_constant(
        client, fan, member_factory, opening_post, django_assert_num_queries, count):
    others = [member_factory() for _ in range(3)]
    for n in range(count - 1):
        post = create_reply(author=others[n % 3], parent=opening_post, body=f"Reply {n}")
        toggle_helpful(others[(n + 1) % 3], post)
    login(client, fan)
    client.get(opening_post.thread.get_absolute_url())

    # user, member, thread, the thread's outline and its page of posts, attachments, the read mark,
    # reactions, bookmarks, the member's watch/mute choices, the latest live event id
    with django_assert_num_queries(11):
        page = client.get(opening_post.thread.get_absolute_url()).content.decode()

    assert page.count('class="helpful-count"') == count


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("own_channel_prefix", "close_worker_thread_connections")
async def test_thread_socket_receives_reaction_count(member_cookie, fan, thread, opening_post):
    communicator = communicator_for(thread, member_cookie)
    connected, _ = await communicator.connect()
    assert connected

    await database_sync_to_async(toggle_helpful)(fan, opening_post)

    frame = await communicator.receive_json_from(timeout=5)
    assert (frame["type"], frame["post_id"], frame["count"]) == ("post.reaction", opening_post.id, 1)
    await communicator.disconnect()
