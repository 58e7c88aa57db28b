"""Eligibility evidence at signup, and approval without a moderator once the work email is verified."""

import re
import uuid

import pytest
from allauth.account.models import EmailAddress

from community.eligibility import DOMAIN_VERIFIED, NEEDS_MANUAL_CHECK
from community.models import Application, AuditRecord, EligibilityBasis, Member, User
from community.organizations import auto_approve_if_eligible
from community.services import submit_application

PASSWORD = "a-long-and-unusual-passphrase"


@pytest.fixture
def harbor(organization_factory):
    return organization_factory(
        name="Harbor Clinic", email_domains=["harbor.example.org"], auto_approve_verified_domains=True
    )


def signup(client, organization, email):
    return client.post("/accounts/signup/", {
        "full_name": "Rosa Applicant", "email": email, "eligibility_category": EligibilityBasis.NCTTP_MEMBER,
        "organization": organization.pk, "organization_name": "", "role_title": "Therapist",
        "statement": "I see survivors every week.", "password1": PASSWORD, "password2": PASSWORD,
        "accept_guidelines": "on", "confidentiality_pledge": "on",
    })


def confirm(client, message):
    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^/\s]+/)", message.body).group(1)
    return client.post(link)


def unique_email(domain):
    # allauth rate-limits confirmation mail per address in the shared Redis cache, which outlives a test.
    return f"rosa-{uuid.uuid4().hex[:8]}@{domain}"


def applicant(email, organization, *, verified):
    user = User.objects.create_user(email=email, password=PASSWORD)
    EmailAddress.objects.create(user=user, email=email, verified=verified, primary=True)
    application = submit_application(
        user=user, full_name="Rosa Applicant", eligibility_category=EligibilityBasis.NCTTP_MEMBER,
        organization=organization, organization_name="", role_title="Therapist", statement="I see survivors.",
    )
    return application.member


def test_submit_application_stores_evidence_and_website(db):
    user = User.objects.create_user(email="rosa@gmail.com", password=PASSWORD)

    application = submit_application(
        user=user, full_name="Rosa Applicant", eligibility_category=EligibilityBasis.OTHER_ORR_FUNDED,
        organization=None, organization_name="Refugee Wellness Collective", role_title="Therapist",
        statement="I see survivors.", organization_website="https://wellness.example.org",
    )

    application.refresh_from_db()
    assert application.organization_website == "https://wellness.example.org"
    assert application.eligibility_result == NEEDS_MANUAL_CHECK
    assert application.eligibility_evidence == [
        "gmail.com is a free-mail address: it does not show where the applicant works.",
        "The organization is not listed in the directory: check its website and its work.",
    ]


def test_submit_application_matching_domain_is_domain_verified(db, harbor):
    user = User.objects.create_user(email="rosa@harbor.example.org", password=PASSWORD)

    application = submit_application(
        user=user, full_name="Rosa Applicant", eligibility_category=EligibilityBasis.NCTTP_MEMBER,
        organization=harbor, organization_name="", role_title="Therapist", statement="I see survivors.",
    )

    assert application.eligibility_result == DOMAIN_VERIFIED
    assert application.eligibility_evidence == [
        "The work email domain harbor.example.org is a verified domain of Harbor Clinic."
    ]
    assert application.status == Application.Status.PENDING  # not before the address is verified


def test_signup_confirmed_at_auto_approving_organization_lets_applicant_in(
    client, harbor, mailoutbox, django_capture_on_commit_callbacks
):
    email = unique_email("harbor.example.org")
    signup(client, harbor, email)
    member = Member.objects.get(user__email=email)
    assert member.status == Member.Status.PENDING  # the address is not verified yet

    with django_capture_on_commit_callbacks(execute=True):
        confirm(client, mailoutbox[0])

    member.refresh_from_db()
    assert member.status == Member.Status.ACTIVE
    assert member.joined_at is not None and member.verified_at is not None
    assert member.organization == harbor
    application = member.applications.get()
    assert application.status == Application.Status.APPROVED
    assert application.decided_by is None and application.decided_at is not None
    audit = AuditRecord.objects.get(action="application_auto_approved")
    assert (audit.actor, audit.subject, audit.target) == (None, member, "Harbor Clinic")
    assert audit.reason == "The work email domain harbor.example.org is a verified domain of Harbor Clinic."
    welcome = [message for message in mailoutbox if message.to == [email] and "Welcome" in message.subject]
    assert len(welcome) == 1
    client.force_login(member.user)
    assert client.get("/").status_code == 200


def test_signup_confirmed_without_auto_approve_flag_waits_for_moderator(
    client, organization, mailoutbox, django_capture_on_commit_callbacks
):
    email = unique_email("cascade.example.org")
    signup(client, organization, email)

    with django_capture_on_commit_callbacks(execute=True):
        confirm(client, mailoutbox[0])

    member = Member.objects.get(user__email=email)
    assert member.status == Member.Status.PENDING
    assert member.applications.get().eligibility_result == DOMAIN_VERIFIED
    assert not AuditRecord.objects.filter(action="application_auto_approved").exists()


def test_auto_approve_if_eligible_refuses_unverified_address(harbor, mailoutbox, django_capture_on_commit_callbacks):
    member = applicant("rosa@harbor.example.org", harbor, verified=False)

    with django_capture_on_commit_callbacks(execute=True):
        assert auto_approve_if_eligible(member) is None

    member.refresh_from_db()
    assert member.status == Member.Status.PENDING
    assert member.applications.get().status == Application.Status.PENDING
    assert mailoutbox == []


def test_auto_approve_if_eligible_refuses_other_verified_address(harbor):
    member = applicant("rosa@harbor.example.org", harbor, verified=False)
    EmailAddress.objects.create(user=member.user, email="rosa@gmail.com", verified=True)

    assert auto_approve_if_eligible(member) is None


def test_auto_approve_if_eligible_uses_the_directory_as_it_is_now(harbor):
    member = applicant("rosa@harbor.example.org", harbor, verified=True)
    harbor.auto_approve_verified_domains = False
    harbor.save()

    assert auto_approve_if_eligible(member) is None
    assert member.applications.get().status == Application.Status.PENDING


@pytest.mark.parametrize("email", ["rosa@elsewhere.example.org", "rosa@gmail.com"])
def test_auto_approve_if_eligible_refuses_domain_outside_the_organization(harbor, email):
    member = applicant(email, harbor, verified=True)

    assert auto_approve_if_eligible(member) is None


def test_auto_approve_if_eligible_leaves_suspended_account_alone(harbor):
    member = applicant("rosa@harbor.example.org", harbor, verified=True)
    Member.objects.filter(pk=member.pk).update(status=Member.Status.SUSPENDED)

    assert auto_approve_if_eligible(member) is None
    member.refresh_from_db()
    assert member.status == Member.Status.SUSPENDED


def test_auto_approve_if_eligible_approves_once(harbor, django_capture_on_commit_callbacks, mailoutbox):
    member = applicant("rosa@harbor.example.org", harbor, verified=True)

    with django_capture_on_commit_callbacks(execute=True):
        assert auto_approve_if_eligible(member).status == Application.Status.APPROVED
        assert auto_approve_if_eligible(member) is None

    assert AuditRecord.objects.filter(action="application_auto_approved").count() == 1
    assert len(mailoutbox) == 1
