"""The eligibility assessment is pure: these tests need no database."""

from dataclasses import FrozenInstanceError
from types import SimpleNamespace

import pytest

from community.eligibility import (
    DOMAIN_VERIFIED,
    FREE_MAIL_DOMAINS,
    NEEDS_MANUAL_CHECK,
    Assessment,
    OrganizationFacts,
    assess,
    email_domain,
    is_free_mail,
    normalize_domain,
)

CASCADE = OrganizationFacts(
    name="Cascade Center", email_domains=("cascade.example.org", "cascade-health.example.org")
)
AUTO = OrganizationFacts(
    name="Harbor Clinic", email_domains=("harbor.example.org",), auto_approve_verified_domains=True
)


def test_assess_matching_domain_is_verified_with_evidence():
    assessment = assess("rosa@cascade.example.org", CASCADE)

    assert assessment == Assessment(
        DOMAIN_VERIFIED, ["The work email domain cascade.example.org is a verified domain of Cascade Center."], False
    )


def test_assess_second_verified_domain_matches():
    assert assess("rosa@cascade-health.example.org", CASCADE).result == DOMAIN_VERIFIED


def test_assess_subdomain_of_verified_domain_matches():
    assessment = assess("rosa@clinic.cascade.example.org", CASCADE)

    assert assessment.result == DOMAIN_VERIFIED
    assert "clinic.cascade.example.org" in assessment.evidence[0]


@pytest.mark.parametrize("email", [
    "rosa@evilcascade.example.org",     # ends with the same letters, but is another domain
    "rosa@cascade.example.org.evil.com",
    "rosa@example.org",                 # the parent of a verified domain is not verified
])
def test_assess_lookalike_domain_needs_manual_check(email):
    assessment = assess(email, CASCADE)

    assert assessment.result == NEEDS_MANUAL_CHECK
    assert assessment.evidence == [
        f"The work email domain {email_domain(email)} is not a verified domain of Cascade Center "
        "(expected cascade.example.org, cascade-health.example.org)."
    ]
    assert not assessment.auto_approve


@pytest.mark.parametrize("email", [
    "Rosa@CASCADE.Example.Org", "rosa@cascade.example.org.", "  rosa@cascade.example.org  ",
    "rosa@cascade.example.org. ",
])
def test_assess_tolerates_case_trailing_dot_and_spaces(email):
    assert assess(email, CASCADE).result == DOMAIN_VERIFIED


def test_assess_directory_domains_are_normalized_too():
    messy = OrganizationFacts(name="Cascade Center", email_domains=(" Cascade.Example.ORG. ", ""))

    assessment = assess("rosa@cascade.example.org", messy)

    assert assessment.result == DOMAIN_VERIFIED


@pytest.mark.parametrize("email", [
    "rosa@gmail.com", "rosa@googlemail.com", "rosa@yahoo.com", "rosa@outlook.com", "rosa@hotmail.com",
    "rosa@live.com", "rosa@aol.com", "rosa@icloud.com", "rosa@me.com", "rosa@mac.com", "rosa@protonmail.com",
    "rosa@proton.me", "rosa@gmx.com", "rosa@mail.com", "rosa@yandex.com", "rosa@zoho.com", "rosa@fastmail.com",
    "rosa@hey.com", "rosa@comcast.net", "Rosa@GMAIL.COM", "rosa@mail.yahoo.com",
])
def test_assess_free_mail_needs_manual_check(email):
    assessment = assess(email, CASCADE)

    assert assessment.result == NEEDS_MANUAL_CHECK
    assert "free-mail address" in assessment.evidence[0]
    assert "(expected cascade.example.org, cascade-health.example.org)" in assessment.evidence[1]
    assert not assessment.auto_approve


def test_assess_free_mail_never_verified_even_if_listed_for_the_organization():
    careless = OrganizationFacts(name="Home Office", email_domains=("gmail.com",), auto_approve_verified_domains=True)

    assessment = assess("anyone@gmail.com", careless)

    assert assessment.result == NEEDS_MANUAL_CHECK
    assert not assessment.auto_approve
    assert assessment.evidence[1] == (
        "Home Office lists gmail.com as its domain, but a free-mail domain verifies no one."
    )


def test_assess_unlisted_organization_needs_manual_check():
    assessment = assess("rosa@wellness.example.org", None)

    assert assessment == Assessment(
        NEEDS_MANUAL_CHECK, ["The organization is not listed in the directory: check its website and its work."]
    )


def test_assess_unlisted_organization_with_free_mail_gives_both_reasons():
    assessment = assess("rosa@yahoo.com", None)

    assert assessment.result == NEEDS_MANUAL_CHECK
    assert len(assessment.evidence) == 2
    assert "free-mail address" in assessment.evidence[0]
    assert "not listed" in assessment.evidence[1]


def test_assess_organization_without_domains_needs_manual_check():
    bare = OrganizationFacts(name="New Program", email_domains=(), auto_approve_verified_domains=True)

    assessment = assess("rosa@newprogram.example.org", bare)

    assert assessment == Assessment(
        NEEDS_MANUAL_CHECK, ["New Program has no verified email domains in the directory."], False
    )


def test_assess_inactive_organization_needs_manual_check_even_with_matching_domain():
    closed = OrganizationFacts(
        name="Harbor Clinic", email_domains=("harbor.example.org",), active=False, auto_approve_verified_domains=True
    )

    assessment = assess("rosa@harbor.example.org", closed)

    assert assessment.result == NEEDS_MANUAL_CHECK
    assert not assessment.auto_approve
    assert assessment.evidence == [
        "The work email domain harbor.example.org is a verified domain of Harbor Clinic.",
        "Harbor Clinic is marked inactive in the directory.",
    ]


def test_assess_auto_approves_only_verified_domain_of_flagged_organization():
    assert assess("rosa@harbor.example.org", AUTO).auto_approve
    assert not assess("rosa@cascade.example.org", CASCADE).auto_approve  # verified, flag off
    assert not assess("rosa@elsewhere.example.org", AUTO).auto_approve  # flag on, domain differs
    assert not assess("rosa@gmail.com", AUTO).auto_approve


@pytest.mark.parametrize("email", ["", "   ", "rosa", "rosa@", "rosa@ . "])
def test_assess_incomplete_address_needs_manual_check(email):
    assessment = assess(email, AUTO)

    assert assessment.result == NEEDS_MANUAL_CHECK
    assert not assessment.auto_approve
    assert "not a complete email address" in assessment.evidence[0]


def test_organization_facts_of_reads_plain_attributes():
    organization = SimpleNamespace(
        name="Harbor Clinic", email_domains=["harbor.example.org"], active=True, auto_approve_verified_domains=True
    )

    facts = OrganizationFacts.of(organization)

    assert facts == AUTO
    with pytest.raises(FrozenInstanceError):
        facts.active = False


def test_normalize_domain_lowercases_and_strips():
    assert normalize_domain("  Cascade.Example.ORG.  ") == "cascade.example.org"


def test_email_domain_takes_the_part_after_the_last_at():
    assert email_domain("Rosa@Cascade.Example.org") == "cascade.example.org"
    assert email_domain("no-at-sign") == ""


def test_is_free_mail_covers_the_named_list_and_its_subdomains():
    assert {"gmail.com", "yahoo.com", "outlook.com", "proton.me", "hey.com", "comcast.net"} <= FREE_MAIL_DOMAINS
    assert is_free_mail("mail.yahoo.com")
    assert not is_free_mail("notgmail.com")
    assert not is_free_mail("cascade.example.org")
