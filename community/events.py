"""Domain events of the community app, sent on commit with ids (mailer listens)."""

from django.dispatch import Signal

application_decided = Signal()  # application_id
application_submitted = Signal()  # application_id
application_info_requested = Signal()  # application_id
application_info_answered = Signal()  # application_id
reverification_reminder_due = Signal()  # member_id, reminder (1 or 2)
membership_lapsed = Signal()  # member_id
reverification_required = Signal()  # application_id (kind "change": a moderator checks the new details)
erasure_requested = Signal()  # erasure_request_id (moderators are told one waits)
erasure_link_requested = Signal()  # email_address_id (someone who cannot sign in asks for a link to ask for erasure)
erasure_declined = Signal()  # erasure_request_id (the member hears why)
