"""Deliver one message from an MTA pipe, e.g. in Postfix master.cf (one line):
  healtalk unix - n n - - pipe flags=R user=healtalk
    argv=/srv/healtalk/manage.py inbound_email --recipient ${recipient}
"""

import sys

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from mailer.inbound import receive_raw

EX_TEMPFAIL = 75  # sysexits.h: the MTA keeps the message and tries again later


class Command(BaseCommand):
    help = "Store one raw RFC 822 message read from standard input and queue it for processing."
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument("--recipient", default="", help="The envelope recipient, as the MTA saw it.")

    def handle(self, *args, recipient, **options):
        raw = (options.get("stdin") or sys.stdin.buffer).read()
        try:
            inbound = receive_raw(raw, envelope_recipient=recipient)
        except DatabaseError as error:
            raise CommandError(f"Could not store the message: {error}", returncode=EX_TEMPFAIL) from error
        if inbound is None:
            self.stdout.write("Already received; nothing to do.")
        else:
            self.stdout.write(f"Stored as inbound message {inbound.id}.")
