import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from community import organizations
from community.models import AuditRecord, EligibilityBasis, Organization
from community.organizations import ImportFileError, import_organizations

FIXTURES = Path(__file__).parent.parent / "fixtures"
MESSY = FIXTURES / "organizations_messy.csv"
UPDATE = FIXTURES / "organizations_update.csv"
SAMPLE = Path(__file__).parent.parent.parent / "docs" / "samples" / "organizations.csv"

MESSY_REJECTED = [
    (6, "“cascade center for survivors” is already on line 2: a name goes on one row."),
    (7, "gmail.com is a free-mail domain: anyone can have an address there, so it verifies no one."),
    (8, "“https://typo.example.org”: write the domain only, without http:// or https://."),
    (9, "unknown eligibility basis “Friends of ORR” (use ORR/TVRA grantee, NCTTP member, ORR office or other "
        "ORR-funded program)."),
    (10, "the name is empty."),
    (11, "harbor.example.org is already a domain of Harbor Clinic."),
    (14, "active must be yes or no, not “perhaps”."),
]


def csv_text(*lines):
    return io.StringIO("\n".join(lines) + "\n")


def test_import_organizations_messy_file_reports_each_rejected_row_by_line(db):
    report = import_organizations(MESSY)

    assert report.created == ["Cascade Center for Survivors", "Harbor Clinic", "Riverbend Refugee Wellness"]
    assert report.updated == [] and report.unchanged == []
    assert report.rejected == MESSY_REJECTED
    assert report.ignored_columns == ["Extra"]
    assert report.summary() == "3 created, 0 updated, 0 unchanged, 7 rejected"


def test_import_organizations_messy_file_cleans_accepted_rows(db):
    import_organizations(MESSY)

    cascade = Organization.objects.get(name="Cascade Center for Survivors")
    assert cascade.eligibility_basis == EligibilityBasis.ORR_TVRA_GRANTEE
    assert (cascade.city, cascade.state, cascade.notes) == ("Portland", "OR", "Main office")
    assert cascade.website == "https://cascade.example.org"
    assert cascade.email_domains == ["cascade.example.org", "clinic.cascade.example.org"]
    assert (cascade.active, cascade.auto_approve_verified_domains) == (True, False)
    harbor = Organization.objects.get(name="Harbor Clinic")
    assert harbor.eligibility_basis == EligibilityBasis.NCTTP_MEMBER
    assert harbor.email_domains == ["harbor.example.org", "harbor-health.example.org"]
    assert (harbor.active, harbor.auto_approve_verified_domains) == (True, True)
    riverbend = Organization.objects.get(name="Riverbend Refugee Wellness")
    assert riverbend.eligibility_basis == EligibilityBasis.OTHER_ORR_FUNDED
    assert riverbend.notes == "Notes with a comma, and a\nsecond line"
    assert (riverbend.active, riverbend.auto_approve_verified_domains) == (True, False)
    assert Organization.objects.count() == 3


def test_import_organizations_rerun_changes_nothing(db):
    import_organizations(MESSY)
    before = list(Organization.objects.values())
    audits = AuditRecord.objects.count()

    report = import_organizations(MESSY)

    assert report.summary() == "0 created, 0 updated, 3 unchanged, 7 rejected"
    assert report.rejected == MESSY_REJECTED
    assert list(Organization.objects.values()) == before
    assert AuditRecord.objects.count() == audits


def test_import_organizations_updates_existing_organization_matched_by_name(organization_factory):
    organization_factory(
        name="Harbor Clinic", email_domains=["harbor.example.org"], notes="Old note.",
        eligibility_basis=EligibilityBasis.ORR_TVRA_GRANTEE,
    )
    organization_factory(
        name="Cascade Center for Survivors", city="Portland", state="OR", website="https://cascade.example.org",
        email_domains=["cascade.example.org"],
    )

    report = import_organizations(UPDATE)

    assert report.created == ["New Dawn Program"]
    assert report.unchanged == ["Cascade Center for Survivors"]
    assert report.updated == [("Harbor Clinic", [
        "eligibility basis: ORR/TVRA grantee program → Member of the National Consortium of Torture Treatment "
        "Programs",
        "city: (empty) → “Baltimore”",
        "state: (empty) → “MD”",
        "website: (empty) → “https://harbor.example.org”",
        "email domains: added harbor-health.example.org",
        "auto-approve verified domains: no → yes",
        "notes edited",
    ])]
    harbor = Organization.objects.get(name="Harbor Clinic")  # the stored spelling of the name is kept
    assert harbor.email_domains == ["harbor.example.org", "harbor-health.example.org"]
    assert harbor.auto_approve_verified_domains
    assert harbor.notes == "Confirmed with the consortium."
    audit = AuditRecord.objects.get(action="organizations_imported")
    assert audit.actor is None
    assert audit.target == str(UPDATE)
    assert audit.reason.splitlines()[0] == f"{UPDATE}: 1 created, 1 updated, 1 unchanged, 0 rejected."
    assert "updated: Harbor Clinic (eligibility basis:" in audit.reason


def test_import_organizations_leaves_fields_of_missing_columns(organization_factory):
    organization = organization_factory(
        name="Harbor Clinic", city="Baltimore", notes="Keep me.", auto_approve_verified_domains=True,
        email_domains=["harbor.example.org"],
    )

    report = import_organizations(
        csv_text("name,email_domains", "Harbor Clinic,harbor.example.org harbor2.example.org")
    )

    assert report.updated == [("Harbor Clinic", ["email domains: added harbor2.example.org"])]
    organization.refresh_from_db()
    assert (organization.city, organization.notes, organization.auto_approve_verified_domains) == (
        "Baltimore", "Keep me.", True
    )


def test_import_organizations_moves_a_domain_when_its_old_owner_comes_first(organization_factory):
    organization_factory(name="Old Home", email_domains=["shared.example.org", "old.example.org"])

    report = import_organizations(csv_text(
        "name,eligibility_basis,email_domains",
        "Old Home,NCTTP member,old.example.org",
        "New Home,NCTTP member,shared.example.org",
    ))

    assert report.rejected == []
    assert Organization.objects.get(name="New Home").email_domains == ["shared.example.org"]


def test_import_organizations_new_organization_needs_eligibility_basis(db):
    report = import_organizations(csv_text("name,email_domains", "Nowhere Program,nowhere.example.org"))

    assert report.rejected == [(2, "a new organization needs an eligibility basis.")]
    assert not Organization.objects.exists()


def test_import_organizations_rejects_invalid_website(db):
    report = import_organizations(csv_text("name,eligibility_basis,website", "Harbor Clinic,NCTTP,not a website"))

    assert report.rejected == [(2, "website: Enter a valid URL.")]


@pytest.mark.parametrize("basis, code", [
    ("orr_tvra", EligibilityBasis.ORR_TVRA_GRANTEE),
    ("ORR/TVRA grantee program", EligibilityBasis.ORR_TVRA_GRANTEE),
    ("orr/tvra  GRANTEE", EligibilityBasis.ORR_TVRA_GRANTEE),
    ("NCTTP", EligibilityBasis.NCTTP_MEMBER),
    ("Member of the National Consortium of Torture Treatment Programs", EligibilityBasis.NCTTP_MEMBER),
    ("ORR office", EligibilityBasis.ORR_STAFF),
    ("ORR staff", EligibilityBasis.ORR_STAFF),
    ("Other ORR-funded program", EligibilityBasis.OTHER_ORR_FUNDED),
    ("orr_funded", EligibilityBasis.OTHER_ORR_FUNDED),
])
def test_import_organizations_accepts_basis_codes_and_labels(db, basis, code):
    import_organizations(csv_text("name,eligibility_basis", f"Harbor Clinic,{basis}"))

    assert Organization.objects.get().eligibility_basis == code


def test_import_organizations_dry_run_saves_nothing(db):
    report = import_organizations(MESSY, dry_run=True)

    assert report.summary() == "3 created, 0 updated, 0 unchanged, 7 rejected"
    assert report.lines()[0].endswith("Dry run: nothing was saved.")
    assert not Organization.objects.exists()
    assert not AuditRecord.objects.exists()


def test_import_organizations_crash_leaves_nothing_half_done(db, monkeypatch):
    validated = organizations._validated
    calls = []

    def crash_on_third_row(organization):
        calls.append(organization.name)
        if len(calls) == 3:
            raise RuntimeError("disk full")
        validated(organization)

    monkeypatch.setattr(organizations, "_validated", crash_on_third_row)

    with pytest.raises(RuntimeError):
        import_organizations(MESSY)

    assert not Organization.objects.exists()
    assert not AuditRecord.objects.exists()


def test_import_organizations_refuses_file_that_is_not_utf8(db):
    with pytest.raises(ImportFileError, match="not UTF-8"):
        import_organizations(FIXTURES / "organizations_latin1.csv")


def test_import_organizations_refuses_file_without_name_column(db):
    with pytest.raises(ImportFileError, match="no “name” column"):
        import_organizations(csv_text("organisation title,email_domains", "Harbor,harbor.example.org"))


def test_import_organizations_sample_file_imports_cleanly(db):
    report = import_organizations(SAMPLE)

    assert report.rejected == []
    assert len(report.created) == 5
    domains = [domain for ours in Organization.objects.values_list("email_domains", flat=True) for domain in ours]
    assert domains and all(domain.endswith(".example.org") for domain in domains)


def test_import_organizations_command_prints_report_and_progress(db):
    stdout, stderr = io.StringIO(), io.StringIO()

    call_command("import_organizations", str(MESSY), stdout=stdout, stderr=stderr)

    report = stdout.getvalue().splitlines()
    assert report[0] == f"{MESSY}: 3 created, 0 updated, 0 unchanged, 7 rejected."
    assert "  created: Harbor Clinic" in report
    assert "  line 7: gmail.com is a free-mail domain: anyone can have an address there, so it verifies no one." \
        in report
    assert stderr.getvalue().rstrip().endswith("[##############################] 12/12")
    assert Organization.objects.count() == 3


def test_import_organizations_command_dry_run(db):
    stdout = io.StringIO()

    call_command("import_organizations", str(MESSY), "--dry-run", stdout=stdout, stderr=io.StringIO())

    assert "Dry run: nothing was saved." in stdout.getvalue()
    assert not Organization.objects.exists()


def test_import_organizations_command_missing_file_is_an_error(db):
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_organizations", "/nonexistent/organizations.csv", stderr=io.StringIO())
