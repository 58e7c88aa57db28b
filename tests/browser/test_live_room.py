"""The live e-consultation room in Chromium: posts appear without reload, hosts pin a question, and a member
whose connection drops catches up on reconnect with every missed post exactly once."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_live_thread import log_in
from tests.threads.events_helpers import make_econsultation
from threads.models import EConsultation

pytestmark = pytest.mark.browser


@pytest.fixture
def room_url(live_server_url, moderator, member_factory):
    econsultation = make_econsultation(moderator, EConsultation.LIVE)
    return f"{live_server_url}/threads/{econsultation.thread_id}/live/", econsultation


@pytest.fixture
def people(member, member_factory, room_url):
    _, econsultation = room_url
    host = member_factory(full_name="Pat Presenter")
    econsultation.hosts.add(host)
    return {"reader": member, "writer": member_factory(full_name="Rae Replier"),
            "latecomer": member_factory(full_name="Lee Latecomer"), "host": host}


def enter_room(browser, live_server_url, url, member):
    page = log_in(browser, live_server_url, member)
    page.goto(url)
    expect(page.locator("#live-status")).to_have_attribute("data-live", "on", timeout=10_000)
    page.evaluate("window.sameDocument = true")
    return page


def post_in_room(page, url, body):
    page.goto(url)
    page.fill("#id_body", body)
    page.get_by_role("button", name="Post", exact=True).click()
    expect(page).to_have_url(re.compile(r"/live/#post-\d+$"))
    expect(page.locator("#posts")).to_contain_text(body)


def test_live_room_shows_posts_live_and_catches_up_after_going_offline(
        live_server_url, room_url, people, browser, artifacts):
    url, _ = room_url
    reader = enter_room(browser, live_server_url, url, people["reader"])
    latecomer = enter_room(browser, live_server_url, url, people["latecomer"])
    writer = log_in(browser, live_server_url, people["writer"])
    writer.goto(url)
    expect(reader.locator("#presence-list")).to_contain_text("Rae Replier", timeout=10_000)
    expect(reader.locator("#presence-list")).to_contain_text("Lee Latecomer")

    post_in_room(writer, url, "How do you close a group when one member is in crisis?")
    expect(reader.locator("#posts")).to_contain_text("one member is in crisis", timeout=10_000)
    expect(reader.locator("#live-announcer")).to_have_text("New post from Rae Replier.")

    latecomer.context.set_offline(True)
    expect(latecomer.locator("#live-status")).to_have_attribute("data-live", "off", timeout=10_000)
    missed = ["First missed post.", "Second missed post.", "Third missed post."]
    for body in missed:
        post_in_room(writer, url, body)
    expect(reader.locator("#posts")).to_contain_text(missed[-1], timeout=10_000)
    expect(latecomer.locator("#posts")).not_to_contain_text(missed[0])

    latecomer.context.set_offline(False)
    expect(latecomer.locator("#live-status")).to_have_attribute("data-live", "on", timeout=10_000)
    expect(latecomer.locator("#posts")).to_contain_text(missed[-1], timeout=10_000)
    bodies = latecomer.locator("#posts article.post .body").all_inner_texts()
    assert [body for body in bodies if body.strip() in missed] == missed, bodies  # each once, in order
    assert latecomer.evaluate("window.sameDocument") is True, "the page was reloaded"
    assert reader.evaluate("window.sameDocument") is True, "the page was reloaded"
    latecomer.screenshot(path=artifacts / "live-room-caught-up.png", full_page=True)


def test_live_room_host_highlights_a_question_for_everyone(live_server_url, room_url, people, browser, artifacts):
    url, _ = room_url
    reader = enter_room(browser, live_server_url, url, people["reader"])
    writer = log_in(browser, live_server_url, people["writer"])
    post_in_room(writer, url, "Do you screen for vicarious trauma in co-facilitators?")
    host = enter_room(browser, live_server_url, url, people["host"])

    host.get_by_role("button", name="Highlight").last.click()

    pinned = reader.locator("#pinned-questions")
    expect(pinned).to_contain_text("Question from Rae Replier", timeout=10_000)
    expect(pinned).to_contain_text("vicarious trauma")
    expect(host.locator("#pinned-questions")).to_contain_text("vicarious trauma")
    live_post = reader.locator("#posts .post-wrap").last  # arrived live on the reader's page
    expect(live_post.locator(".question-badge")).to_have_text("Highlighted")
    assert reader.evaluate("window.sameDocument") is True, "the page was reloaded"
    reader.set_viewport_size({"width": 390, "height": 844})
    assert reader.evaluate("document.documentElement.scrollWidth") <= 390, "the room scrolls sideways on a phone"
    reader.screenshot(path=artifacts / "live-room-pinned-390.png", full_page=True)

    host.get_by_role("button", name="answered").last.click()
    expect(pinned).not_to_contain_text("vicarious trauma", timeout=10_000)
    expect(reader.locator("#no-pinned")).to_be_visible()
    expect(live_post.locator(".question-badge")).to_have_text("Answered")


@pytest.fixture
def draft(member_factory, thread, reply_factory):
    author = member_factory(full_name="Rae Replier")
    return author, member_factory(full_name="Fay Fan"), reply_factory(
        author=author, parent=thread.posts.get(), body="Draft wording.")


def test_live_thread_applies_edits_reactions_and_deletions_in_place(
        live_server_url, member, thread, draft, browser):
    writer_member, fan, post = draft
    thread_url = f"{live_server_url}{thread.get_absolute_url()}"
    reader = log_in(browser, live_server_url, member)
    reader.goto(thread_url)
    expect(reader.locator("#live-status")).to_have_attribute("data-live", "on", timeout=10_000)
    reader.evaluate("window.sameDocument = true")
    article = reader.locator(f"#post-{post.id}")

    writer = log_in(browser, live_server_url, writer_member)
    writer.goto(f"{live_server_url}/posts/{post.id}/edit/")
    writer.fill("#id_body", "Final wording.")
    writer.get_by_role("button", name="Save changes").click()
    expect(article.locator(".body")).to_have_text("Final wording.", timeout=10_000)
    expect(article).to_contain_text("edited")
    expect(article.get_by_role("button", name="Bookmark")).to_be_visible()  # the reader's own buttons stay

    liker = log_in(browser, live_server_url, fan)
    liker.goto(thread_url)
    liker.locator(f"#post-{post.id}").get_by_role("button", name="Helpful").click()
    expect(article.locator(".helpful-count")).to_have_text("1", timeout=10_000)

    writer.goto(f"{live_server_url}/posts/{post.id}/delete/")
    writer.get_by_role("button", name="Delete the post").click()
    expect(article).to_contain_text("This post was deleted.", timeout=10_000)
    expect(article).not_to_contain_text("Final wording.")
    assert reader.evaluate("window.sameDocument") is True, "the page was reloaded"
