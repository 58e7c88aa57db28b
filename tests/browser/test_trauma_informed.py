"""Content notes and anonymous posts in Chromium, on a desktop and on a phone: a noted post stays closed until the
reader opens it (keyboard too), also when it arrives live; an anonymous post names nobody; axe-core on the pages."""

import pytest
from playwright.sync_api import expect

from community.models import Member
from tests.browser.test_accessibility import axe_violations, readable
from tests.browser.test_held_posts import DESKTOP, PHONE, sign_in
from threads.models import Category
from threads.services import create_reply, create_thread

pytestmark = pytest.mark.browser


@pytest.fixture
def sensitive_thread(member_factory, organization_factory, moderator_with_secret):
    author = member_factory(full_name="Quinn Hidden", org=organization_factory(name="Lakeshore Clinic", state="IL"))
    Member.objects.filter(pk=author.pk).update(staff_role=Member.StaffRole.CLINICAL)
    author.refresh_from_db()
    hard_cases = Category.objects.create(name="Hard cases", allow_anonymous=True)
    thread = create_thread(author=author, category=hard_cases, title="When a client discloses late",
                           body="What do you do when a client tells you months in?", anonymous=True)
    moderator, _ = moderator_with_secret
    create_reply(author=moderator, parent=thread.posts.get(), content_note="sexual violence",
                 body="Our clinic slows down.\n\n::: note describes torture methods\nWhat he told us.\n:::\n\nThen.")
    return thread


def test_noted_and_anonymous_posts_on_desktop_and_phone(live_server_url, sensitive_thread, member,
                                                        moderator_with_secret, browser, artifacts):
    moderator, secret = moderator_with_secret
    url = f"{live_server_url}{sensitive_thread.get_absolute_url()}"
    reader = sign_in(browser, live_server_url, member.email, DESKTOP)
    reader.goto(url)

    opening = reader.locator("article.post").first
    expect(opening.locator(".author")).to_have_text("A member (clinical staff, Midwest)")
    expect(reader.locator("main")).not_to_contain_text("Quinn Hidden")
    note = reader.locator("details.post-note")
    expect(note.locator("> summary")).to_contain_text("Content note: sexual violence")
    expect(reader.get_by_text("Our clinic slows down.")).to_be_hidden()
    note.locator("> summary").focus()
    reader.keyboard.press("Enter")  # a summary opens from the keyboard
    expect(reader.get_by_text("Our clinic slows down.")).to_be_visible()
    expect(reader.get_by_text("What he told us.")).to_be_hidden()  # the part keeps its own note
    reader.get_by_text("Content note: describes torture methods").click()
    expect(reader.get_by_text("What he told us.")).to_be_visible()
    reader.screenshot(path=artifacts / "content-notes-opened-desktop.png", full_page=True)
    assert not (violations := axe_violations(reader)), readable(violations)

    phone = sign_in(browser, live_server_url, member.email, PHONE)
    phone.goto(url)
    expect(phone.get_by_text("Our clinic slows down.")).to_be_hidden()
    phone.screenshot(path=artifacts / "content-notes-collapsed-phone.png", full_page=True)
    assert not (violations := axe_violations(phone)), readable(violations)

    watching = sign_in(browser, live_server_url, member.email, DESKTOP)
    watching.goto(url)
    expect(watching.locator("#live-status")).to_have_attribute("data-live", "on", timeout=10_000)
    writer = sign_in(browser, live_server_url, moderator.email, DESKTOP, secret)
    writer.goto(url)
    expect(writer.locator("article.post").first).to_contain_text("posted anonymously by Quinn Hidden")
    writer.fill("#id_body", "Arrived live behind a note.")
    writer.select_option("#id_content_note_choice", "graphic injury")
    writer.get_by_role("button", name="Post reply").click()
    live_post = watching.locator("article.post", has_text="Content note: graphic injury")
    expect(live_post).to_have_count(1, timeout=10_000)
    expect(live_post.get_by_text("Arrived live behind a note.")).to_be_hidden()
    watching.screenshot(path=artifacts / "content-note-live-desktop.png", full_page=True)

    writer.goto(f"{live_server_url}/moderation/categories/")
    expect(writer.get_by_role("heading", name="Hard cases")).to_be_visible()
    writer.screenshot(path=artifacts / "category-settings-desktop.png", full_page=True)
    assert not (violations := axe_violations(writer)), readable(violations)
    writer.set_viewport_size(PHONE)
    writer.screenshot(path=artifacts / "category-settings-phone.png", full_page=True)


@pytest.fixture
def expanding_member(member):
    Member.objects.filter(pk=member.pk).update(expand_content_notes=True)
    return member


def test_reader_who_always_expands_sees_notes_open(live_server_url, sensitive_thread, expanding_member, browser,
                                                   artifacts):
    member = expanding_member
    reader = sign_in(browser, live_server_url, member.email, PHONE)
    reader.goto(f"{live_server_url}{sensitive_thread.get_absolute_url()}")

    expect(reader.get_by_text("Our clinic slows down.")).to_be_visible()
    expect(reader.get_by_text("What he told us.")).to_be_visible()
    reader.goto(f"{live_server_url}/profile/")
    expect(reader.get_by_label("Always show posts behind a content note")).to_be_checked()
    reader.screenshot(path=artifacts / "profile-reading-phone.png", full_page=True)
    assert not (violations := axe_violations(reader)), readable(violations)
