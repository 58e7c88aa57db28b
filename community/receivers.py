"""Listeners for allauth's hooks: thin, each calls one service."""

from allauth.account.signals import email_changed, email_confirmed
from django.dispatch import receiver

from .membership import work_email_changed
from .models import Member
from .organizations import applicant_email_confirmed


@receiver(email_confirmed)
def approve_or_announce_verified_applicant(sender, email_address, **kwargs):
    member = Member.objects.filter(user_id=email_address.user_id).first()
    if member is not None:
        applicant_email_confirmed(member, email_address.email)


# A new work email counts once it is the primary address, and allauth sends email_changed for both ways there:
# "make primary" on the email page, and (with ACCOUNT_CHANGE_EMAIL) confirming the replacement address. Its
# email_confirmed also fires at signup, which the application itself covers.
@receiver(email_changed)
def reverify_new_work_email(sender, user, from_email_address, to_email_address, **kwargs):
    work_email_changed(
        user, email=to_email_address.email, previous_email=from_email_address.email if from_email_address else ""
    )
