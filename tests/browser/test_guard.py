"""The confidentiality guard in Chromium, on a desktop and on a phone: an emailed reply with an A-number is held,
its author edits it clean from the link in our answer and publishes it while nobody else sees it, and a moderator
reads the guard log without the number; a web reply with a client's name is stopped, shown marked, and confirmed
with a reason. axe-core on each page."""

import re

import pytest
from playwright.sync_api import expect

from mailer import inbound
from tests.browser.test_accessibility import axe_violations, readable
from tests.browser.test_held_posts import DESKTOP, PHONE, sign_in
from tests.mailer.inbound_mail import auto_replies, reply_address
from threads.models import Post

pytestmark = pytest.mark.browser

A_NUMBER = "A212345678"
CLIENT_NAME = "Mariam Tesfaye"
HELD_REPLY = f"My client's A-number is {A_NUMBER}; can EOIR fix the venue after her move?"
EDITED_REPLY = "My client's hearing notice went to the wrong court; can EOIR fix the venue after her move?"


def emailed_reply(post, member, body: str) -> bytes:
    address = reply_address(post, member)
    return (
        f"From: {member.full_name} <{member.email}>\r\n"
        f"To: {address}\r\n"
        f"Subject: Re: {post.thread.title}\r\n"
        f"Message-ID: <guard-browser-{post.id}-{member.id}@cascade.example.org>\r\n"
        f"In-Reply-To: {post.message_id}\r\nReferences: {post.message_id}\r\n"
        "Date: Mon, 3 Mar 2025 12:02:11 -0500\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=UTF-8\r\n\r\n"
        f"{body}\r\n"
    ).encode()


@pytest.fixture
def held_by_email(member_factory, opening_post, mailoutbox, django_capture_on_commit_callbacks):
    """A member's emailed reply with an A-number, through the inbound path: held, and the sender alone told, with
    the edit link (returned as a path, since the email names SITE_URL rather than the test server)."""
    author = member_factory(full_name="Rosa Alvarez")
    with django_capture_on_commit_callbacks(execute=True):
        inbound.receive_raw(emailed_reply(opening_post, author, HELD_REPLY))
    post = Post.objects.get(parent=opening_post, author=author)
    assert post.held_at is not None
    [notice] = [message for message in auto_replies(mailoutbox) if message.to == [author.email]]
    assert notice.subject == "Not published yet: your message may identify a client"
    assert A_NUMBER not in notice.body
    edit_path = re.search(r"https?://[^/\s]+(/posts/\d+/edit/)", notice.body).group(1)
    assert edit_path == f"/posts/{post.id}/edit/"
    return author, edit_path


def focused_id(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


def no_axe_violations(page):
    assert not (violations := axe_violations(page)), readable(violations)


def test_held_emailed_post_is_edited_clean_by_its_author_and_published(
    live_server_url, held_by_email, thread, member, moderator_with_secret, browser, artifacts
):
    (author, edit_path), (moderator, secret) = held_by_email, moderator_with_secret
    thread_url, edit_url = f"{live_server_url}{thread.get_absolute_url()}", f"{live_server_url}{edit_path}"
    author_email, reader_email, moderator_email, author_name = author.email, member.email, moderator.email, \
        author.full_name

    page = sign_in(browser, live_server_url, author_email, DESKTOP)
    page.goto(edit_url)
    expect(page.locator("h1")).to_have_text("Your post is not published yet")
    panel = page.locator("#guard-check")
    expect(panel.locator("#guard-heading")).to_have_text("Not published yet: this may identify a client")
    expect(panel).to_contain_text("nothing was sent to the list")
    expect(panel.locator("mark.guard-found")).to_have_count(1)
    expect(panel.locator("mark.guard-found")).to_contain_text(A_NUMBER)
    expect(panel.locator("mark.guard-found .guard-label")).to_have_text("[A-number]")
    expect(page.locator("#id_body")).to_have_value(HELD_REPLY)
    expect(panel).to_be_focused()  # guard.js moves focus to what was found
    assert focused_id(page) == "guard-check"
    page.screenshot(path=artifacts / "guard-held-edit-desktop.png", full_page=True)
    no_axe_violations(page)

    phone = sign_in(browser, live_server_url, author_email, PHONE)
    phone.goto(edit_url)
    expect(phone.locator("#guard-check mark.guard-found")).to_contain_text(A_NUMBER)
    phone.screenshot(path=artifacts / "guard-held-edit-phone.png", full_page=True)
    no_axe_violations(phone)

    reader = sign_in(browser, live_server_url, reader_email, DESKTOP)
    reader.goto(thread_url)
    expect(reader.locator("article.post")).to_have_count(1)  # the opening post alone
    expect(reader.locator("main")).not_to_contain_text(A_NUMBER)
    expect(reader.locator("main")).not_to_contain_text(author_name)
    assert reader.goto(edit_url).status == 404  # nor can they open the held post's page

    page.fill("#id_body", EDITED_REPLY)
    page.get_by_role("button", name="Publish").click()
    expect(page.locator(".messages")).to_contain_text("Your post is published and sent to the list.")
    published = page.locator("article.post", has_text="wrong court")
    expect(published).to_be_visible()
    expect(published).not_to_contain_text("Waiting for a moderator")
    expect(page.locator("main")).not_to_contain_text(A_NUMBER)

    reader.goto(thread_url)
    expect(reader.locator("article.post", has_text="wrong court")).to_contain_text(author_name)
    expect(reader.locator("article.post")).to_have_count(2)

    log = sign_in(browser, live_server_url, moderator_email, DESKTOP, secret)
    log.goto(f"{live_server_url}/moderation/guard/")
    expect(log.locator("h1")).to_have_text("Confidentiality guard")
    row = log.locator("tr[id^=guard-check-]")
    expect(row).to_have_count(1)
    expect(row.locator("td[data-label=Who]")).to_have_text(author_name)
    expect(row.locator("td[data-label=Found]")).to_contain_text("A-number")
    expect(row.locator("td[data-label='What happened']")).to_contain_text("Edited until nothing was found")
    expect(row.locator("td[data-label='What happened']")).to_contain_text("by the author")
    expect(row).to_contain_text("Email")
    expect(log.locator("body")).not_to_contain_text(A_NUMBER)
    assert A_NUMBER not in log.content()
    log.screenshot(path=artifacts / "guard-log-desktop.png", full_page=True)
    no_axe_violations(log)
    log.set_viewport_size(PHONE)
    log.screenshot(path=artifacts / "guard-log-phone.png", full_page=True)
    no_axe_violations(log)


@pytest.fixture
def reader(member_factory):
    return member_factory(full_name="Sam Reader")


def test_web_reply_with_a_clients_name_is_stopped_then_confirmed_with_a_reason(
    live_server_url, thread, member, reader, browser, artifacts
):
    thread_url, author_email, reader_email = f"{live_server_url}{thread.get_absolute_url()}", member.email, \
        reader.email
    typed = (f"My client {CLIENT_NAME} has her asylum interview next week in Arlington. "
             "She wants me in the room. Has anyone been allowed to sit in as a support person?")
    reason = "A made-up name for the example, not a client."

    page = sign_in(browser, live_server_url, author_email, DESKTOP)
    page.goto(thread_url)
    page.fill("#id_body", typed)
    page.get_by_role("button", name="Post reply").click()

    panel = page.locator("#guard-check")
    expect(panel.locator("#guard-heading")).to_have_text("Not posted yet: this may identify a client")
    expect(panel.locator("mark.guard-found")).to_contain_text(CLIENT_NAME)
    expect(panel.locator("mark.guard-found .guard-label")).to_contain_text("a client's name")
    expect(panel).to_be_focused()
    assert focused_id(page) == "guard-check"
    expect(page.locator("#id_body")).to_have_value(typed)  # what was typed is kept
    page.screenshot(path=artifacts / "guard-stopped-reply-desktop.png", full_page=True)
    no_axe_violations(page)

    phone = sign_in(browser, live_server_url, author_email, PHONE)
    phone.goto(thread_url)
    phone.fill("#id_body", typed)
    phone.get_by_role("button", name="Post reply").click()
    expect(phone.locator("#guard-check mark.guard-found")).to_contain_text(CLIENT_NAME)
    phone.screenshot(path=artifacts / "guard-stopped-reply-phone.png", full_page=True)
    no_axe_violations(phone)

    other = sign_in(browser, live_server_url, reader_email, DESKTOP)
    other.goto(thread_url)
    expect(other.locator("article.post")).to_have_count(1)  # nothing was posted

    page.get_by_label("This is not client information").check()
    page.get_by_role("button", name="Post reply").click()  # ticked, but no reason
    why = page.get_by_label("Why not? (required when you tick the box)")
    expect(why).to_have_attribute("aria-invalid", "true")
    expect(why).to_have_accessible_description(re.compile("^Say in a few words why this is not client information"))
    expect(page.locator("#guard-check mark.guard-found")).to_contain_text(CLIENT_NAME)
    expect(page.locator("#id_body")).to_have_value(typed)
    expect(page.locator("#guard-check")).to_be_focused()
    page.screenshot(path=artifacts / "guard-stopped-reply-no-reason-desktop.png", full_page=True)
    no_axe_violations(page)

    page.get_by_label("This is not client information").check()
    why.fill(reason)
    page.get_by_role("button", name="Post reply").click()
    expect(page).to_have_url(re.compile(re.escape(thread_url)))
    expect(page.locator("article.post", has_text=CLIENT_NAME)).to_be_visible()
    expect(page.locator("#guard-check")).to_have_count(0)

    other.goto(thread_url)
    expect(other.locator("article.post", has_text=CLIENT_NAME)).to_be_visible()
    expect(other.locator("article.post")).to_have_count(2)
