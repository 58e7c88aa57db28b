"""axe-core in Chromium on the pages members spend their time on. axe.min.js is vendored next to this file
(MPL-2.0, header kept, see vendor/): no download at test time, and it is never served by the site."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.test_live_thread import log_in
from tests.threads.events_helpers import make_econsultation
from threads.live_room import highlight_question
from threads.models import Category, EConsultation
from threads.services import create_reply, create_thread

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
# Best practices too, not only the WCAG rules: landmarks, heading order, regions.
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}}


@pytest.fixture
def econsultation(moderator):
    return make_econsultation(moderator, EConsultation.LIVE)


@pytest.fixture
def host(econsultation, member_factory):
    host = member_factory(full_name="Pat Presenter")
    econsultation.hosts.add(host)
    return host


@pytest.fixture
def pages(live_server_url, econsultation, moderator, member, reply_factory, category):
    thread = econsultation.thread
    opening = thread.posts.get()
    question = reply_factory(author=member, parent=opening, body="How do you **close** a group?")
    reply_factory(author=moderator, parent=question, body="We plan the last session from the first one.")
    highlight_question(host=moderator, post_id=question.id)
    hard_cases = Category.objects.create(name="Hard cases", allow_anonymous=True)
    sensitive = create_thread(author=member, category=hard_cases, title="When a client discloses late",
                              body="What do you do?", anonymous=True)
    create_reply(author=moderator, parent=sensitive.posts.get(), content_note="sexual violence",
                 body="It happens.\n\n::: note describes torture methods\nWhat he told us.\n:::")
    return {
        "home": "/",
        "thread with a content note and an anonymous post": sensitive.get_absolute_url(),
        "category": category.get_absolute_url(),
        "thread": thread.get_absolute_url(),
        "thread by date": f"{thread.get_absolute_url()}?view=flat",
        "live room": f"/threads/{thread.id}/live/",
        "events": "/events/",
        "webinar": f"/events/{econsultation.webinar_id}/",
        "mail settings": "/mail/settings/",
        "mail help": "/mail/help/",
        "my data": "/profile/data/",
        "erasure request": "/application/erase/",
    }


def readable(violations) -> str:
    lines = []
    for violation in violations:
        lines.append(f"[{violation['impact']}] {violation['id']}: {violation['help']} ({violation['helpUrl']})")
        lines.extend(f"    {node['target']}: {node['failureSummary'].splitlines()[-1].strip()}"
                     for node in violation["nodes"][:5])
    return "\n".join(lines)


def axe_violations(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    return page.evaluate("options => axe.run(document, options).then(r => r.violations)", AXE_OPTIONS)


def test_member_pages_have_no_axe_violations(live_server_url, pages, member, browser):
    page = log_in(browser, live_server_url, member)
    found = {}
    for name, path in pages.items():
        page.goto(f"{live_server_url}{path}")
        assert page.locator("h1").count() == 1, f"{name}: {path} did not render"
        if violations := axe_violations(page):
            found[f"{name} ({path})"] = readable(violations)

    assert not found, "\n".join(f"{name}\n{report}" for name, report in found.items())


def test_live_room_updated_live_has_no_axe_violations(live_server_url, pages, member, host, browser):
    """What live.js adds (a post with the hosts' buttons, presence, the pinned question) is checked too."""
    room = f"{live_server_url}{pages['live room']}"
    host_page = log_in(browser, live_server_url, host)
    host_page.goto(room)
    expect(host_page.locator("#live-status")).to_have_attribute("data-live", "on", timeout=10_000)
    writer = log_in(browser, live_server_url, member)
    writer.goto(room)
    writer.fill("#id_body", "Arrived while the host was watching.")
    writer.get_by_role("button", name="Post", exact=True).click()
    expect(host_page.locator("#posts")).to_contain_text("Arrived while the host was watching.", timeout=10_000)
    expect(host_page.locator("#posts .post-wrap").last.get_by_role("button", name="answered")).to_be_visible()

    violations = axe_violations(host_page)

    assert not violations, readable(violations)
