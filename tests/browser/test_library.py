"""A member browses the library, searches it, opens a resource and copies its link to cite it: in Chromium, on a
desktop and on a phone, with axe-core on the library and the resource page."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_accessibility import axe_violations, readable
from tests.browser.test_held_posts import DESKTOP, PHONE, sign_in
from threads.models import ResourceTopic

pytestmark = pytest.mark.browser


@pytest.fixture
def library(resource_factory, thread_factory, member):
    # The flush after each browser test (a transactional database) also removes the topics the migration seeded.
    for slug, name, domain in [("psychological", "Psychological", True), ("group-work", "Group work", False),
                               ("legal", "Legal", False)]:
        ResourceTopic.objects.get_or_create(slug=slug, defaults={"name": name, "complex_care_domain": domain})
    grounding = resource_factory(
        title="Grounding exercises for groups", description="Five short **exercises** to open a session.",
        url="https://example.org/a-rather-long-address/that-must-wrap-on-a-phone/grounding-exercises.pdf",
        topics=["psychological", "group-work"], audiences=["clinician", "new_employee"],
    )
    resource_factory(title="Asylum hearing preparation", description="What to tell clients.", topics=["legal"],
                     language="Spanish", link_status="broken", url="https://example.org/gone")
    thread_factory(title="Opening a new group", body=f"We use [this]({grounding.get_absolute_url()}).")
    return grounding.pk


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_member_browses_searches_and_cites_a_resource(live_server_url, member, library, browser, artifacts,
                                                      viewport):
    page = sign_in(browser, live_server_url, member.email, viewport)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    name = "desktop" if viewport is DESKTOP else "phone"

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Resources").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Library")
    page.get_by_role("navigation", name="Browse the library").get_by_role("link", name="Psychological").click()
    expect(page.locator(".resource-list > li")).to_have_count(1)
    page.screenshot(path=artifacts / f"library-{name}.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    assert not (violations := axe_violations(page)), readable(violations)

    page.get_by_label("Search the library").fill("exercise")
    page.get_by_role("button", name="Show resources").click()
    expect(page.locator(".resource-list mark").first).to_have_text("exercises")
    page.get_by_role("link", name="Grounding exercises for groups").click()

    expect(page).to_have_url(f"{live_server_url}/resources/{library}/")
    expect(page.get_by_role("region", name="Discussed in")).to_contain_text("Opening a new group")
    page.get_by_role("button", name="Copy link").click()
    expect(page.locator("#cite-status")).to_have_text("Link copied. Paste it in a post to cite this resource.")
    assert page.evaluate("navigator.clipboard.readText()").endswith(f"/resources/{library}/")
    page.screenshot(path=artifacts / f"resource-{name}.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    assert not (violations := axe_violations(page)), readable(violations)


def test_resource_page_without_javascript_offers_the_link_to_copy_by_hand(live_server_url, member, library, browser):
    page = sign_in(browser, live_server_url, member.email, PHONE, java_script_enabled=False)
    page.goto(f"{live_server_url}/resources/{library}/")
    expect(page.get_by_label("Paste this link in a post")).to_have_value(re.compile(f"/resources/{library}/$"))
    expect(page.get_by_role("button", name="Copy link")).to_be_hidden()
