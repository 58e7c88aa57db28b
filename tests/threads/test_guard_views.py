"""The confidentiality guard on every web entry point (new thread, reply, live room, question, edit): a stopped
post is not posted and comes back with what was found marked in the author's text and everything typed kept;
the author edits it clean or ticks "This is not client information" with a reason. Moderators read every check,
with the kinds found and the reasons, never the text, at /moderation/guard/."""

import re

import pytest
from django.urls import reverse
from django.utils.html import escape

from community.models import AuditRecord
from tests.conftest import login
from tests.threads.events_helpers import make_econsultation
from threads.guard import NeedsConfirmation
from threads.guard_checks import Confirmation, text_digest
from threads.models import EConsultation, GuardCheck, LiveEvent, Post, PostRevision, Thread
from threads.services import GUARD_HELD_REASON, create_reply

from .test_guard_posting import CLEAN, IDENTIFYING

A_NUMBER = "A212345678"
MARKED = f'<mark class="guard-found">{A_NUMBER}<span class="guard-label"> [A-number]</span></mark>'
HEADING = "Not posted yet: this may identify a client"
NO_REASON = "Say in a few words why this is not client information"
CHANGED = "You changed the text after it was checked, so it was checked again"
NOTE = "describes torture methods"
REASON = "A made-up number for the training handout"
GUARD_LOG = reverse("guard_log")


def shown_check(page: str) -> dict:
    """The guard's hidden fields in a stopped page, as the browser sends them back."""
    fields = dict(re.findall(r'<input type="hidden" name="(guard-check(?:ed)?)" value="([^"]*)"', page))
    assert set(fields) == {"guard-check", "guard-checked"}, "the page shows no stop"
    return fields


def ticked(page: str, reason: str = REASON) -> dict:
    return {**shown_check(page), "guard-confirmed": "on", "guard-reason": reason}


def tick_box(page: str) -> str:
    return re.search(r'<input type="checkbox" name="guard-confirmed"[^>]*>', page).group(0)


def typed(page: str, text: str) -> bool:
    """`text` is in one of the page's text areas, as the author typed it."""
    return re.search(rf">\n?{re.escape(escape(text))}</textarea>", page) is not None


def selected(page: str, value: str) -> bool:
    return re.search(rf'<option value="{re.escape(value)}"[^>]*selected>', page) is not None


@pytest.fixture
def reader(member_factory):
    """A member who gets every post by email: what reaches them shows whether a post was published."""
    return member_factory(full_name="Rita Reader")


@pytest.fixture
def post_and_run(client, django_capture_on_commit_callbacks):
    """Posts as a browser would, running what the request scheduled on commit (live events, list mail)."""
    def post(url, data):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, data)

    return post


def assert_confirmed(check: GuardCheck, post: Post) -> None:
    assert (check.outcome, check.post, check.decided_by, check.reason) == ("confirmed", post, post.author, REASON)
    audit = AuditRecord.objects.get(action="guard_confirmed")
    assert (audit.actor, audit.reason) == (post.author, REASON)
    assert "(found: A-number)" in audit.target and A_NUMBER not in audit.target + audit.reason


# --- New thread ----------------------------------------------------------------------------------------------------

def thread_data(body=IDENTIFYING, **extra):
    return {"title": "Venue after a transfer", "body": body, "content_note_choice": NOTE, **extra}


def test_new_thread_stopped_posts_nothing_and_keeps_what_was_typed(member_client, category, reader, post_and_run,
                                                                    mailoutbox):
    response = post_and_run(reverse("new_thread"), thread_data(category=category.id))

    page = response.content.decode()
    assert response.status_code == 200
    assert HEADING in page and MARKED in page and "We found an A-number." in page
    assert 'value="Venue after a transfer"' in page and typed(page, IDENTIFYING)
    assert selected(page, str(category.id)) and selected(page, NOTE)
    assert not Thread.objects.exists() and not Post.objects.exists() and not LiveEvent.objects.exists()
    assert mailoutbox == []
    check = GuardCheck.objects.get(pk=shown_check(page)["guard-check"])
    assert (check.outcome, check.source, check.kinds, check.post) == ("stopped", "web", ["a_number"], None)


def test_new_thread_marks_what_was_found_in_the_title(member_client, category, post_and_run):
    response = post_and_run(reverse("new_thread"), thread_data(title="Mr. Haile's merits hearing", body=CLEAN,
                                                               category=category.id))

    page = response.content.decode()
    assert HEADING in page and 'value="Mr. Haile&#x27;s merits hearing"' in page
    assert '<mark class="guard-found">Mr. Haile<span class="guard-label"> [a client&#x27;s name]</span></mark>' in page
    assert not Thread.objects.exists()


def test_new_thread_confirmed_with_a_reason_is_posted(member_client, member, category, reader, post_and_run,
                                                      mailoutbox):
    data = thread_data(category=category.id)
    stopped = post_and_run(reverse("new_thread"), data).content.decode()

    response = post_and_run(reverse("new_thread"), {**data, **ticked(stopped)})

    thread = Thread.objects.get()
    assert response.status_code == 302 and response.url == thread.get_absolute_url()
    post = thread.posts.get()
    assert (post.body, post.content_note, post.held_at) == (IDENTIFYING, NOTE, None)
    assert_confirmed(GuardCheck.objects.get(), post)
    assert [message.to for message in mailoutbox] == [[reader.email]]


# --- Reply ---------------------------------------------------------------------------------------------------------

def reply_url(opening_post):
    return reverse("reply", args=[opening_post.id])


def test_reply_stopped_posts_nothing_and_keeps_what_was_typed(member_client, category, opening_post, reader,
                                                              post_and_run, mailoutbox):
    category.allow_anonymous = True
    category.save(update_fields=["allow_anonymous"])

    response = post_and_run(reply_url(opening_post),
                            {"body": IDENTIFYING, "content_note_choice": NOTE, "anonymous": "on"})

    page = response.content.decode()
    assert response.status_code == 200
    assert HEADING in page and MARKED in page
    assert typed(page, IDENTIFYING) and selected(page, NOTE)
    assert "checked" in re.search(r'<input type="checkbox" name="anonymous"[^>]*>', page).group(0)
    assert not Post.objects.filter(parent=opening_post).exists()
    assert not LiveEvent.objects.filter(post__parent=opening_post).exists()
    assert mailoutbox == []
    assert GuardCheck.objects.get().outcome == "stopped"


def test_reply_stopped_shows_the_text_as_text(member_client, opening_post, post_and_run):
    response = post_and_run(reply_url(opening_post), {"body": f"<script>alert(1)</script> {IDENTIFYING}"})

    preview = re.search(r'<div class="guard-preview".*?</div>', response.content.decode(), re.S).group(0)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in preview and "<script>" not in preview
    assert MARKED in preview


def test_reply_ticked_without_a_reason_asks_for_one(member_client, opening_post, post_and_run):
    stopped = post_and_run(reply_url(opening_post), {"body": IDENTIFYING}).content.decode()

    response = post_and_run(reply_url(opening_post), {"body": IDENTIFYING, **ticked(stopped, reason="  ")})

    page = response.content.decode()
    assert response.status_code == 200
    assert NO_REASON in page and HEADING in page and typed(page, IDENTIFYING)
    assert "checked" in tick_box(page)  # the tick answered this text: only the reason is missing
    assert not Post.objects.filter(parent=opening_post).exists()
    assert GuardCheck.objects.get().outcome == "stopped"  # the same trip, still unanswered

    response = post_and_run(reply_url(opening_post), {"body": IDENTIFYING, **ticked(page)})
    assert response.status_code == 302 and Post.objects.filter(parent=opening_post).exists()


def test_reply_with_a_reason_but_no_tick_asks_for_the_tick(member_client, opening_post, post_and_run):
    stopped = post_and_run(reply_url(opening_post), {"body": IDENTIFYING}).content.decode()

    response = post_and_run(reply_url(opening_post),
                            {"body": IDENTIFYING, **shown_check(stopped), "guard-reason": REASON})

    page = response.content.decode()
    assert response.status_code == 200
    assert "Tick this box as well to post it with your reason, or edit the text." in page
    assert typed(page, REASON) and typed(page, IDENTIFYING) and "checked" not in tick_box(page)
    assert not Post.objects.filter(parent=opening_post).exists()


def test_reply_confirmed_with_a_reason_is_posted(member_client, opening_post, reader, post_and_run, mailoutbox):
    stopped = post_and_run(reply_url(opening_post), {"body": IDENTIFYING}).content.decode()

    response = post_and_run(reply_url(opening_post), {"body": IDENTIFYING, **ticked(stopped)})

    post = Post.objects.get(parent=opening_post)
    assert response.status_code == 302 and response.url.endswith(f"#post-{post.id}")
    assert_confirmed(GuardCheck.objects.get(), post)
    assert LiveEvent.objects.filter(post=post).exists()
    assert [message.to for message in mailoutbox] == [[reader.email]]


def test_reply_edited_clean_is_posted_as_edited(member_client, opening_post, post_and_run):
    stopped = post_and_run(reply_url(opening_post), {"body": IDENTIFYING}).content.decode()

    response = post_and_run(reply_url(opening_post), {"body": CLEAN, **shown_check(stopped)})

    post = Post.objects.get(parent=opening_post)
    assert response.status_code == 302 and post.body == CLEAN
    check = GuardCheck.objects.get()
    assert (check.outcome, check.post, check.reason) == ("edited", post, "")
    assert not AuditRecord.objects.filter(action="guard_confirmed").exists()


def test_reply_ticked_but_changed_is_checked_again(member_client, opening_post, post_and_run):
    stopped = post_and_run(reply_url(opening_post), {"body": IDENTIFYING}).content.decode()
    changed = IDENTIFYING + " Her SSN is 987-65-4321."

    response = post_and_run(reply_url(opening_post), {"body": changed, **ticked(stopped)})

    page = response.content.decode()
    assert response.status_code == 200
    assert HEADING in page and CHANGED in page and MARKED in page
    assert "987-65-4321<span class=\"guard-label\"> [Social Security number]</span></mark>" in page
    assert typed(page, REASON)  # the reason is kept, the box is not ticked again
    assert "checked" not in tick_box(page)
    assert not Post.objects.filter(parent=opening_post).exists()
    assert GuardCheck.objects.get().outcome == "stopped"


# --- Live room and e-consultation questions ------------------------------------------------------------------------

@pytest.fixture
def live_econsultation(moderator, django_capture_on_commit_callbacks):
    return make_econsultation(moderator, EConsultation.LIVE, capture=django_capture_on_commit_callbacks)


def test_post_in_room_stopped_then_confirmed_is_posted_from_the_room(member_client, live_econsultation,
                                                                    post_and_run):
    url = reverse("post_in_room", args=[live_econsultation.thread_id])

    stopped = post_and_run(url, {"body": IDENTIFYING})

    page = stopped.content.decode()
    assert stopped.status_code == 200 and HEADING in page and MARKED in page
    assert typed(page, IDENTIFYING)
    assert not live_econsultation.thread.posts.filter(parent__isnull=False).exists()
    assert GuardCheck.objects.get().source == "live"

    response = post_and_run(url, {"body": IDENTIFYING, **ticked(page)})

    post = live_econsultation.thread.posts.get(parent__isnull=False)
    assert response.url == f"{reverse('live_room', args=[live_econsultation.thread_id])}#post-{post.id}"
    assert post.source == "live"
    check = GuardCheck.objects.get()
    assert check.source == "live"
    assert_confirmed(check, post)


def test_ask_question_stopped_then_confirmed_is_asked(member_client, moderator, post_and_run):
    econsultation = make_econsultation(moderator, EConsultation.OPEN)
    url = reverse("ask_question", args=[econsultation.webinar_id])

    stopped = post_and_run(url, {"body": IDENTIFYING})

    page = stopped.content.decode()
    assert stopped.status_code == 200 and HEADING in page and MARKED in page
    assert typed(page, IDENTIFYING)
    assert not Post.objects.filter(is_question=True).exists()

    response = post_and_run(url, {"body": IDENTIFYING, **ticked(page)})

    question = Post.objects.get(is_question=True)
    assert response.url == question.get_absolute_url() and question.body == IDENTIFYING
    assert_confirmed(GuardCheck.objects.get(), question)


# --- Editing a published post --------------------------------------------------------------------------------------

def test_edit_adding_an_identifying_detail_is_stopped_then_saved_when_confirmed(
        member_client, member, opening_post, reply_factory, post_and_run):
    reply = reply_factory(author=member, parent=opening_post, body=CLEAN)
    url = reverse("edit_post", args=[reply.id])

    stopped = post_and_run(url, {"body": IDENTIFYING})

    page = stopped.content.decode()
    assert stopped.status_code == 200 and "Not saved yet: this may identify a client" in page and MARKED in page
    assert typed(page, IDENTIFYING)
    reply.refresh_from_db()
    assert reply.body == CLEAN and not PostRevision.objects.filter(post=reply).exists()
    assert GuardCheck.objects.get().source == "edit"

    response = post_and_run(url, {"body": IDENTIFYING, **ticked(page)})

    assert response.status_code == 302
    reply.refresh_from_db()
    assert reply.body == IDENTIFYING
    assert PostRevision.objects.get(post=reply).body == CLEAN
    assert_confirmed(GuardCheck.objects.get(), reply)


# --- The moderators' log -------------------------------------------------------------------------------------------

def stop(**kwargs) -> NeedsConfirmation:
    with pytest.raises(NeedsConfirmation) as stopped:
        create_reply(**kwargs)
    return stopped.value


@pytest.fixture
def confirmed_reply(member, opening_post):
    """A reply its author confirmed, through the service as the form does."""
    first = stop(author=member, parent=opening_post, body=IDENTIFYING)
    return create_reply(author=member, parent=opening_post, body=IDENTIFYING,
                        confirmation=Confirmation(first.check_id, REASON, text_digest(first.text)))


def test_guard_log_page_refused_to_members(member_client, confirmed_reply):
    response = member_client.get(GUARD_LOG)

    assert response.status_code == 403
    assert REASON not in response.content.decode()


def test_guard_log_page_sends_a_moderator_without_two_step_sign_in_to_set_it_up(client, member_factory):
    login(client, member_factory(role="moderator"))

    assert client.get(GUARD_LOG)["Location"] == reverse("mfa_activate_totp")


def test_guard_log_page_shows_kinds_and_reasons_never_the_text(moderator_client, confirmed_reply):
    response = moderator_client.get(GUARD_LOG)

    page = response.content.decode()
    assert response.status_code == 200
    check = GuardCheck.objects.get()
    row = re.search(rf'<tr id="guard-check-{check.id}">.*?</tr>', page, re.S).group(0)
    assert "An A-number" in row and REASON in row and "Dana Member" in row
    assert "Author confirmed it is not client information" in row and "by the author" in row
    assert f'href="{confirmed_reply.get_absolute_url()}">Post #{confirmed_reply.id}</a>' in row
    assert A_NUMBER not in page and "fix the venue" not in page


def test_guard_log_page_filters_by_outcome(moderator_client, member, opening_post, confirmed_reply):
    stopped = stop(author=member, parent=opening_post, body="Her SSN is 987-65-4321.")
    confirmed = GuardCheck.objects.get(outcome="confirmed")

    page = moderator_client.get(GUARD_LOG, {"outcome": "confirmed"}).content.decode()

    assert f'id="guard-check-{confirmed.id}"' in page and f'id="guard-check-{stopped.check_id}"' not in page
    assert selected(page, "confirmed")
    everything = moderator_client.get(GUARD_LOG).content.decode()
    assert f'id="guard-check-{confirmed.id}"' in everything and f'id="guard-check-{stopped.check_id}"' in everything


@pytest.mark.parametrize("count", [1, 10])
def test_guard_log_page_query_count_is_constant(moderator_client, moderator, member_factory, opening_post,
                                                reply_factory, django_assert_num_queries, count):
    for n in range(count):
        author = member_factory()
        post = reply_factory(author=author, parent=opening_post, body=f"Reply {n}")
        GuardCheck.objects.create(author=author, post=post, source="web", outcome="released", decided_by=moderator,
                                  findings=[{"kind": "a_number", "start": 0, "end": 10, "score": 0.85}],
                                  reason=f"Reason {n}")
    moderator_client.get(GUARD_LOG)

    # user, member, TOTP check, the page's count, the count per outcome, held posts waiting (moderation menu),
    # the checks with their authors, deciders and posts
    with django_assert_num_queries(7):
        page = moderator_client.get(GUARD_LOG).content.decode()

    assert page.count('<tr id="guard-check-') == count
    assert all(f"Reason {n}" in page for n in range(count))


def test_moderation_nav_links_to_the_guard_log(moderator_client):
    page = moderator_client.get(reverse("held_posts")).content.decode()

    assert f'<a href="{GUARD_LOG}">Confidentiality guard</a>' in page
    assert f'<a href="{GUARD_LOG}" aria-current="page">' in moderator_client.get(GUARD_LOG).content.decode()


# --- The held-posts queue ------------------------------------------------------------------------------------------

def test_held_post_queue_shows_an_emailed_post_the_guard_held_with_its_reason(moderator_client, member,
                                                                              opening_post):
    held = create_reply(author=member, parent=opening_post, body=IDENTIFYING, source=Post.Source.EMAIL)
    assert held.held_at is not None

    page = moderator_client.get(reverse("held_posts")).content.decode()

    assert f'id="held-{held.id}"' in page
    assert GUARD_HELD_REASON.format(found="an A-number") in page
    assert reverse("approve_held_post", args=[held.id]) in page
