"""Held posts: a member whose posts a moderator approves first. Nothing about a held post reaches anyone but the
moderators and its author until it is approved; approval publishes it as if it had just been posted."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from community.models import AuditRecord, Member
from community.services import ModerationError, hold_posts
from mailer.models import MailPreference
from tests.conftest import login
from tests.threads.events_helpers import make_econsultation
from threads import live
from threads.events import held_post_rejected, member_mentioned, post_held, post_published
from threads.feeds import NewThreadsFeed
from threads.live import broadcast_thread_activity, catch_up_frames
from threads.models import EConsultation, LiveEvent, Post, Thread
from threads.moderation import ThreadModerationError, approve_held_post, reject_held_post
from threads.posts import delete_post, edit_post
from threads.search import search_posts
from threads.selectors import readable_categories
from threads.services import HELD_MEMBER_REASON, PostingNotAllowed, create_reply, create_thread

QUEUE = reverse("held_posts")


@pytest.fixture
def events():
    """The domain events sent, as (name, kwargs), while the test runs."""
    sent = []
    receivers = {}
    for name, signal in [("post_published", post_published), ("post_held", post_held),
                         ("member_mentioned", member_mentioned), ("held_post_rejected", held_post_rejected)]:
        receivers[name] = (signal, lambda sender, name=name, **kwargs: sent.append((name, kwargs)))
        signal.connect(receivers[name][1], weak=False)
    yield sent
    for signal, receiver in receivers.values():
        signal.disconnect(receiver)


@pytest.fixture
def reader(member_factory):
    """A member who gets every message by email."""
    return member_factory(full_name="Rita Reader")


@pytest.fixture
def daily_reader(member_factory):
    return member_factory(full_name="Dee Daily", mail_mode=MailPreference.Mode.DAILY)


@pytest.fixture
def held_reply(held_member, opening_post, reply_factory):
    return reply_factory(author=held_member, parent=opening_post, body="A reply that waits. @dee.daily")


@pytest.fixture
def held_thread(held_member, category, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return create_thread(author=held_member, category=category, title="A thread that waits",
                             body="Its opening post waits too.")


def scheduled(callbacks) -> set:
    """What the on-commit callbacks call (they are partials carrying ids)."""
    return {getattr(callback, "func", callback) for callback in callbacks}


def recipients(mailoutbox) -> list[tuple[str, str]]:
    return sorted((message.to[0], message.subject) for message in mailoutbox)


# --- Holding -----------------------------------------------------------------------------------------------------

def test_create_reply_by_held_member_publishes_nothing(
        held_member, opening_post, thread, reader, daily_reader, moderator, events, mailoutbox,
        django_capture_on_commit_callbacks):
    before = Thread.objects.get(pk=thread.pk)
    events_before = LiveEvent.objects.count()
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        post = create_reply(author=held_member, parent=opening_post, body="Wait for me, @dee.daily")

    post.refresh_from_db()
    assert post.held_at is not None and post.hidden_at == post.held_at
    assert post.hidden_reason == HELD_MEMBER_REASON
    after = Thread.objects.get(pk=thread.pk)
    assert (after.post_count, after.last_post_at, after.held_at) == (before.post_count, before.last_post_at, None)
    assert LiveEvent.objects.count() == events_before
    assert broadcast_thread_activity not in scheduled(callbacks)
    assert events == [("post_held", {"post_id": post.id, "signal": post_held})]
    # No list mail to the each-message reader, no mention notice: the moderator and the author hear of it.
    assert {to for to, _ in recipients(mailoutbox)} == {moderator.email, held_member.email}


def test_create_thread_by_held_member_holds_the_thread_and_its_opening_post(
        held_member, category, reader, events, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        thread = create_thread(author=held_member, category=category, title="Waits", body="Opening.")

    thread.refresh_from_db()
    post = thread.posts.get()
    assert thread.held_at is not None and thread.post_count == 0
    assert post.held_at is not None and post.hidden_at is not None
    assert not LiveEvent.objects.filter(thread=thread).exists()
    assert broadcast_thread_activity not in scheduled(callbacks)
    assert [name for name, _ in events] == ["post_held"]


def test_create_reply_by_moderator_is_never_held(moderator, opening_post, events, reply_factory):
    Member.objects.filter(pk=moderator.pk).update(posts_held=True)
    moderator.refresh_from_db()

    post = reply_factory(author=moderator, parent=opening_post, body="Moderators publish at once.")

    assert post.held_at is None and post.hidden_at is None
    assert [name for name, _ in events] == ["post_published"]


def test_create_reply_refused_in_a_held_thread(held_thread, moderator):
    with pytest.raises(PostingNotAllowed, match="waiting for a moderator"):
        create_reply(author=moderator, parent=held_thread.posts.get(), body="Too early.")


def test_create_reply_rolled_back_announces_no_hold(held_member, opening_post, events,
                                                   django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        with transaction.atomic():
            create_reply(author=held_member, parent=opening_post, body="Never committed.")
            raise RuntimeError

    assert events == []
    assert not Post.objects.filter(body="Never committed.").exists()


def test_edit_post_of_held_post_sends_nothing_live_nor_mentions(held_reply, held_member, events,
                                                                django_capture_on_commit_callbacks):
    events_before = LiveEvent.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        edit_post(editor=held_member, post_id=held_reply.id, body="Edited while waiting. @rita.reader")
        delete_post(actor=held_member, post_id=held_reply.id)

    assert LiveEvent.objects.count() == events_before
    assert events == []


# --- Who sees a held post ----------------------------------------------------------------------------------------

def test_thread_page_shows_held_reply_to_its_author_and_moderators_only(
        client, thread, held_reply, held_member, moderator, reader):
    page = login(client, reader).get(thread.get_absolute_url()).content.decode()
    assert f'id="post-{held_reply.id}"' not in page  # not even a "waiting for review" placeholder
    assert client.get(held_reply.get_absolute_url()).status_code == 404

    page = login(client, held_member).get(thread.get_absolute_url()).content.decode()
    assert "A reply that waits." in page
    assert "Waiting for a moderator." in page
    assert "Only you and the moderators can see this post." in page
    assert client.get(held_reply.get_absolute_url()).url.endswith(f"#post-{held_reply.id}")

    page = login(client, moderator).get(thread.get_absolute_url()).content.decode()
    assert "A reply that waits." in page
    assert HELD_MEMBER_REASON in page
    assert f'href="{QUEUE}#held-{held_reply.id}"' in page


def test_thread_page_asks_the_author_of_a_post_the_guard_held_to_edit_it(client, thread, opening_post, member,
                                                                          moderator, reader,
                                                                          django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        held = create_reply(author=member, parent=opening_post, source=Post.Source.EMAIL,
                            body="Her A-number is A# 212-345-678; can anyone see her this month?")

    page = login(client, member).get(thread.get_absolute_url()).content.decode()
    assert "Not published yet: it may identify a client." in page
    assert f'href="{reverse("edit_post", args=[held.id])}">Edit it or confirm it</a>' in page
    assert "When a moderator approves it" not in page

    page = login(client, moderator).get(thread.get_absolute_url()).content.decode()
    assert "It may identify a client (an A-number)" in page and "Not published yet" not in page
    assert f'id="post-{held.id}"' not in login(client, reader).get(thread.get_absolute_url()).content.decode()


def test_held_thread_is_listed_to_its_author_and_moderators_only(
        client, held_thread, held_member, moderator, reader, category, thread):
    for url in (reverse("home"), category.get_absolute_url()):
        assert "A thread that waits" not in login(client, reader).get(url).content.decode()
        listed = login(client, held_member).get(url).content.decode()
        assert "A thread that waits" in listed and "waiting for a moderator" in listed
        assert "A thread that waits" in login(client, moderator).get(url).content.decode()
    assert "A thread that waits" in login(client, held_member).get(reverse("my_threads")).content.decode()

    assert login(client, reader).get(held_thread.get_absolute_url()).status_code == 404
    page = login(client, held_member).get(held_thread.get_absolute_url()).content.decode()
    assert "This thread is not published." in page
    assert "Reply to the thread" not in page
    assert [c.thread_count for c in readable_categories(reader.user) if c.pk == category.pk] == [1]
    assert list(NewThreadsFeed().items(held_member)) == [thread]


def test_search_posts_leaves_out_held_posts_even_for_their_author(held_reply, held_member, moderator):
    assert list(search_posts(held_member.user, "waits")) == []
    assert list(search_posts(moderator.user, "waits")) == []


def test_live_room_and_catch_up_leave_out_held_posts(client, moderator, held_member, reader,
                                                    django_capture_on_commit_callbacks):
    econsultation = make_econsultation(moderator, EConsultation.LIVE, capture=django_capture_on_commit_callbacks)
    room = econsultation.thread
    seen = live.latest_event_id(room.id)
    with django_capture_on_commit_callbacks(execute=True):
        post = create_reply(author=held_member, parent=room.posts.get(), body="A question that waits.")

    assert catch_up_frames(room.id, seen) == []
    room_url = reverse("live_room", args=[room.id])
    assert f'id="post-{post.id}"' not in login(client, reader).get(room_url).content.decode()
    assert "A question that waits." in login(client, held_member).get(room_url).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        approve_held_post(post, moderator)

    [frame] = catch_up_frames(room.id, seen)
    assert (frame["type"], frame["post_id"]) == (live.POST_CREATED, post.id)
    assert "A question that waits." in frame["html"]


def test_reply_view_tells_the_held_author_their_post_waits(client, held_member, opening_post):
    response = login(client, held_member).post(reverse("reply", args=[opening_post.id]),
                                               {"body": "Posted on the web."}, follow=True)

    assert "Your post is waiting for a moderator." in response.content.decode()


def test_new_thread_view_shows_the_held_author_their_waiting_thread(client, held_member, category):
    response = login(client, held_member).post(
        reverse("new_thread"), {"category": category.id, "title": "Waiting thread", "body": "Opening."}, follow=True)

    page = response.content.decode()
    assert "Your post is waiting for a moderator." in page
    assert "This thread is not published." in page
    assert Thread.objects.get(title="Waiting thread").held_at is not None


# --- Approving and rejecting ---------------------------------------------------------------------------------------

def test_approve_held_post_publishes_it_as_if_just_posted(
        held_reply, thread, moderator, reader, daily_reader, events, mailoutbox,
        django_capture_on_commit_callbacks):
    Post.objects.filter(pk=held_reply.pk).update(created_at=timezone.now() - timedelta(days=2))
    before = Thread.objects.get(pk=thread.pk)
    mailoutbox.clear()
    events.clear()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        approve_held_post(held_reply, moderator)

    post = Post.objects.get(pk=held_reply.pk)
    assert (post.held_at, post.hidden_at, post.hidden_reason) == (None, None, "")
    assert post.created_at > timezone.now() - timedelta(minutes=1)
    after = Thread.objects.get(pk=thread.pk)
    assert after.post_count == before.post_count + 1
    assert after.last_post_at == post.created_at
    event = LiveEvent.objects.latest("id")
    assert (event.kind, event.post_id) == (live.POST_CREATED, post.id)
    assert broadcast_thread_activity in scheduled(callbacks)
    assert sorted(name for name, _ in events) == ["member_mentioned", "post_published"]
    assert ("member_mentioned", {"post_id": post.id, "member_id": daily_reader.id,
                                 "signal": member_mentioned}) in events
    assert reader.email in [message.to[0] for message in mailoutbox]  # list mail, each message
    record = AuditRecord.objects.get(action="held_post_approved")
    assert (record.actor, record.subject_id) == (moderator, post.author_id)


def test_approve_held_post_of_a_new_thread_lists_the_thread(client, held_thread, moderator, reader,
                                                            django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        approve_held_post(held_thread.posts.get(), moderator)

    thread = Thread.objects.get(pk=held_thread.pk)
    assert thread.held_at is None and thread.post_count == 1
    assert thread.created_at == thread.last_post_at == thread.posts.get().created_at
    assert "A thread that waits" in login(client, reader).get(reverse("home")).content.decode()


def test_approve_held_post_refused_to_members_and_once_decided(held_reply, held_member, moderator, reader):
    with pytest.raises(ThreadModerationError, match="Only moderators"):
        approve_held_post(held_reply, reader)
    approve_held_post(held_reply, moderator)

    with pytest.raises(ThreadModerationError, match="already published"):
        approve_held_post(held_reply, moderator)
    with pytest.raises(ThreadModerationError, match="already published"):
        reject_held_post(held_reply, moderator, "Too late.")
    assert AuditRecord.objects.filter(action__startswith="held_post_").count() == 1


def test_reject_held_post_deletes_it_and_tells_the_author_why(
        held_reply, held_member, moderator, reader, events, mailoutbox, client, thread,
        django_capture_on_commit_callbacks):
    mailoutbox.clear()
    events.clear()

    with django_capture_on_commit_callbacks(execute=True):
        reject_held_post(held_reply, moderator, "  Please leave out the client's name.  ")

    post = Post.objects.get(pk=held_reply.pk)
    assert post.deleted_at is not None and post.deleted_by == moderator and post.held_at is not None
    assert post.hidden_reason == "Please leave out the client's name."
    assert events == [("held_post_rejected", {"post_id": post.id, "signal": held_post_rejected})]
    [message] = mailoutbox
    assert message.to == [held_member.email]
    assert "Please leave out the client's name." in message.body
    record = AuditRecord.objects.get(action="held_post_rejected")
    assert (record.actor, record.reason) == (moderator, "Please leave out the client's name.")
    assert "A reply that waits." not in login(client, reader).get(thread.get_absolute_url()).content.decode()
    page = login(client, held_member).get(thread.get_absolute_url()).content.decode()
    assert "A moderator did not publish this post. Reason: Please leave out the client" in page


def test_reject_held_post_of_a_new_thread_lists_it_to_nobody(client, held_thread, held_member, moderator):
    reject_held_post(held_thread.posts.get(), moderator, "Please ask this in Program management.")

    for viewer, url in [(held_member, reverse("home")), (held_member, reverse("my_threads")),
                        (moderator, reverse("home"))]:
        assert "A thread that waits" not in login(client, viewer).get(url).content.decode()
    page = login(client, held_member).get(held_thread.get_absolute_url()).content.decode()
    assert "A moderator did not publish this post. Reason: Please ask this in Program management." in page


def test_reject_held_post_needs_a_reason_and_is_refused_once_decided(held_reply, held_member, moderator):
    with pytest.raises(ThreadModerationError, match="Say why"):
        reject_held_post(held_reply, moderator, "  ")
    reject_held_post(held_reply, moderator, "Off topic.")

    with pytest.raises(ThreadModerationError, match="already rejected"):
        reject_held_post(held_reply, moderator, "Again.")
    with pytest.raises(ThreadModerationError, match="already rejected"):
        approve_held_post(held_reply, moderator)


def test_approve_held_post_refused_after_its_author_deleted_it(held_reply, held_member, moderator):
    delete_post(actor=held_member, post_id=held_reply.id)

    with pytest.raises(ThreadModerationError, match="its author deleted it"):
        approve_held_post(held_reply, moderator)


@pytest.mark.django_db(transaction=True)
def test_approve_held_post_twice_at_once_publishes_once(member_factory, category, events):
    """Two moderators answer "approve" at the same moment (or the web and an email): the row lock makes the
    second wait for the first and then see it is already published."""
    moderator = member_factory(role=Member.Role.MODERATOR)
    held = member_factory()
    Member.objects.filter(pk=held.pk).update(posts_held=True)
    held.refresh_from_db()
    opening = create_thread(author=moderator, category=category, title="T", body="Opening").posts.get()
    post = create_reply(author=held, parent=opening, body="Approve me once.")
    events.clear()
    first_approved, outcomes = threading.Event(), []

    def approve_and_hold_the_lock():
        try:
            with transaction.atomic():
                approve_held_post(post, moderator)
                first_approved.set()
                threading.Event().wait(0.5)  # still uncommitted while the other moderator tries
            outcomes.append("approved")
        finally:
            connection.close()

    first = threading.Thread(target=approve_and_hold_the_lock)
    first.start()
    assert first_approved.wait(10)
    with pytest.raises(ThreadModerationError, match="already published"):
        approve_held_post(post, moderator)
    first.join()

    assert outcomes == ["approved"]
    assert [name for name, _ in events] == ["post_published"]
    assert Thread.objects.get(pk=opening.thread_id).post_count == 2
    assert AuditRecord.objects.filter(action="held_post_approved").count() == 1


# --- The moderators' queue ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("count", [1, 6])
def test_held_post_queue_lists_each_post_in_constant_queries(
        moderator_client, held_member, opening_post, reply_factory, django_assert_num_queries, count):
    posts = [reply_factory(author=held_member, parent=opening_post, body=f"Waiting post {n}") for n in range(count)]
    moderator_client.get(QUEUE)

    # user, member, TOTP check, held posts with authors, organizations, threads, categories and parents, their
    # attachments, held posts waiting (moderation menu)
    with django_assert_num_queries(6):
        page = moderator_client.get(QUEUE).content.decode()

    assert page.count('<li id="held-') == count
    assert all(f"Waiting post {n}" in page for n in range(count))
    assert "Hal Held" in page and "Reply in “Group work with new arrivals”" in page
    assert HELD_MEMBER_REASON in page
    assert f"Held posts <span class=\"badge\">{count}" in page
    assert all(reverse("approve_held_post", args=[post.id]) in page for post in posts)


def test_held_post_queue_and_decisions_refused_to_members(member_client, held_reply):
    assert member_client.get(QUEUE).status_code == 403
    assert member_client.post(reverse("approve_held_post", args=[held_reply.id])).status_code == 403
    assert member_client.post(reverse("reject_held_post", args=[held_reply.id]), {"reason": "x"}).status_code == 403
    assert Post.objects.get(pk=held_reply.pk).held_at is not None


def test_approve_held_view_publishes_and_says_so(moderator_client, held_reply, reader, thread, client):
    response = moderator_client.post(reverse("approve_held_post", args=[held_reply.id]), follow=True)

    assert "The post by Hal Held is published and sent to the list." in response.content.decode()
    assert "No posts are waiting." in response.content.decode()
    assert "A reply that waits." in login(client, reader).get(thread.get_absolute_url()).content.decode()


def test_approve_held_view_twice_says_it_is_already_published(moderator_client, held_reply):
    moderator_client.post(reverse("approve_held_post", args=[held_reply.id]))

    response = moderator_client.post(reverse("approve_held_post", args=[held_reply.id]), follow=True)

    assert "This post is not waiting for a moderator: it is already published." in response.content.decode()


def test_reject_held_view_keeps_the_form_open_without_a_reason(moderator_client, held_reply, mailoutbox,
                                                               django_capture_on_commit_callbacks):
    mailoutbox.clear()
    response = moderator_client.post(reverse("reject_held_post", args=[held_reply.id]), {"reason": ""})

    assert response.status_code == 400
    assert "<details open>" in response.content.decode()
    assert Post.objects.get(pk=held_reply.pk).deleted_at is None

    with django_capture_on_commit_callbacks(execute=True):
        response = moderator_client.post(reverse("reject_held_post", args=[held_reply.id]),
                                         {"reason": "Off topic."}, follow=True)
    assert "was not published. They have been emailed your reason." in response.content.decode()
    assert [message.to for message in mailoutbox] == [[held_reply.author.email]]


# --- Holding a member's posts from the member moderation page ----------------------------------------------------

def test_member_moderation_page_holds_and_releases_a_members_posts(
        moderator_client, member, opening_post, django_capture_on_commit_callbacks):
    page = moderator_client.get(reverse("moderation_member", args=[member.id])).content.decode()
    assert "Hold this member's posts for approval…" in page

    response = moderator_client.post(reverse("hold_member_posts", args=[member.id]),
                                     {"reason": "Asked to by their program."}, follow=True)
    assert "From now on each post by Dana Member waits for a moderator" in response.content.decode()
    assert "<strong>Held:</strong> each post waits" in response.content.decode()
    member.refresh_from_db()
    assert member.posts_held
    assert AuditRecord.objects.get(action="member_posts_held").reason == "Asked to by their program."
    with django_capture_on_commit_callbacks(execute=True):
        assert create_reply(author=member, parent=opening_post, body="Held now.").held_at is not None

    moderator_client.post(reverse("release_member_posts", args=[member.id]), {"reason": "Fine now."})
    member.refresh_from_db()
    assert not member.posts_held
    assert AuditRecord.objects.filter(action="member_posts_released", subject=member).exists()
    assert create_reply(author=member, parent=opening_post, body="Published.").held_at is None


def test_hold_posts_refused_for_moderators_and_by_members(member, moderator, admin):
    with pytest.raises(ModerationError, match="never held"):
        hold_posts(moderator, admin, "No.")
    with pytest.raises(ModerationError, match="Only moderators"):
        hold_posts(member, Member.objects.get(pk=member.pk), "No.")
    hold_posts(member, moderator, "Yes.")
    with pytest.raises(ModerationError, match="already held"):
        hold_posts(member, moderator, "Twice.")
