"""An imported Google Group thread in a real browser: the inline image shows, the PDF is offered, no axe
violations."""

import pytest
from playwright.sync_api import expect

from mailer.models import ListInvitation
from threads.models import Post

from ..mailer.google_group_sample import MBOX, MEMBERS, needs_sample
from ..mailer.google_group_sample import run as run_import
from .test_accessibility import axe_violations, readable
from .test_live_thread import log_in

pytestmark = [pytest.mark.browser, needs_sample]

FLYER = "<BN4PR11MB1133B153A6FF2151E24CB5EC@BN4PR11MB1133.namprd16.prod.outlook.com>"
HANDOUT = "<CASBf4Gf3I9On3RIKR9QTANfWvjDr16SFKpbBnNFBxu-1fMQqYx@mail.gmail.com>"


@pytest.fixture
def imported_threads(transactional_db):
    run_import("--mbox", str(MBOX), "--members", str(MEMBERS))
    assert ListInvitation.objects.exists()
    return {name: Post.objects.get(message_id=message_id).thread.get_absolute_url()
            for name, message_id in (("flyer", FLYER), ("handout", HANDOUT))}


def test_imported_thread_shows_its_inline_image_and_pdf(live_server_url, imported_threads, member, browser,
                                                       artifacts):
    page = log_in(browser, live_server_url, member)

    page.goto(f"{live_server_url}{imported_threads['flyer']}")
    image = page.locator("img.attachment-image")
    expect(image).to_have_count(1)
    page.wait_for_function("() => document.querySelector('img.attachment-image').complete")
    assert image.evaluate("img => img.naturalWidth") == 48  # the PNG itself, through the download view
    expect(page.get_by_text("[cid:")).to_have_count(0)
    page.screenshot(path=artifacts / "imported-thread-image.png", full_page=True)
    assert not (violations := axe_violations(page)), readable(violations)

    page.goto(f"{live_server_url}{imported_threads['handout']}")
    expect(page.get_by_role("link", name="Complex Care – five domains.pdf")).to_be_visible()
    page.screenshot(path=artifacts / "imported-thread-pdf.png", full_page=True)
    assert not (violations := axe_violations(page)), readable(violations)
