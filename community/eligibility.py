"""Is this applicant who they say they are? A pure assessment of the work email against the directory.

No database and no models: callers pass the chosen organization's facts (or None when it is "not listed"),
so the rules can be read and tested on their own. Evidence sentences are shown to moderators as they are.
"""

from dataclasses import dataclass, field

DOMAIN_VERIFIED = "domain_verified"
NEEDS_MANUAL_CHECK = "needs_manual_check"

# Addresses anyone can open: they say nothing about where the applicant works. A subdomain counts too
# (mail.yahoo.com). Keep this the one list: the organization form and the CSV import refuse these domains.
FREE_MAIL_DOMAINS = frozenset({
    "aim.com", "aol.com", "att.net", "bellsouth.net", "charter.net", "comcast.net", "cox.net", "earthlink.net",
    "fastmail.com", "fastmail.fm", "gmail.com", "gmx.com", "gmx.de", "gmx.net", "googlemail.com", "hey.com",
    "hotmail.co.uk", "hotmail.com", "icloud.com", "live.com", "mac.com", "mail.com", "mail.ru", "me.com",
    "msn.com", "outlook.com", "pm.me", "proton.me", "protonmail.ch", "protonmail.com", "qq.com",
    "rocketmail.com", "sbcglobal.net", "tutanota.com", "verizon.net", "yahoo.co.uk", "yahoo.com", "yandex.com",
    "yandex.ru", "ymail.com", "zoho.com", "zohomail.com",
})


@dataclass(frozen=True)
class OrganizationFacts:
    """What the assessment needs to know about the organization the applicant chose."""

    name: str
    email_domains: tuple[str, ...]
    active: bool = True
    auto_approve_verified_domains: bool = False

    @classmethod
    def of(cls, organization) -> "OrganizationFacts":
        return cls(
            name=organization.name,
            email_domains=tuple(organization.email_domains),
            active=organization.active,
            auto_approve_verified_domains=organization.auto_approve_verified_domains,
        )


@dataclass(frozen=True)
class Assessment:
    result: str
    evidence: list[str] = field(default_factory=list)
    auto_approve: bool = False


def normalize_domain(value: str) -> str:
    """`Cascade.Example.ORG. ` and `cascade.example.org` are the same domain."""
    return value.strip().rstrip(".").strip().lower()


def email_domain(email: str) -> str:
    _, at, domain = email.strip().rpartition("@")
    return normalize_domain(domain) if at else ""


def within(domain: str, parent: str) -> bool:
    """The domain is the parent itself or one of its subdomains (clinic.cascade.org is within cascade.org)."""
    return domain == parent or domain.endswith("." + parent)


def is_free_mail(domain: str) -> bool:
    return any(within(domain, free) for free in FREE_MAIL_DOMAINS)


def assess(work_email: str, organization: OrganizationFacts | None) -> Assessment:
    domain = email_domain(work_email)
    if not domain:
        return Assessment(NEEDS_MANUAL_CHECK, [f"“{work_email.strip()}” is not a complete email address."])
    free_mail = is_free_mail(domain)
    evidence = []
    if free_mail:
        evidence.append(f"{domain} is a free-mail address: it does not show where the applicant works.")
    if organization is None:
        evidence.append("The organization is not listed in the directory: check its website and its work.")
        return Assessment(NEEDS_MANUAL_CHECK, evidence)

    verified = [d for d in map(normalize_domain, organization.email_domains) if d]
    listed = any(within(domain, d) for d in verified)
    # A free-mail domain listed for an organization by mistake must not let everyone at gmail.com in.
    matched = listed and not free_mail
    if matched:
        evidence.append(f"The work email domain {domain} is a verified domain of {organization.name}.")
    elif listed:
        evidence.append(f"{organization.name} lists {domain} as its domain, but a free-mail domain verifies no one.")
    elif verified:
        expected = ", ".join(verified)
        evidence.append(
            f"The work email domain {domain} is not a verified domain of {organization.name} (expected {expected})."
        )
    else:
        evidence.append(f"{organization.name} has no verified email domains in the directory.")
    if not organization.active:
        evidence.append(f"{organization.name} is marked inactive in the directory.")

    if matched and organization.active:
        return Assessment(DOMAIN_VERIFIED, evidence, auto_approve=organization.auto_approve_verified_domains)
    return Assessment(NEEDS_MANUAL_CHECK, evidence)
