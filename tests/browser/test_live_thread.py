import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

REPLY = "We open each group with a short grounding exercise."


@pytest.fixture
def replier(member_factory):
    return member_factory(full_name="Rae Replier")


def log_in(browser, base_url, member):
    page = browser.new_context().new_page()
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_login", member.user.email)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base_url}/")
    return page


def test_live_thread_shows_new_reply_without_reload(live_server_url, member, replier, thread, browser, artifacts):
    thread_url = f"{live_server_url}{thread.get_absolute_url()}"
    reader = log_in(browser, live_server_url, member)
    reader.goto(thread_url)
    expect(reader.locator("#live-status")).to_have_attribute("data-live", "on", timeout=10_000)
    reader.evaluate("window.sameDocument = true")

    writer = log_in(browser, live_server_url, replier)
    writer.goto(thread_url)
    writer.fill("#id_body", REPLY)
    writer.get_by_role("button", name="Post reply").click()
    expect(writer.locator("#posts")).to_contain_text(REPLY)

    new_post = reader.locator("#posts article.post").last
    expect(new_post).to_contain_text(REPLY, timeout=10_000)
    expect(new_post).to_contain_text("Rae Replier")
    expect(reader.locator("#live-announcer")).to_have_text("New reply from Rae Replier.")
    assert reader.evaluate("window.sameDocument") is True, "the page was reloaded"
    reader.screenshot(path=artifacts / "live-thread.png", full_page=True)


def test_home_page_shows_new_thread_without_reload(live_server_url, member, replier, category, browser, artifacts):
    reader = log_in(browser, live_server_url, member)
    expect(reader.locator("#thread-list")).to_have_attribute("data-live", "on", timeout=10_000)
    reader.evaluate("window.sameDocument = true")

    writer = log_in(browser, live_server_url, replier)
    writer.goto(f"{live_server_url}/threads/new/")
    writer.select_option("#id_category", label=category.name)
    writer.fill("#id_title", "Working with interpreters in groups")
    writer.fill("#id_body", "How do you brief interpreters before a group session?")
    writer.get_by_role("button", name="Post thread").click()
    expect(writer.locator("h1")).to_have_text("Working with interpreters in groups")

    newest = reader.locator("#thread-list > li").first
    expect(newest).to_contain_text("Working with interpreters in groups", timeout=10_000)
    expect(newest).to_contain_text("started by Rae Replier")
    assert reader.evaluate("window.sameDocument") is True, "the page was reloaded"
    reader.screenshot(path=artifacts / "live-home.png", full_page=True)
