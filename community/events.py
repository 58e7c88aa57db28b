"""Domain events of the community app, sent on commit with ids (mailer listens)."""

from django.dispatch import Signal

application_decided = Signal()  # application_id
