from django.core.management.base import BaseCommand, CommandError

from community.management.progress import progress_bar
from community.organizations import ImportFileError, import_organizations


class Command(BaseCommand):
    help = (
        "Create or update organizations from a UTF-8 CSV file with a header row: name, eligibility_basis, city, "
        "state, website, email_domains (separated by ; , or spaces), active, auto_approve, notes. Rows match "
        "organizations by name, ignoring case and spaces; running the same file again changes nothing. A row "
        "with a bad email domain, an unknown eligibility basis, no name, or a name already used on an earlier "
        "row is rejected and reported by line number; the other rows are imported."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true", help="Report what would change and save nothing.")

    def handle(self, file, dry_run, **options):
        try:
            report = import_organizations(file, dry_run=dry_run, progress=progress_bar(self.stderr))
        except (ImportFileError, OSError) as error:
            raise CommandError(str(error)) from None
        summary, *details = report.lines()
        self.stdout.write(self.style.SUCCESS(summary) if not report.rejected else self.style.WARNING(summary))
        for line in details:
            self.stdout.write(f"  {line}")
