"""The organization directory: its rules for email domains, edits with an audit trail, the CSV import, and
approving an applicant without a moderator when their organization asks for it.

CSV import policy, chosen so a file can be fixed and simply imported again:
- rows are matched to organizations by name, ignoring case and extra spaces (the name as stored is kept);
  the file wins for every other column it has, and columns it lacks are left as they are; a blank active /
  auto_approve cell means the default (active yes, auto-approve no);
- a row with any bad email domain is rejected whole, with the reason, rather than imported without that
  domain: a silently dropped domain would leave applicants from it waiting with no one knowing why;
- a name that appears twice in the file is imported from its first row; the later rows are rejected;
- the whole file is written in one transaction, and --dry-run rolls it back after building the same report.
"""

import copy
import csv
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from allauth.account.models import EmailAddress
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from .eligibility import OrganizationFacts, assess, is_free_mail, normalize_domain
from .events import application_decided
from .models import Application, AuditRecord, EligibilityBasis, Member, Organization
from .services import announce_application

FIELDS = (
    "name", "eligibility_basis", "city", "state", "website", "email_domains", "active",
    "auto_approve_verified_domains", "notes",
)
_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


# ---- Email domains ------------------------------------------------------------------------------------------

def parse_domains(text: str) -> list[str]:
    """One or more domains separated by new lines, commas, semicolons or spaces; lowercase, no repeats."""
    domains = (normalize_domain(part) for part in re.split(r"[\s,;]+", text))
    return list(dict.fromkeys(domain for domain in domains if domain))


def domain_problem(domain: str) -> str | None:
    """Why this cannot be a verified email domain, in words for whoever typed it; None when it can."""
    if "://" in domain or domain.startswith(("http:", "https:")):
        return f"“{domain}”: write the domain only, without http:// or https://."
    if "@" in domain:
        return f"“{domain}”: write the domain only, without a name or @ (for example cascade.example.org)."
    if "/" in domain:
        return f"“{domain}”: write the domain only, without a path."
    if "." not in domain:
        return f"“{domain}” is not a full domain (for example cascade.example.org)."
    labels = domain.split(".")
    if len(domain) > 253 or not all(_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        return f"“{domain}” is not a valid domain: use letters, digits, hyphens and dots only."
    if is_free_mail(domain):
        return f"{domain} is a free-mail domain: anyone can have an address there, so it verifies no one."
    return None


def domains_claimed_elsewhere(domains: Iterable[str], organization_id: int | None = None) -> dict[str, str]:
    """{domain: name of the other organization that already has it}, in one query."""
    domains = list(domains)
    if not domains:
        return {}
    others = Organization.objects.filter(email_domains__overlap=domains).exclude(pk=organization_id)
    return {
        domain: name
        for name, theirs in others.values_list("name", "email_domains")
        for domain in domains if domain in theirs
    }


def claimed_problem(domain: str, other_name: str) -> str:
    return f"{domain} is already a domain of {other_name}."


# ---- Directory and edits ------------------------------------------------------------------------------------

def search_organizations(*, query: str = "", basis: str = "", active: bool | None = None) -> QuerySet:
    """The moderators' directory, each organization with its count of active members, in one query."""
    organizations = Organization.objects.annotate(
        member_count=Count("member", filter=Q(member__status=Member.Status.ACTIVE))
    ).order_by("name")
    if query.strip():
        query = " ".join(query.split())
        organizations = organizations.filter(
            Q(name__icontains=query) | Q(state__iexact=query) | Q(city__icontains=query)
        )
    if basis:
        organizations = organizations.filter(eligibility_basis=basis)
    if active is not None:
        organizations = organizations.filter(active=active)
    return organizations


def name_key(name: str) -> str:
    """Names match ignoring case and extra spaces."""
    return " ".join(name.split()).casefold()


def _shown(field_name: str, value) -> str:
    if field_name == "eligibility_basis":
        return EligibilityBasis(value).label if value in EligibilityBasis.values else str(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return f"“{value}”" if value else "(empty)"


def _label(field_name: str) -> str:
    if field_name == "auto_approve_verified_domains":
        return "auto-approve verified domains"
    return str(Organization._meta.get_field(field_name).verbose_name)


def describe_changes(organization: Organization, fields: dict) -> list[str]:
    """Each changed field as a short sentence for the audit log (notes are only said to have changed)."""
    changes = []
    for name in FIELDS:
        if name not in fields or fields[name] == getattr(organization, name):
            continue
        before, after = getattr(organization, name), fields[name]
        if name == "email_domains":
            added = [d for d in after if d not in before]
            removed = [d for d in before if d not in after]
            parts = ([f"added {', '.join(added)}"] if added else []) + (
                [f"removed {', '.join(removed)}"] if removed else []
            )
            changes.append(f"email domains: {'; '.join(parts) or 'reordered'}")
        elif name == "notes":
            changes.append("notes edited")
        else:
            changes.append(f"{_label(name)}: {_shown(name, before)} → {_shown(name, after)}")
    return changes


def describe_new(organization: Organization) -> str:
    parts = [f"{_label('eligibility_basis')}: {organization.get_eligibility_basis_display()}"]
    parts += [f"{_label(name)}: {getattr(organization, name)}" for name in ("city", "state", "website")
              if getattr(organization, name)]
    parts.append(f"email domains: {', '.join(organization.email_domains) or 'none'}")
    parts += [f"{_label(name)}: {_shown(name, getattr(organization, name))}"
              for name in ("active", "auto_approve_verified_domains")]
    return "; ".join(parts)


@transaction.atomic
def create_organization(*, actor: Member | None, **fields) -> Organization:
    organization = Organization.objects.create(**fields)
    AuditRecord.objects.create(
        actor=actor, action="organization_created", target=organization.name, reason=describe_new(organization)
    )
    return organization


@transaction.atomic
def update_organization(organization: Organization, *, actor: Member | None, **fields) -> list[str]:
    """Saves and records what changed; returns the changes (none: nothing is written). Changes are measured
    against the stored row, locked, not against the instance a form may already have edited."""
    stored = Organization.objects.select_for_update().get(pk=organization.pk)
    changes = describe_changes(stored, fields)
    if changes:
        for name, value in fields.items():
            setattr(stored, name, value)
        stored.save()
        AuditRecord.objects.create(
            actor=actor, action="organization_updated", target=stored.name, reason="; ".join(changes)
        )
    return changes


# ---- Approval without a moderator ---------------------------------------------------------------------------

def auto_approve_if_eligible(member: Member) -> Application | None:
    """Approve a new applicant at once when their verified work email is at a verified domain of an
    organization that asked for it. Called when allauth confirms an address; the address is checked again
    here so that an unverified one is never approved, whoever calls."""
    with transaction.atomic():
        application = (
            Application.objects.select_for_update(of=("self",))
            .select_related("member", "organization")
            .filter(member=member, kind=Application.Kind.JOIN, status=Application.Status.PENDING)
            .order_by("-submitted_at")
            .first()
        )
        if application is None or application.organization is None:
            return None
        member = application.member
        verified = EmailAddress.objects.filter(
            user_id=member.user_id, email__iexact=application.work_email, verified=True
        ).exists()
        if member.status != Member.Status.PENDING or not verified:
            return None
        # Assessed again: the organization's domains or flag may have changed since the applicant signed up.
        assessment = assess(application.work_email, OrganizationFacts.of(application.organization))
        if not assessment.auto_approve:
            return None
        now = timezone.now()
        application.status = Application.Status.APPROVED
        application.decided_at = now
        application.eligibility_result = assessment.result
        application.eligibility_evidence = assessment.evidence
        application.save()
        member.status = Member.Status.ACTIVE
        member.joined_at = now
        member.verified_at = now
        member.organization = application.organization
        member.save()
        AuditRecord.objects.create(
            actor=None, action="application_auto_approved", subject=member,
            target=application.organization.name, reason=" ".join(assessment.evidence),
        )
        application_id = application.id
        transaction.on_commit(lambda: application_decided.send(Application, application_id=application_id))
    return application


def applicant_email_confirmed(member: Member, email: str) -> None:
    """An applicant proved they own their work address: approve them if their organization allows it,
    otherwise put the application in front of the moderators. An unverified address reaches neither."""
    if auto_approve_if_eligible(member):
        return
    application = (
        Application.objects.filter(
            member=member, kind=Application.Kind.JOIN, status=Application.Status.PENDING, work_email__iexact=email
        )
        .order_by("-submitted_at")
        .first()
    )
    if application is not None:
        announce_application(application)


# ---- CSV import ---------------------------------------------------------------------------------------------

class ImportFileError(Exception):
    """The file as a whole cannot be imported (not UTF-8, no header, no name column)."""


class RowError(Exception):
    pass


COLUMNS = {
    "name": "name", "organization": "name",
    "eligibility_basis": "eligibility_basis", "eligibility": "eligibility_basis", "basis": "eligibility_basis",
    "city": "city", "state": "state", "website": "website",
    "email_domains": "email_domains", "domains": "email_domains", "email_domain": "email_domains",
    "active": "active",
    "auto_approve": "auto_approve_verified_domains",
    "auto_approve_verified_domains": "auto_approve_verified_domains",
    "notes": "notes",
}


def _basis_key(text: str) -> str:
    return " ".join(text.replace("_", " ").casefold().split())


# What people write in spreadsheets, besides the codes and the labels of EligibilityBasis.
_BASES = {
    **{_basis_key(code): code for code in EligibilityBasis.values},
    **{_basis_key(label): code for code, label in EligibilityBasis.choices},
    **{_basis_key(alias): code for alias, code in [
        ("ORR/TVRA grantee", EligibilityBasis.ORR_TVRA_GRANTEE),
        ("ORR TVRA grantee", EligibilityBasis.ORR_TVRA_GRANTEE),
        ("TVRA grantee", EligibilityBasis.ORR_TVRA_GRANTEE),
        ("NCTTP member", EligibilityBasis.NCTTP_MEMBER),
        ("NCTTP", EligibilityBasis.NCTTP_MEMBER),
        ("ORR office", EligibilityBasis.ORR_STAFF),
        ("Other ORR-funded program", EligibilityBasis.OTHER_ORR_FUNDED),
        ("ORR-funded program", EligibilityBasis.OTHER_ORR_FUNDED),
        ("ORR-funded", EligibilityBasis.OTHER_ORR_FUNDED),
    ]},
}
_YES = {"yes", "y", "true", "t", "1", "on", "x"}
_NO = {"no", "n", "false", "f", "0", "off"}
_DEFAULTS = {"active": True, "auto_approve_verified_domains": False}


@dataclass
class ImportReport:
    source: str = ""
    dry_run: bool = False
    created: list[str] = field(default_factory=list)
    updated: list[tuple[str, list[str]]] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{len(self.created)} created, {len(self.updated)} updated, {len(self.unchanged)} unchanged, "
            f"{len(self.rejected)} rejected"
        )

    def lines(self) -> list[str]:
        lines = [f"{self.source}: {self.summary()}." + (" Dry run: nothing was saved." if self.dry_run else "")]
        if self.ignored_columns:
            lines.append(f"Ignored columns: {', '.join(self.ignored_columns)}.")
        lines += [f"created: {name}" for name in self.created]
        lines += [f"updated: {name} ({'; '.join(changes)})" for name, changes in self.updated]
        lines += [f"line {line}: {reason}" for line, reason in self.rejected]
        return lines


def _read(source) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the (line number, cells) of each row; utf-8-sig drops Excel's byte-order mark."""
    if isinstance(source, str | Path):
        with open(source, encoding="utf-8-sig", newline="") as file:
            return _read(file)
    reader = csv.reader(source)
    rows = []
    try:
        header = next(reader, None)
        # A quoted cell may span lines: report the line a row starts on, as a spreadsheet shows it.
        start = reader.line_num + 1
        for cells in reader:
            rows.append((start, cells))
            start = reader.line_num + 1
    except UnicodeDecodeError as error:
        raise ImportFileError("The file is not UTF-8 text: save it as “CSV UTF-8” and try again.") from error
    if not header:
        raise ImportFileError("The file is empty.")
    return [cell.lstrip("\ufeff") for cell in header], rows


def _column_map(header: list[str], report: ImportReport) -> dict[int, str]:
    columns = {}
    for index, title in enumerate(header):
        key = "_".join(title.strip().casefold().replace("-", " ").split())
        if key in COLUMNS and COLUMNS[key] not in columns.values():
            columns[index] = COLUMNS[key]
        elif title.strip():
            report.ignored_columns.append(title.strip())
    if "name" not in columns.values():
        raise ImportFileError("The file has no “name” column.")
    return columns


def _boolean(column: str, text: str) -> bool:
    if not text:
        return _DEFAULTS[column]
    if text.casefold() in _YES:
        return True
    if text.casefold() in _NO:
        return False
    raise RowError(f"{column.replace('_', ' ')} must be yes or no, not “{text}”.")


def _clean_row(cells: dict[str, str]) -> dict:
    fields = {}
    for column, raw in cells.items():
        text = " ".join(raw.split()) if column != "notes" else "\n".join(raw.strip().splitlines())
        if column == "eligibility_basis":
            if text and _basis_key(text) not in _BASES:
                raise RowError(
                    f"unknown eligibility basis “{text}” (use ORR/TVRA grantee, NCTTP member, ORR office or "
                    "other ORR-funded program)."
                )
            fields[column] = _BASES.get(_basis_key(text), "")
        elif column in _DEFAULTS:
            fields[column] = _boolean(column, text)
        elif column == "email_domains":
            fields[column] = domains = parse_domains(raw)
            problems = [problem for problem in map(domain_problem, domains) if problem]
            if problems:
                raise RowError(" ".join(problems))
        elif column == "website" and text and "://" not in text:
            fields[column] = f"https://{text}"
        else:
            fields[column] = text
    if not fields.get("name"):
        raise RowError("the name is empty.")
    return fields


def _validated(organization: Organization) -> None:
    try:
        organization.full_clean(validate_unique=False)
    except ValidationError as error:
        raise RowError(" ".join(
            f"{_label(name)}: {' '.join(messages)}" for name, messages in error.message_dict.items()
        )) from error


def import_organizations(source, *, dry_run: bool = False,
                         progress: Callable[[int, int], None] | None = None) -> ImportReport:
    """Create or update organizations from a CSV file (a path or an open text file); see the module docstring
    for the rules. Raises ImportFileError when the file as a whole cannot be read."""
    name = str(source) if isinstance(source, str | Path) else getattr(source, "name", "CSV file")
    report = ImportReport(source=name, dry_run=dry_run)
    header, rows = _read(source)
    columns = _column_map(header, report)
    with transaction.atomic():
        by_key = {name_key(organization.name): organization for organization in Organization.objects.all()}
        first_line = {}
        for done, (line, cells) in enumerate(rows, start=1):
            if progress:
                progress(done, len(rows))
            if not any(cell.strip() for cell in cells):
                continue
            try:
                fields = _clean_row({column: (cells[i] if i < len(cells) else "") for i, column in columns.items()})
                key = name_key(fields["name"])
                if key in first_line:
                    raise RowError(f"“{fields['name']}” is already on line {first_line[key]}: a name goes on one row.")
                first_line[key] = line
                _check_claims(fields.get("email_domains", ()), key, by_key)
                by_key[key] = _import_row(report, by_key.get(key), fields)
            except RowError as error:
                report.rejected.append((line, str(error)))
        if dry_run:
            transaction.set_rollback(True)
        elif report.created or report.updated:
            AuditRecord.objects.create(
                actor=None, action="organizations_imported", target=report.source, reason="\n".join(report.lines())
            )
    return report


def _check_claims(domains, key: str, by_key: dict[str, Organization]) -> None:
    """A domain belongs to one organization: to one in the database, or to one an earlier row imported."""
    claims = [
        claimed_problem(domain, other.name)
        for other_key, other in by_key.items() if other_key != key
        for domain in domains if domain in other.email_domains
    ]
    if claims:
        raise RowError(" ".join(claims))


def _import_row(report: ImportReport, organization: Organization | None, fields: dict) -> Organization:
    if organization is None:
        if not fields.get("eligibility_basis"):
            raise RowError("a new organization needs an eligibility basis.")
        organization = Organization(**{**_DEFAULTS, **fields})
        _validated(organization)
        organization.save()
        report.created.append(organization.name)
        return organization
    if "eligibility_basis" in fields and not fields["eligibility_basis"]:
        raise RowError("the eligibility basis is empty.")
    fields = {name: value for name, value in fields.items() if name != "name"}
    changes = describe_changes(organization, fields)
    if not changes:
        report.unchanged.append(organization.name)
        return organization
    # A copy, so that a row rejected by validation leaves the organization as it was.
    updated = copy.copy(organization)
    for name, value in fields.items():
        setattr(updated, name, value)
    _validated(updated)
    updated.save()
    report.updated.append((updated.name, changes))
    return updated
