from django.core.mail.backends.base import BaseEmailBackend

from .models import CapturedEmail


class CaptureBackend(BaseEmailBackend):
    """Development: keep every outgoing message in the database (readable at /dev/mail/) instead of sending it."""

    def send_messages(self, email_messages):
        captured = [
            CapturedEmail(
                # The From header; list mail's from_email is its envelope sender (a bounce address).
                sender=message.extra_headers.get("From", message.from_email)[:255],
                recipients=", ".join(message.recipients()),
                subject=message.subject[:255],
                raw=message.message().as_string(),
            )
            for message in email_messages
        ]
        CapturedEmail.objects.bulk_create(captured)
        return len(captured)
