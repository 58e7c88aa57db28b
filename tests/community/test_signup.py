import re
import uuid

import pytest
from allauth.account.models import EmailAddress
from django.utils.html import escape

from community.models import Application, EligibilityBasis, Member, User

PASSWORD = "a-long-and-unusual-passphrase"
STATEMENT = "I run intake for the resettlement program and see survivors every week."


@pytest.fixture
def email():
    # allauth rate-limits confirmation mail per address in the shared Redis cache, which outlives a test.
    return f"rosa-{uuid.uuid4().hex[:8]}@cascade.example.org"


@pytest.fixture
def application_form(organization, email):
    return {
        "full_name": "Rosa Applicant",
        "email": email,
        "eligibility_category": EligibilityBasis.ORR_TVRA_GRANTEE,
        "organization": organization.pk,
        "organization_name": "",
        "role_title": "Intake coordinator",
        "statement": STATEMENT,
        "password1": PASSWORD,
        "password2": PASSWORD,
        "accept_guidelines": "on",
        "confidentiality_pledge": "on",
    }


def _confirmation_link(message):
    return re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^/\s]+/)", message.body).group(1)


def test_signup_creates_pending_member_with_application(client, application_form, email, organization,
                                                         mailoutbox):
    response = client.post("/accounts/signup/", application_form)

    assert response.status_code == 302
    user = User.objects.get(email=email)
    member = user.member
    assert member.status == Member.Status.PENDING
    assert member.full_name == "Rosa Applicant"
    application = Application.objects.get(member=member)
    assert application.status == Application.Status.PENDING
    assert application.organization == organization
    assert application.eligibility_category == EligibilityBasis.ORR_TVRA_GRANTEE
    assert application.role_title == "Intake coordinator"
    assert application.work_email == email
    assert application.statement == STATEMENT
    assert not EmailAddress.objects.get(user=user).verified
    assert [message.to for message in mailoutbox] == [[email]]
    assert "/accounts/confirm-email/" in mailoutbox[0].body


def test_signup_with_unlisted_organization_keeps_its_name(client, application_form, email):
    application_form.update(organization="", organization_name="Refugee Wellness Collective",
                            organization_website="rwc.example.org")

    client.post("/accounts/signup/", application_form)

    application = Application.objects.get(member__user__email=email)
    assert application.organization is None
    assert application.organization_name == "Refugee Wellness Collective"
    assert application.organization_website == "https://rwc.example.org"
    assert application.eligibility_result == "needs_manual_check"


def test_signup_requires_email_verification_before_login(client, application_form, mailoutbox):
    client.post("/accounts/signup/", application_form)

    response = client.post("/accounts/login/", {"login": application_form["email"], "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert client.get("/")["Location"] == "/accounts/login/?next=/"


def test_signup_verified_applicant_is_sent_to_application_page(client, application_form, mailoutbox):
    client.post("/accounts/signup/", application_form)
    client.post(_confirmation_link(mailoutbox[0]))
    assert EmailAddress.objects.get(email=application_form["email"]).verified
    client.logout()

    response = client.post("/accounts/login/", {"login": application_form["email"], "password": PASSWORD})

    assert response["Location"] == "/application/"
    assert client.get("/")["Location"] == "/application/"
    page = client.get("/application/")
    assert page.status_code == 200
    assert "waiting for a moderator" in page.content.decode()


@pytest.mark.parametrize("change, field", [
    ({"organization": "", "organization_name": ""}, "organization_name"),
    ({"accept_guidelines": ""}, "accept_guidelines"),
    ({"confidentiality_pledge": ""}, "confidentiality_pledge"),
    ({"statement": ""}, "statement"),
    ({"password2": "something-else-entirely"}, "password2"),
])
def test_signup_form_error_keeps_typed_values(client, application_form, email, mailoutbox, change, field):
    application_form.update(change)

    response = client.post("/accounts/signup/", application_form)

    assert response.status_code == 200
    page = response.content.decode()
    assert escape(response.context["form"].errors[field][0]) in page
    assert 'value="Rosa Applicant"' in page
    assert 'value="Intake coordinator"' in page
    assert f'value="{email}"' in page
    if application_form["statement"]:
        assert STATEMENT in page
    assert not User.objects.exists()
    assert not Member.objects.exists()
    assert not Application.objects.exists()
    assert mailoutbox == []
