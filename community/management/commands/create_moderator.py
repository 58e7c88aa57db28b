import getpass
import os

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from community.models import User
from community.services import create_first_moderator


class Command(BaseCommand):
    help = "Create the first moderator (an approved admin member) of a new HealTalk site."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--name", required=True, help="Full name shown to members.")
        parser.add_argument(
            "--password-from-env", metavar="VAR",
            help="Read the password from this environment variable instead of asking.",
        )

    def handle(self, email, name, password_from_env, **options):
        if User.objects.filter(email__iexact=email).exists():
            raise CommandError(f"An account for {email} already exists.")
        password = os.environ.get(password_from_env, "") if password_from_env else getpass.getpass("Password: ")
        try:
            validate_password(password)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        create_first_moderator(email=email, full_name=name, password=password)
        self.stdout.write(self.style.SUCCESS(
            f"{name} <{email}> can now sign in. Before the first moderator page they will be asked to set up "
            "two-step verification with an authenticator app."
        ))
