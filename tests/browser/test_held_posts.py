"""A held member posts, sees their post waiting, and a moderator approves it from the queue: in Chromium, on a
desktop and on a phone, with axe-core on both pages."""

import time

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from playwright.sync_api import expect

from tests.browser.test_accessibility import axe_violations, readable
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def sign_in(browser, base_url, email, viewport, totp_secret=None, **context_options):
    page = browser.new_context(viewport=viewport, **context_options).new_page()
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_login", email)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    if totp_secret:
        page.fill("#id_code", format_hotp_value(hotp_value(totp_secret, int(time.time()) // 30)))
        page.get_by_role("button", name="Sign In").click()
    expect(page).to_have_url(f"{base_url}/")
    return page


def test_held_post_waits_for_the_author_and_a_moderator_approves_it(
    live_server_url, held_member, moderator_with_secret, member, thread, browser, artifacts
):
    moderator, secret = moderator_with_secret
    thread_url = f"{live_server_url}{thread.get_absolute_url()}"
    author_email, moderator_email, reader_email = held_member.email, moderator.email, member.email

    author = sign_in(browser, live_server_url, author_email, DESKTOP)
    author.goto(thread_url)
    expect(author.locator("#reply-heading ~ .help")).to_contain_text("Your posts wait for a moderator")
    author.fill("#id_body", "We use a **grounding** exercise at the start of every session. Happy to share it.")
    author.get_by_role("button", name="Post reply").click()
    expect(author.locator(".messages")).to_contain_text("Your post is waiting for a moderator.")
    held = author.locator("article.post", has_text="grounding")
    expect(held).to_contain_text("Waiting for a moderator. Only you and the moderators can see this post.")
    expect(held.get_by_role("link", name="Reply")).to_have_count(0)
    author.screenshot(path=artifacts / "held-post-author-desktop.png", full_page=True)
    assert not (violations := axe_violations(author)), readable(violations)

    phone = sign_in(browser, live_server_url, author_email, PHONE)
    phone.goto(thread_url)
    expect(phone.locator("article.post", has_text="grounding")).to_contain_text("Waiting for a moderator.")
    phone.screenshot(path=artifacts / "held-post-author-phone.png", full_page=True)

    reader = sign_in(browser, live_server_url, reader_email, DESKTOP)
    reader.goto(thread_url)
    expect(reader.locator("article.post")).to_have_count(1)  # only the opening post

    queue = sign_in(browser, live_server_url, moderator_email, PHONE, secret)
    queue.goto(f"{live_server_url}/moderation/posts/held/")
    expect(queue.get_by_role("link", name="Held posts 1 waiting")).to_be_visible()
    row = queue.locator("li[id^=held-]")
    expect(row).to_contain_text("Hal Held")
    expect(row).to_contain_text("A moderator approves each post by this member before it is published.")
    queue.get_by_text("Reject…").click()  # the reason form opens in place
    expect(row.get_by_label("Why is it not published? The author is told.")).to_be_visible()
    queue.screenshot(path=artifacts / "held-posts-queue-phone.png", full_page=True)
    assert not (violations := axe_violations(queue)), readable(violations)
    queue.set_viewport_size(DESKTOP)
    queue.screenshot(path=artifacts / "held-posts-queue-desktop.png", full_page=True)

    row.get_by_role("button", name="Approve and publish the post by Hal Held").click()
    expect(queue.locator(".messages")).to_contain_text("The post by Hal Held is published and sent to the list.")
    expect(queue.locator("li[id^=held-]")).to_have_count(0)

    reader.goto(thread_url)
    expect(reader.locator("article.post", has_text="grounding")).to_be_visible()
    expect(reader.locator("article.post", has_text="grounding")).not_to_contain_text("Waiting for a moderator")
