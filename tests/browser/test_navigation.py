"""The main menu in Chromium: the member's own pages sit in one "My HealTalk" disclosure, so the bar stays short on
a phone; it opens by keyboard, and axe finds nothing on the page with it open."""

import pytest
from playwright.sync_api import expect

from tests.browser.test_accessibility import axe_violations, readable
from tests.browser.test_held_posts import DESKTOP, PHONE, sign_in

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("size", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_account_menu_opens_by_keyboard_and_keeps_the_bar_short(live_server_url, member, browser, artifacts,
                                                                size, viewport):
    page = sign_in(browser, live_server_url, member.email, viewport)
    menu = page.get_by_role("navigation", name="Main")
    settings_link = menu.get_by_role("link", name="Email settings")
    expect(settings_link).to_be_hidden()
    assert menu.bounding_box()["height"] < 160  # three short lines at most, on a phone too
    page.screenshot(path=artifacts / f"nav-{size}.png")

    menu.get_by_text("My HealTalk").focus()
    page.keyboard.press("Enter")
    expect(settings_link).to_be_visible()
    page.screenshot(path=artifacts / f"nav-open-{size}.png")
    assert not (violations := axe_violations(page)), readable(violations)

    settings_link.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server_url}/mail/settings/")
