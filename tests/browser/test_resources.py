"""A member shares a resource and a moderator approves it from the queue: in Chromium, on a desktop and on a phone,
with axe-core on the form (also when the guard stops it) and on the queue."""

import pytest
from playwright.sync_api import expect

from tests.browser.test_accessibility import axe_violations, readable
from tests.browser.test_held_posts import DESKTOP, PHONE, sign_in

pytestmark = pytest.mark.browser


def test_member_shares_a_resource_and_a_moderator_approves_it(live_server_url, member, moderator_with_secret,
                                                              browser, artifacts):
    moderator, secret = moderator_with_secret
    member_email, moderator_email = member.email, moderator.email

    page = sign_in(browser, live_server_url, member_email, PHONE)
    page.goto(f"{live_server_url}/resources/submit/")
    page.get_by_label("Title").fill("Grounding exercises for groups")
    page.get_by_label("Description").fill("Five short exercises. Our client's A-number is A212345678.")
    page.get_by_label("Link (optional if you add files)").fill("https://example.org/grounding")
    domains = page.get_by_role("group", name="The five Complex Care domains")
    domains.get_by_label("Psychological").check()
    page.get_by_role("group", name="Other topics").get_by_label("Group work").check()
    page.get_by_role("group", name="Who is it for?").get_by_label("Clinicians").check()
    page.get_by_role("button", name="Send for review").click()

    expect(page.get_by_role("heading", name="Not saved yet: this may identify a client")).to_be_visible()
    expect(page.locator("mark.guard-found")).to_contain_text("A212345678")
    expect(page.get_by_label("Title")).to_have_value("Grounding exercises for groups")
    expect(domains.get_by_label("Psychological")).to_be_checked()
    page.screenshot(path=artifacts / "resource-submit-guard-phone.png", full_page=True)
    assert not (violations := axe_violations(page)), readable(violations)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    page.get_by_label("Description").fill("Five short exercises we use to open a group.")
    page.get_by_role("button", name="Send for review").click()
    expect(page.locator(".messages")).to_contain_text("is waiting for a moderator's review")
    expect(page.locator("li[id^=resource-]")).to_contain_text("Waiting for review")

    desktop = sign_in(browser, live_server_url, member_email, DESKTOP)
    desktop.goto(f"{live_server_url}/resources/submit/")
    desktop.screenshot(path=artifacts / "resource-submit-desktop.png", full_page=True)
    assert not (violations := axe_violations(desktop)), readable(violations)

    queue = sign_in(browser, live_server_url, moderator_email, PHONE, secret)
    queue.goto(f"{live_server_url}/moderation/resources/")
    row = queue.locator("li[id^=resource-]")
    expect(row).to_contain_text("Dana Member, Cascade Center for Survivors")
    expect(row).to_contain_text("Five short exercises we use to open a group.")
    expect(row).to_contain_text("Psychological, Group work")
    queue.screenshot(path=artifacts / "resource-queue-phone.png", full_page=True)
    assert not (violations := axe_violations(queue)), readable(violations)
    assert queue.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    queue.set_viewport_size(DESKTOP)
    queue.screenshot(path=artifacts / "resource-queue-desktop.png", full_page=True)

    row.get_by_role("button", name="Approve “Grounding exercises for groups”").click()
    expect(queue.locator(".messages")).to_contain_text("is in the library now")
    expect(queue.locator("li[id^=resource-]")).to_have_count(0)
