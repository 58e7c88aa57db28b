from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from community.management.progress import progress_bar
from mailer import list_import
from threads.models import Category


class Command(BaseCommand):
    help = (
        "Move the Google Group here. --members: Google Groups' member export (CSV); each person becomes an "
        "invitation, never an account. --mbox: the group's Takeout archive; conversations become threads with "
        "their dates, authors are matched by verified address or kept as named placeholders that the author "
        "claims by verifying that address. Running it again imports nothing twice. --invite: send each person "
        "on the member list who is not here yet one email inviting them to apply."
    )

    def add_arguments(self, parser):
        parser.add_argument("--mbox", type=Path, help="The Takeout archive (topics.mbox).")
        parser.add_argument("--members", type=Path, help="The member list exported from Google Groups (CSV).")
        parser.add_argument("--category", help="Slug of the category for the threads (default: the archive "
                                               "category, created when missing).")
        parser.add_argument("--dry-run", action="store_true", help="Read everything, report, save nothing.")
        parser.add_argument("--invite", action="store_true", help="Email an invitation to apply to everyone on "
                                                                  "the member list not yet invited or here.")

    def handle(self, *args, mbox, members, category, dry_run, invite, **options):
        if not (mbox or members or invite):
            raise CommandError("Give --members, --mbox or --invite (or several).")
        for path in (mbox, members):
            if path is not None and not path.is_file():
                raise CommandError(f"No such file: {path}")
        chosen = None
        if category:
            chosen = Category.objects.filter(slug=category).first()
            if chosen is None:
                raise CommandError(f"No category with the slug “{category}”.")
        try:
            report = list_import.run_import(
                mbox=mbox, members=members.read_bytes() if members else None, category=chosen, dry_run=dry_run,
                progress=progress_bar(self.stderr),
            )
        except ValueError as error:
            raise CommandError(str(error)) from None
        if invite and not dry_run:
            report.invitations_queued = list_import.queue_invitations()
        summary, *details = report.lines()
        self.stdout.write(self.style.SUCCESS(summary))
        for line in details:
            self.stdout.write(f"  {line}")
