import time

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from playwright.sync_api import expect

from community.eligibility import DOMAIN_VERIFIED
from community.models import Application
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def applicant(pending_member):
    Application.objects.filter(member=pending_member).update(
        eligibility_result=DOMAIN_VERIFIED,
        eligibility_evidence=["The work email domain cascade.example.org is a verified domain of Cascade Center."],
    )
    return pending_member


def sign_in(page, base_url, email):
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_login", email)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_moderator_with_totp_approves_an_applicant_who_then_gets_in(
    live_server_url, moderator_with_secret, applicant, browser, artifacts
):
    moderator, secret = moderator_with_secret
    applicant_name, applicant_email = applicant.full_name, applicant.email

    page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    sign_in(page, live_server_url, moderator.email)
    expect(page).to_have_url(f"{live_server_url}/accounts/2fa/authenticate/")
    page.fill("#id_code", format_hotp_value(hotp_value(secret, int(time.time()) // 30)))
    page.get_by_role("button", name="Sign In").click()
    expect(page).to_have_url(f"{live_server_url}/")

    page.goto(f"{live_server_url}/moderation/applications/")
    row = page.locator("li[id^=application-]", has_text=applicant_name)
    expect(row).to_contain_text("Work email matches the organization")
    page.screenshot(path=artifacts / "moderation-queue.png", full_page=True)
    row.get_by_role("button", name=f"Approve {applicant_name}").click()
    expect(page.locator(".messages")).to_contain_text(f"{applicant_name} is now a member. They have been emailed.")
    expect(page.locator("li[id^=application-]")).to_have_count(0)

    newcomer = browser.new_context().new_page()
    sign_in(newcomer, live_server_url, applicant_email)
    # A new member's first sign-in opens Start here (mailer.onboarding) rather than the discussions.
    expect(newcomer).to_have_url(f"{live_server_url}/start/")
    expect(newcomer.locator("h1")).to_have_text("Start here")
    newcomer.screenshot(path=artifacts / "approved-applicant-start.png", full_page=True)
