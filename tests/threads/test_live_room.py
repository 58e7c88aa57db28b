"""The live e-consultation room page and what its hosts do."""

import pytest
from django.urls import reverse

from community.models import AuditRecord
from tests.conftest import login
from tests.threads.events_helpers import make_econsultation
from threads import live
from threads.live_room import highlight_question, mark_answered
from threads.models import EConsultation, LiveEvent
from threads.webinars import NotAHost


@pytest.fixture
def econsultation(moderator, django_capture_on_commit_callbacks):
    return make_econsultation(moderator, EConsultation.LIVE, capture=django_capture_on_commit_callbacks)


@pytest.fixture
def question(econsultation, member_factory, reply_factory):
    asker = member_factory(full_name="Quinn Asker")
    return reply_factory(author=asker, parent=econsultation.thread.posts.get(),
                         body="How do you close a group when one member is in crisis?")


def test_highlight_question_pins_it_audits_and_records_a_live_event(moderator, question):
    highlight_question(host=moderator, post_id=question.id)

    question.refresh_from_db()
    assert question.highlighted_at is not None and question.answered_at is None
    record = AuditRecord.objects.get(action="question_highlighted")
    assert (record.actor, record.subject_id) == (moderator, question.author_id)
    assert f"Post #{question.id}" in record.target
    event = LiveEvent.objects.latest("id")
    assert (event.kind, event.post_id) == (live.QUESTION_HIGHLIGHTED, question.id)
    assert event.payload == {"author": "Quinn Asker",
                             "excerpt": "How do you close a group when one member is in crisis?"}


def test_mark_answered_unpins_it(moderator, question, client):
    highlight_question(host=moderator, post_id=question.id)
    mark_answered(host=moderator, post_id=question.id)

    question.refresh_from_db()
    assert question.answered_at is not None
    assert AuditRecord.objects.filter(action="question_answered", subject_id=question.author_id).exists()
    assert LiveEvent.objects.latest("id").kind == live.QUESTION_ANSWERED


def test_highlight_question_refused_to_member_who_is_not_a_host(member, question):
    with pytest.raises(NotAHost):
        highlight_question(host=member, post_id=question.id)

    question.refresh_from_db()
    assert question.highlighted_at is None
    assert not LiveEvent.objects.filter(kind=live.QUESTION_HIGHLIGHTED).exists()


def test_highlight_question_refused_outside_an_econsultation(moderator, thread):
    with pytest.raises(NotAHost):
        highlight_question(host=moderator, post_id=thread.posts.get().id)


def test_highlight_view_by_presenter_host_pins_question_on_room_page(member_factory, econsultation, question, client):
    presenter = member_factory(full_name="Pat Presenter")
    econsultation.hosts.add(presenter)
    login(client, presenter)

    response = client.post(reverse("highlight_question", args=[question.id]))

    room = reverse("live_room", args=[econsultation.thread_id])
    assert response.url == f"{room}#post-{question.id}"
    page = client.get(room).content.decode()
    pinned = page[page.index('id="pinned-questions"'):page.index('id="no-pinned"')]
    assert "Question from Quinn Asker" in pinned
    assert "one member is in crisis" in pinned
    assert "Mark<span" in page  # hosts get the buttons


def test_highlight_view_forbidden_to_member(member, question, client):
    login(client, member)

    response = client.post(reverse("highlight_question", args=[question.id]))

    assert response.status_code == 403


def test_live_room_shows_posts_without_host_buttons_to_members(member, econsultation, question, client):
    login(client, member)

    page = client.get(reverse("live_room", args=[econsultation.thread_id])).content.decode()

    assert "one member is in crisis" in page
    assert f'data-after="{live.latest_event_id(econsultation.thread_id)}"' in page
    assert "Highlight<span" not in page
    assert 'id="host-actions"' not in page


def test_live_room_is_only_for_econsultations(member, thread, client):
    login(client, member)

    assert client.get(reverse("live_room", args=[thread.id])).status_code == 404


@pytest.mark.parametrize("replies", [2, 20])
def test_live_room_query_count_is_constant(replies, member, member_factory, moderator, econsultation, reply_factory,
                                           client, django_assert_num_queries):
    opening = econsultation.thread.posts.get()
    askers = [member_factory() for _ in range(2)]
    for n in range(replies):
        post = reply_factory(author=askers[n % 2], parent=opening, body=f"Question {n}?")
        if n % 5 == 0:
            highlight_question(host=moderator, post_id=post.id)
    login(client, member)
    client.get(reverse("live_room", args=[econsultation.thread_id]))  # the session is loaded and read marks exist

    with django_assert_num_queries(13):
        response = client.get(reverse("live_room", args=[econsultation.thread_id]))

    assert response.status_code == 200


def test_post_in_room_replies_to_the_opening_post_and_stays_in_the_room(member, econsultation, client):
    login(client, member)

    response = client.post(reverse("post_in_room", args=[econsultation.thread_id]),
                           {"body": "Is anyone using **narrative exposure** in groups?"})

    post = econsultation.thread.posts.latest("id")
    assert response.url == f"{reverse('live_room', args=[econsultation.thread_id])}#post-{post.id}"
    assert (post.author, post.parent_id, post.source) == (member, econsultation.thread.posts.earliest("id").id, "live")
    assert LiveEvent.objects.latest("id").post_id == post.id


def test_post_in_room_refused_when_thread_is_locked(member, econsultation, client):
    econsultation.thread.locked = True
    econsultation.thread.save(update_fields=["locked"])
    login(client, member)

    response = client.post(reverse("post_in_room", args=[econsultation.thread_id]), {"body": "Still there?"})

    assert response.status_code == 200
    assert "This thread is closed to new replies." in response.content.decode()
    assert econsultation.thread.posts.count() == 1
