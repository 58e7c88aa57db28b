"""The guard in the services every path passes through: create_thread, create_reply and edit_post stop what may
identify a client (nothing written), take the author's confirmation with a reason (recorded and audited), and
record every trip as a GuardCheck with the kinds and places found, never the text."""

import json

import pytest

from community.models import AuditRecord
from tests.threads.events_helpers import recorded
from threads.events import post_held, post_published
from threads.guard import NeedsConfirmation
from threads.guard_checks import Confirmation, text_digest
from threads.models import GuardCheck, LiveEvent, Post, PostRevision, Thread
from threads.posts import edit_post
from threads.services import HELD_MEMBER_REASON, create_reply, create_thread

IDENTIFYING = "My client's A-number is A212345678; can EOIR fix the venue?"
CLEAN = "My client's hearing notice went to the wrong court; can EOIR fix the venue?"


@pytest.fixture
def sent():
    """The domain events sent while the test runs."""
    with recorded(published=post_published, held=post_held) as events:
        yield events


def stop_of(call) -> NeedsConfirmation:
    with pytest.raises(NeedsConfirmation) as stopped:
        call()
    return stopped.value


def answer(stop: NeedsConfirmation, reason: str = "", text: str | None = None) -> Confirmation:
    """What the form sends back: the check shown, the reason when the box is ticked, the digest of what was shown."""
    return Confirmation(check_id=stop.check_id, reason=reason, checked=text_digest(stop.text if text is None else text))


def test_create_reply_stops_a_post_that_may_identify_a_client(member, opening_post, sent,
                                                              django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        stop = stop_of(lambda: create_reply(author=member, parent=opening_post, body=IDENTIFYING))

    assert [finding.kind for finding in stop.findings] == ["a_number"]
    assert Post.objects.filter(parent=opening_post).count() == 0
    assert sent == [] and not LiveEvent.objects.filter(post__parent=opening_post).exists()
    assert Thread.objects.get(pk=opening_post.thread_id).post_count == 1
    check = GuardCheck.objects.get(pk=stop.check_id)
    assert (check.outcome, check.source, check.author, check.post) == ("stopped", "web", member, None)
    assert check.findings == [{"kind": "a_number", "start": 24, "end": 34, "score": 0.85}]
    assert "A212345678" not in json.dumps(check.findings)


def test_create_reply_publishes_when_the_author_confirms_with_a_reason(member, opening_post, sent,
                                                                       django_capture_on_commit_callbacks):
    stop = stop_of(lambda: create_reply(author=member, parent=opening_post, body=IDENTIFYING))

    with django_capture_on_commit_callbacks(execute=True):
        post = create_reply(author=member, parent=opening_post, body=IDENTIFYING,
                            confirmation=answer(stop, "A made-up number for the training handout"))

    assert sent == [("published", post.id)] and post.held_at is None
    check = GuardCheck.objects.get()
    assert (check.pk, check.outcome, check.post, check.decided_by) == (stop.check_id, "confirmed", post, member)
    assert check.reason == "A made-up number for the training handout" and check.decided_at is not None
    audit = AuditRecord.objects.get(action="guard_confirmed")
    assert (audit.actor, audit.subject, audit.reason) == (member, member, "A made-up number for the training handout")
    assert audit.target == f"Post #{post.id} in thread #{post.thread_id} (found: A-number)"
    assert "A212345678" not in audit.target + audit.reason


def test_create_reply_without_a_reason_is_not_confirmed(member, opening_post):
    stop = stop_of(lambda: create_reply(author=member, parent=opening_post, body=IDENTIFYING))

    again = stop_of(lambda: create_reply(author=member, parent=opening_post, body=IDENTIFYING,
                                         confirmation=answer(stop, "   ")))

    assert again.check_id == stop.check_id  # the same trip, not a new one
    assert GuardCheck.objects.get().outcome == "stopped"


def test_create_reply_checks_again_text_changed_after_it_was_shown(member, opening_post):
    stop = stop_of(lambda: create_reply(author=member, parent=opening_post, body=IDENTIFYING))
    changed = IDENTIFYING + " Her SSN is 987-65-4321."

    again = stop_of(lambda: create_reply(author=member, parent=opening_post, body=changed,
                                         confirmation=answer(stop, "An example")))

    assert [finding.kind for finding in again.findings] == ["a_number", "ssn"]
    check = GuardCheck.objects.get()
    assert (check.pk, check.outcome, check.kinds) == (stop.check_id, "stopped", ["a_number", "ssn"])
    assert not Post.objects.filter(parent=opening_post).exists()


def test_create_reply_edited_until_clean_records_the_edit(member, opening_post):
    stop = stop_of(lambda: create_reply(author=member, parent=opening_post, body=IDENTIFYING))

    post = create_reply(author=member, parent=opening_post, body=CLEAN, confirmation=answer(stop, text=""))

    check = GuardCheck.objects.get()
    assert (check.outcome, check.post, check.decided_by, check.reason) == ("edited", post, member, "")
    assert check.kinds == ["a_number"]  # what the trip was about
    assert not AuditRecord.objects.filter(action="guard_confirmed").exists()


def test_create_reply_cannot_answer_someone_elses_check(member, member_factory, opening_post):
    stop = stop_of(lambda: create_reply(author=member, parent=opening_post, body=IDENTIFYING))
    other = member_factory()

    post = create_reply(author=other, parent=opening_post, body=IDENTIFYING, confirmation=answer(stop, "Mine"))

    assert GuardCheck.objects.get(pk=stop.check_id).outcome == "stopped"
    assert GuardCheck.objects.get(post=post).author == other  # a row of its own


def test_create_reply_from_the_live_room_is_recorded_as_such(member, opening_post):
    stop = stop_of(lambda: create_reply(author=member, parent=opening_post, body=IDENTIFYING,
                                        source=Post.Source.LIVE))

    assert GuardCheck.objects.get(pk=stop.check_id).source == "live"


def test_create_thread_reads_the_title_and_the_content_note(member, category):
    stop = stop_of(lambda: create_thread(author=member, category=category, title="Mr. Haile's merits hearing",
                                         body="Looking for a forensic evaluator in Denver."))
    assert stop.text.startswith("Mr. Haile's merits hearing\n\n")
    assert [stop.text[f.start:f.end] for f in stop.findings] == ["Mr. Haile"]

    note = stop_of(lambda: create_thread(author=member, category=category, title="Detention notes",
                                         content_note="About my client Mariam Tesfaye", body="Long story."))
    assert [finding.kind for finding in note.findings] == ["client_name"]
    assert not Thread.objects.exists()


def test_create_thread_confirmed_by_a_held_member_still_waits_for_a_moderator(
        held_member, category, sent, django_capture_on_commit_callbacks):
    title, body = "Mr. Haile, a case from the training", "A made-up case for next week's role play."
    stop = stop_of(lambda: create_thread(author=held_member, category=category, title=title, body=body))

    with django_capture_on_commit_callbacks(execute=True):
        thread = create_thread(author=held_member, category=category, title=title, body=body,
                               confirmation=answer(stop, "Invented for the training"))

    post = thread.posts.get()
    assert thread.held_at is not None and post.held_at is not None
    assert post.hidden_reason == HELD_MEMBER_REASON
    assert sent == [("held", post.id)]  # the moderators hear of it as of any held post
    assert GuardCheck.objects.get().outcome == "confirmed"


def test_edit_post_that_trips_keeps_the_old_text(member, opening_post):
    before = opening_post.body

    stop = stop_of(lambda: edit_post(editor=member, post_id=opening_post.id, body=IDENTIFYING))

    opening_post.refresh_from_db()
    assert opening_post.body == before and opening_post.edited_at is None
    assert not PostRevision.objects.exists()
    check = GuardCheck.objects.get(pk=stop.check_id)
    assert (check.source, check.outcome, check.post) == ("edit", "stopped", opening_post)


def test_edit_post_confirmed_is_saved_and_audited(member, opening_post, django_capture_on_commit_callbacks):
    stop = stop_of(lambda: edit_post(editor=member, post_id=opening_post.id, body=IDENTIFYING))

    with django_capture_on_commit_callbacks(execute=True):
        edit_post(editor=member, post_id=opening_post.id, body=IDENTIFYING,
                  confirmation=answer(stop, "The number on the sample notice USCIS publishes"))

    opening_post.refresh_from_db()
    assert opening_post.body == IDENTIFYING
    assert PostRevision.objects.get().post == opening_post  # a published post keeps its history
    check = GuardCheck.objects.get()
    assert (check.outcome, check.post, check.source) == ("confirmed", opening_post, "edit")
    assert AuditRecord.objects.filter(action="guard_confirmed", actor=member).count() == 1


def test_edit_post_clean_after_a_stop_records_the_edit(member, opening_post):
    stop = stop_of(lambda: edit_post(editor=member, post_id=opening_post.id, body=IDENTIFYING))

    edit_post(editor=member, post_id=opening_post.id, body=CLEAN, confirmation=answer(stop))

    assert GuardCheck.objects.get().outcome == "edited"


def test_posts_without_findings_leave_no_guard_check(member, opening_post, category):
    create_reply(author=member, parent=opening_post, body=CLEAN)
    create_thread(author=member, category=category, title="Interpreters by video", body=CLEAN)
    edit_post(editor=member, post_id=opening_post.id, body="Edited, nothing to find.")

    assert not GuardCheck.objects.exists()
