"""A newly approved member's first visit in Chromium: signing in lands on Start here, they agree to the pledge,
choose a daily digest and finish; on a desktop and on a phone, with axe-core on the page."""

import pytest
from playwright.sync_api import expect

from mailer.models import MailPreference
from tests.browser.test_accessibility import axe_violations, readable
from tests.browser.test_held_posts import sign_in
from tests.conftest import PASSWORD
from threads.models import Category, Resource, Thread
from threads.services import create_thread

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def newcomer(member_factory):
    return member_factory(full_name="Nia Newcomer", welcomed=False, mail_mode=MailPreference.Mode.EACH)


@pytest.fixture
def starter(moderator, category):
    Category.objects.create(name="Introductions", slug="introductions", description="Say hello.")
    pinned = create_thread(author=moderator, category=category, title="Read this first: how we work here",
                           body="Welcome, everyone.")
    Thread.objects.filter(pk=pinned.pk).update(pinned=True)
    Resource.objects.create(title="Your first month in a torture treatment program", description="A guide.",
                            description_html="<p>A guide.</p>", audiences=[Resource.Audience.NEW_EMPLOYEE],
                            status=Resource.Status.APPROVED, url="https://example.org/first-month")


def _sign_in(browser, base_url, email, viewport):
    page = browser.new_context(viewport=viewport).new_page()
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_login", email)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    return page


def test_new_member_is_welcomed_agrees_chooses_a_daily_digest_and_finishes(
    live_server_url, newcomer, starter, browser, artifacts
):
    email = newcomer.email
    page = _sign_in(browser, live_server_url, email, DESKTOP)
    expect(page).to_have_url(f"{live_server_url}/start/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Start here")
    expect(page.locator("#pledge")).to_contain_text("I will never post anything that could identify a client")
    expect(page.locator("#introductions")).to_contain_text("introductions@")
    expect(page.locator("#starter")).to_contain_text("Read this first: how we work here")
    expect(page.locator("#starter")).to_contain_text("Your first month in a torture treatment program")

    page.get_by_role("button", name="I agree").click()
    expect(page.locator("#pledge-agreed")).to_contain_text("You agreed")
    expect(page.get_by_role("button", name="I agree")).to_have_count(0)

    page.get_by_label("One daily digest").check()
    page.get_by_role("button", name="Save my email choice").click()
    expect(page.locator("#email [role=status]")).to_contain_text("List email now reaches you as: One daily digest.")
    expect(page.get_by_label("One daily digest")).to_be_checked()
    page.screenshot(path=artifacts / "welcome-desktop.png", full_page=True)
    assert not (violations := axe_violations(page)), readable(violations)

    phone = _sign_in(browser, live_server_url, email, PHONE)
    expect(phone).to_have_url(f"{live_server_url}/start/")  # not finished yet: still the first stop
    expect(phone.locator("#pledge-agreed")).to_be_visible()
    phone.screenshot(path=artifacts / "welcome-phone.png", full_page=True)
    assert not (violations := axe_violations(phone)), readable(violations)
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # nothing wider than the phone

    phone.get_by_role("button", name="Done — take me to the discussions").click()
    expect(phone).to_have_url(f"{live_server_url}/")
    expect(phone.locator(".messages")).to_contain_text("“Start here” stays in the menu")
    expect(phone.locator("#start-here-banner")).to_have_count(0)

    later = _sign_in(browser, live_server_url, email, DESKTOP)
    expect(later).to_have_url(f"{live_server_url}/")
    later.get_by_role("navigation", name="Main").get_by_role("link", name="Start here").click()
    expect(later.locator("#pledge-agreed")).to_be_visible()



def test_moderator_changes_the_welcome_previews_and_saves_it(live_server_url, moderator_with_secret, browser,
                                                            artifacts):
    moderator, secret = moderator_with_secret
    page = sign_in(browser, live_server_url, moderator.email, PHONE, secret)
    page.goto(f"{live_server_url}/moderation/start-here/")
    page.get_by_label("Welcome, at the top of Start here").fill("Glad **you** are here.")
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("region", name="Preview: Welcome, at the top of Start here")).to_contain_text(
        "Glad you are here.")
    expect(page.get_by_role("textbox", name="Welcome, at the top of Start here")).to_have_value(
        "Glad **you** are here.")
    page.screenshot(path=artifacts / "start-here-edit-phone.png", full_page=True)
    assert not (violations := axe_violations(page)), readable(violations)

    page.get_by_role("button", name="Save").click()
    expect(page.locator(".messages")).to_contain_text("Start here and the guidelines page show the new words now.")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Start here").click()
    expect(page.locator(".start-welcome strong")).to_have_text("you")
