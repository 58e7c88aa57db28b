"""Members' own data in Chromium, on a desktop and on a phone (390 px), with axe-core on every page: a member
downloads their data and asks to be erased, someone who can no longer sign in asks for a link, and a moderator
erases the member from the queue; their post then reads "Former member"."""

import pytest
from playwright.sync_api import expect

from community.erasure import erasure_link_path
from tests.browser.test_accessibility import axe_violations, readable
from tests.browser.test_held_posts import DESKTOP, PHONE, sign_in

pytestmark = pytest.mark.browser


def _look(page, artifacts, name):
    """Both sizes for the screenshots; axe on each."""
    for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(viewport)
        page.screenshot(path=artifacts / f"{name}-{size}.png", full_page=True)
        assert not (violations := axe_violations(page)), f"{name} ({size})\n{readable(violations)}"
    page.set_viewport_size(DESKTOP)


@pytest.fixture
def departed_link(member_factory):
    """The link a member who already left gets by email (made here: the browser fixture forbids the ORM)."""
    departed = member_factory(full_name="Lee Left", status="departed")
    return erasure_link_path(departed.user.emailaddress_set.get())


def test_member_downloads_data_asks_to_be_erased_and_a_moderator_erases(
    live_server_url, member, thread, moderator_with_secret, departed_link, browser, artifacts
):
    moderator, secret = moderator_with_secret
    member_email, moderator_email, thread_url = member.email, moderator.email, thread.get_absolute_url()

    page = sign_in(browser, live_server_url, member_email, DESKTOP)
    page.goto(f"{live_server_url}/profile/")
    page.get_by_role("link", name="download my data").click()
    expect(page.locator("h1")).to_have_text("Download my data")
    _look(page, artifacts, "my-data")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download my data").click()
    assert download.value.suggested_filename.startswith("healtalk-data-")

    page.goto(f"{live_server_url}/profile/leave/")
    page.get_by_role("link", name="Ask to be erased").click()
    expect(page.get_by_role("heading", name="What stays")).to_be_visible()
    _look(page, artifacts, "erasure-request")
    page.get_by_label("Anything the moderators should know (optional)").fill("Thank you all.")
    page.get_by_role("button", name="Ask to be erased").click()
    expect(page.get_by_text("Tick the box to confirm that you want to be erased.")).to_be_visible()
    page.get_by_label("I understand.").check()
    page.get_by_role("button", name="Ask to be erased").click()
    expect(page.locator("h1")).to_have_text("Your request is with the moderators")
    _look(page, artifacts, "erasure-requested")

    visitor = browser.new_context(viewport=DESKTOP).new_page()
    visitor.goto(f"{live_server_url}/application/erase/")
    _look(visitor, artifacts, "erasure-link-form")
    visitor.get_by_label("An email address of your HealTalk account").fill("someone@example.org")
    visitor.get_by_role("button", name="Email me the link").click()
    expect(visitor.locator("h1")).to_have_text("Check your email")
    _look(visitor, artifacts, "erasure-link-sent")
    visitor.goto(f"{live_server_url}{departed_link}")
    expect(visitor.get_by_text("Lee Left, you can ask us to erase")).to_be_visible()
    _look(visitor, artifacts, "erasure-link-request")

    queue = sign_in(browser, live_server_url, moderator_email, DESKTOP, secret)
    queue.goto(f"{live_server_url}/moderation/erasure/")
    request = queue.locator("li[id^=erasure-]")
    expect(request).to_contain_text("Dana Member")
    expect(request).to_contain_text("Thank you all.")
    request.get_by_text("Erase…").click()
    _look(queue, artifacts, "erasure-queue")
    request.get_by_label("I have read what goes and what stays.").check()
    request.get_by_role("button", name="Erase now").click()
    expect(queue.locator("h1")).to_have_text("Erased")
    expect(queue.get_by_text("Posts, now shown as by “Former member”: 1")).to_be_visible()
    _look(queue, artifacts, "erasure-done")

    queue.goto(f"{live_server_url}{thread_url}")
    opening = queue.locator("article.post").first
    expect(opening.locator(".author")).to_have_text("Former member")
    expect(queue.locator("main")).not_to_contain_text("Dana Member")
    queue.screenshot(path=artifacts / "erasure-thread-after-desktop.png", full_page=True)
