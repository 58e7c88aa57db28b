from datetime import timedelta

import pytest
from django.utils import timezone

from community.models import AuditRecord
from mailer.models import MailPreference
from tests.conftest import login
from threads.models import LiveEvent, Post, Thread
from threads.moderation import (
    ThreadModerationError,
    hide_post,
    merge_subtree,
    move_thread,
    set_locked,
    set_pinned,
    split_subtree,
    unhide_post,
)
from threads.services import create_reply


@pytest.fixture
def tree(thread, opening_post, member_factory):
    """opening_post ─┬─ a ─┬─ a1 ── a1x
                │     └─ a2
                └─ b"""
    alice, bob = member_factory(full_name="Alice"), member_factory(full_name="Bob")
    posts = {"opening_post": opening_post}
    posts["a"] = create_reply(author=alice, parent=opening_post, body="A")
    posts["a1"] = create_reply(author=bob, parent=posts["a"], body="A1")
    posts["a1x"] = create_reply(author=alice, parent=posts["a1"], body="A1x")
    posts["a2"] = create_reply(author=bob, parent=posts["a"], body="A2")
    posts["b"] = create_reply(author=bob, parent=opening_post, body="B")
    for minutes, name in enumerate(["a", "a1", "a1x", "a2", "b"], start=1):
        Post.objects.filter(pk=posts[name].pk).update(created_at=opening_post.created_at + timedelta(minutes=minutes))
        posts[name].refresh_from_db()
    return posts


def audit_of(action):
    return AuditRecord.objects.get(action=action)


def test_set_pinned_and_locked_audited_once(thread, moderator):
    set_pinned(thread, moderator, True, "Everyone should read this.")
    set_pinned(thread, moderator, True)
    set_locked(thread, moderator, True)
    set_locked(thread, moderator, False)

    thread.refresh_from_db()
    assert thread.pinned and not thread.locked
    pinned = audit_of("thread_pinned")
    assert (pinned.actor, pinned.subject, pinned.reason) == (moderator, thread.author, "Everyone should read this.")
    assert f"Thread #{thread.id}" in pinned.target
    assert AuditRecord.objects.filter(action__in=["thread_locked", "thread_unlocked"]).count() == 2


def test_thread_moderation_refused_to_member(thread, member, opening_post):
    for action in (lambda: set_pinned(thread, member, True), lambda: set_locked(thread, member, True),
                   lambda: hide_post(opening_post, member, "No.")):
        with pytest.raises(ThreadModerationError):
            action()
    assert not AuditRecord.objects.exists()


def test_move_thread_changes_category_with_reason(thread, moderator, other_category):
    move_thread(thread, moderator, other_category, "Belongs with program questions.")

    assert Thread.objects.get(pk=thread.pk).category == other_category
    record = audit_of("thread_moved")
    assert record.target.endswith("from Clinical questions to Program management")
    assert record.reason == "Belongs with program questions."


def test_hide_post_shows_notice_to_others_and_text_to_author_and_moderators(
        client, thread, tree, moderator, member_factory, django_capture_on_commit_callbacks):
    post = tree["a1"]
    with django_capture_on_commit_callbacks():
        hide_post(post, moderator, "Might identify a client.")

    other = login(client, member_factory()).get(thread.get_absolute_url()).content.decode()
    assert "This post is waiting for a moderator's review." in other
    assert "A1</p>" not in other
    author = login(client, post.author).get(thread.get_absolute_url()).content.decode()
    assert "A1</p>" in author and "Reason: Might identify a client." in author
    as_moderator = login(client, moderator).get(thread.get_absolute_url()).content.decode()
    assert "A1</p>" in as_moderator and "Show to everyone again" in as_moderator
    assert audit_of("post_hidden").subject == post.author
    assert LiveEvent.objects.filter(post=post, kind="post.hidden").exists()


def test_unhide_post_shows_it_again(thread, tree, moderator):
    post = tree["a1"]
    hide_post(post, moderator, "Check.")

    unhide_post(post, moderator, "Checked: fine.")

    post.refresh_from_db()
    assert post.hidden_at is None and post.hidden_reason == ""
    assert audit_of("post_unhidden").reason == "Checked: fine."


def test_hide_post_requires_reason(tree, moderator):
    with pytest.raises(ThreadModerationError):
        hide_post(tree["a"], moderator, "  ")


def test_hidden_reply_is_not_emailed(member, member_factory, moderator, opening_post, mailoutbox,
                                     django_capture_on_commit_callbacks):
    member_factory(mail_mode=MailPreference.Mode.EACH)
    mailoutbox.clear()

    # Hidden before the fan-out task delivers: the moderator acts in the same moment the post is published.
    with django_capture_on_commit_callbacks(execute=True):
        reply = create_reply(author=member, parent=opening_post, body="Too much detail.")
        hide_post(reply, moderator, "Too much detail about a client.")

    assert mailoutbox == []


def test_split_subtree_moves_reply_and_descendants_to_new_thread(thread, tree, moderator, other_category):
    new = split_subtree(tree["a"], moderator, title="Starting a group", category=other_category,
                        reason="A topic of its own.")

    moved = {name for name, post in tree.items() if Post.objects.get(pk=post.pk).thread_id == new.id}
    assert moved == {"a", "a1", "a1x", "a2"}
    assert Post.objects.get(pk=tree["a"].pk).parent_id is None
    assert Post.objects.get(pk=tree["a1"].pk).parent_id == tree["a"].id
    new.refresh_from_db()
    thread.refresh_from_db()
    assert (new.title, new.category, new.author_id) == ("Starting a group", other_category, tree["a"].author_id)
    assert (new.post_count, new.last_post_at) == (4, tree["a2"].created_at)
    assert (thread.post_count, thread.last_post_at) == (2, tree["b"].created_at)
    record = audit_of("thread_split")
    assert record.target.startswith(f"4 posts from Thread #{thread.id}")
    assert record.reason == "A topic of its own."


def test_split_subtree_refuses_opening_post(tree, moderator, category):
    with pytest.raises(ThreadModerationError):
        split_subtree(tree["opening_post"], moderator, title="All of it", category=category)


def test_merge_subtree_moves_replies_under_post_of_other_thread(thread, tree, moderator, thread_factory):
    target = thread_factory(title="Groups, again")
    Thread.objects.filter(pk=target.pk).update(last_post_at=timezone.now() - timedelta(days=1))
    under = target.posts.get()

    merge_subtree(tree["a1"], moderator, under=under, reason="Same question.")

    assert set(Post.objects.filter(thread=target).values_list("pk", flat=True)) == {
        under.id, tree["a1"].id, tree["a1x"].id}
    assert Post.objects.get(pk=tree["a1"].pk).parent_id == under.id
    target.refresh_from_db()
    thread.refresh_from_db()
    assert (target.post_count, target.last_post_at) == (3, tree["a1x"].created_at)
    assert thread.post_count == 4
    target_text = audit_of("thread_merged").target
    assert target_text.startswith(f"2 posts from Thread #{thread.id}")
    assert target_text.endswith(f"under post #{under.id} in Thread #{target.id} “Groups, again”")


def test_merge_subtree_refuses_post_in_same_thread(tree, moderator):
    with pytest.raises(ThreadModerationError):
        merge_subtree(tree["a1"], moderator, under=tree["b"])


def test_moderator_thread_controls_shown_to_moderators_only(client, member, moderator, thread):
    assert "Moderate this thread" not in login(client, member).get(thread.get_absolute_url()).content.decode()
    page = login(client, moderator).get(thread.get_absolute_url()).content.decode()
    assert "Moderate this thread" in page
    assert f'action="/moderation/threads/{thread.id}/pin/"' in page


def test_pin_and_lock_views(moderator_client, thread):
    moderator_client.post(f"/moderation/threads/{thread.id}/pin/", {"on": "1", "reason": "Read first."})
    response = moderator_client.post(f"/moderation/threads/{thread.id}/lock/", {"on": "1"})

    thread.refresh_from_db()
    assert response["Location"] == thread.get_absolute_url()
    assert thread.pinned and thread.locked
    assert audit_of("thread_pinned").reason == "Read first."


def test_move_view(moderator_client, thread, other_category):
    assert moderator_client.get(f"/moderation/threads/{thread.id}/").status_code == 200

    moderator_client.post(f"/moderation/threads/{thread.id}/move/", {"category": other_category.pk, "reason": ""})

    assert Thread.objects.get(pk=thread.pk).category == other_category


def test_move_view_same_category_says_why(moderator_client, thread):
    response = moderator_client.post(f"/moderation/threads/{thread.id}/move/", {"category": thread.category_id})

    assert response.status_code == 400
    assert "already in that category" in response.content.decode()


def test_hide_view_requires_reason_then_hides(moderator_client, tree):
    post = tree["b"]
    assert moderator_client.get(f"/moderation/posts/{post.id}/hide/").status_code == 200
    assert moderator_client.post(f"/moderation/posts/{post.id}/hide/", {"reason": ""}).status_code == 400

    moderator_client.post(f"/moderation/posts/{post.id}/hide/", {"reason": "Names a client."})
    moderator_client.post(f"/moderation/posts/{post.id}/unhide/", {"reason": "Edited by the author."})

    assert [record.action for record in AuditRecord.objects.order_by("id")] == ["post_hidden", "post_unhidden"]


def test_split_view_into_new_thread(moderator_client, tree, other_category):
    assert moderator_client.get(f"/moderation/posts/{tree['a'].id}/split/").status_code == 200

    response = moderator_client.post(f"/moderation/posts/{tree['a'].id}/split/", {
        "destination": "new", "title": "Starting a group", "category": other_category.pk, "reason": "",
    })

    new = Thread.objects.get(title="Starting a group")
    assert response["Location"] == f"{new.get_absolute_url()}#post-{tree['a'].id}"
    assert new.posts.count() == 4


def test_split_view_merge_under_unknown_post_says_why(moderator_client, tree):
    response = moderator_client.post(f"/moderation/posts/{tree['a'].id}/split/", {
        "destination": "merge", "under": 999999,
    })

    assert response.status_code == 400
    assert "There is no post with that number." in response.content.decode()


def test_moderation_views_forbidden_to_member(client, member, thread, tree):
    login(client, member)

    assert client.get(f"/moderation/threads/{thread.id}/").status_code == 403
    assert client.post(f"/moderation/threads/{thread.id}/pin/", {"on": "1"}).status_code == 403
    assert client.post(f"/moderation/posts/{tree['a'].id}/hide/", {"reason": "x"}).status_code == 403
    assert client.post(f"/moderation/posts/{tree['a'].id}/split/", {"destination": "new"}).status_code == 403
    assert not AuditRecord.objects.exists()


def test_reply_page_to_hidden_post_shows_notice_not_text(client, tree, moderator, member_factory):
    hide_post(tree["a1"], moderator, "Might identify a client.")

    page = login(client, member_factory()).get(f"/posts/{tree['a1'].id}/reply/").content.decode()

    assert "This post is waiting for a moderator's review." in page
    assert "A1</p>" not in page
