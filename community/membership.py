"""Keeping membership true over time: the yearly confirmation, a fresh eligibility check when a member's
organization or work email changes, leaving, and the profile members show each other.

Every function that depends on the date takes `now`, so tests travel in time instead of sleeping.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.core import signing
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from .eligibility import DOMAIN_VERIFIED, Assessment, OrganizationFacts, assess
from .events import membership_lapsed, reverification_reminder_due, reverification_required
from .live import close_live_connections, close_live_connections_on_commit
from .models import Application, AuditRecord, EligibilityBasis, Member, Organization, User
from .services import announce_application

REVERIFY_EVERY = timedelta(days=365)
SECOND_REMINDER_AFTER = timedelta(days=15)
# Membership lapses 30 days after the first reminder. Counting the last 15 from the second reminder keeps that
# much time after the last nudge even when a daily run was missed.
LAPSE_AFTER_SECOND_REMINDER = timedelta(days=15)
CONFIRMATION_MAX_AGE = timedelta(days=60)
CONFIRMATION_SALT = "healtalk.membership.reverification"
BATCH_SIZE = 500
CONFIRMABLE = (Member.Status.ACTIVE, Member.Status.LAPSED)
PROFILE_FIELDS = (
    "full_name", "role_title", "bio", "areas_of_practice", "show_email", "show_organization", "show_role", "show_bio",
    "staff_role", "expand_content_notes",
)


# --- The yearly confirmation ---------------------------------------------------------------------------------

def verified_since(member: Member) -> datetime:
    """When the member last showed they work at an eligible program: confirmed, else approved, else signed up."""
    return member.verified_at or member.joined_at or member.created_at


def is_due(member: Member, *, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return member.is_active_member and verified_since(member) <= now - REVERIFY_EVERY


def pauses_on(member: Member) -> datetime | None:
    """The earliest day an unanswered reminder lets the membership lapse (said in the reminder)."""
    if member.last_reminder_at is None:
        return None
    if member.reverification_reminders_sent < 2:
        return member.last_reminder_at + SECOND_REMINDER_AFTER + LAPSE_AFTER_SECOND_REMINDER
    return member.last_reminder_at + LAPSE_AFTER_SECOND_REMINDER


def _stamp(member: Member) -> str:
    return verified_since(member).astimezone(UTC).isoformat()


def confirmation_path(member: Member) -> str:
    """The one-click confirmation link. It names the verification it was issued for, so once the member has
    confirmed (or been re-verified) an old link confirms nothing."""
    token = signing.dumps({"m": member.pk, "v": _stamp(member)}, salt=CONFIRMATION_SALT)
    return reverse("reverify_confirm", args=[token])


def confirmation_prompt(user) -> str:
    """The confirmation link to offer a signed-in member whose confirmation is due or has lapsed, else ""."""
    member = getattr(user, "member", None) if getattr(user, "is_authenticated", False) else None
    if member is None:
        return ""
    if member.status == Member.Status.LAPSED or is_due(member):
        return confirmation_path(member)
    return ""


class InvalidConfirmation(Exception):
    """The link cannot confirm anything; str() says why in plain words."""


class AlreadyConfirmed(InvalidConfirmation):
    pass


def _read_token(token: str) -> tuple[int, str]:
    try:
        data = signing.loads(token, salt=CONFIRMATION_SALT, max_age=CONFIRMATION_MAX_AGE)
    except signing.SignatureExpired:
        raise InvalidConfirmation("This link has expired: links in our emails work for 60 days.") from None
    except signing.BadSignature:
        raise InvalidConfirmation("This link is not valid. It may have been cut short when it was copied.") from None
    return data["m"], data["v"]


def _checked(member: Member | None, stamp: str) -> Member:
    if member is None or member.status not in CONFIRMABLE:
        raise InvalidConfirmation("This link no longer applies to this account.")
    if _stamp(member) != stamp:
        raise AlreadyConfirmed("This link is out of date: your membership has been confirmed since it was sent.")
    return member


def member_for_confirmation(token: str) -> Member:
    member_id, stamp = _read_token(token)
    return _checked(Member.objects.select_related("organization").filter(pk=member_id).first(), stamp)


def confirm_still_eligible(token: str, *, now: datetime | None = None) -> Member:
    """The member confirms they still work at an eligible program: verified again for a year, and a lapsed
    membership is active again."""
    member_id, stamp = _read_token(token)
    now = now or timezone.now()
    with transaction.atomic():
        # A second click on the same link finds the new stamp and is told it is already done.
        member = _checked(Member.objects.select_for_update().filter(pk=member_id).first(), stamp)
        was_lapsed = member.status == Member.Status.LAPSED
        member.status = Member.Status.ACTIVE
        member.verified_at = now
        member.reverification_reminders_sent = 0
        member.last_reminder_at = None
        member.save(update_fields=["status", "verified_at", "reverification_reminders_sent", "last_reminder_at"])
        AuditRecord.objects.create(
            actor=member, action="member_reverified", subject=member, created_at=now,
            reason="Confirmed after their membership had lapsed." if was_lapsed else "",
        )
    return member


@dataclass
class ReverificationRun:
    first_reminders: int = 0
    second_reminders: int = 0
    lapsed: int = 0


def run_reverification(*, now: datetime | None = None, batch_size: int = BATCH_SIZE) -> ReverificationRun:
    """The daily pass: remind members whose confirmation is due, remind once more after 15 days, and let
    memberships lapse 30 days after the first reminder. Safe to run twice a day or in parallel."""
    now = now or timezone.now()
    run = ReverificationRun()
    while True:
        first, second, lapsed = _reverification_batch(now, batch_size)
        run.first_reminders += len(first)
        run.second_reminders += len(second)
        run.lapsed += len(lapsed)
        if max(len(first), len(second), len(lapsed)) < batch_size:
            return run


def _claim(members, batch_size: int, *fields: str) -> list:
    # Rows another run holds are skipped, so overlapping runs never remind the same member twice.
    claimed = members.order_by("pk").select_for_update(skip_locked=True)
    if fields:
        return list(claimed.values_list("pk", *fields)[:batch_size])
    return list(claimed.values_list("pk", flat=True)[:batch_size])


@transaction.atomic
def _reverification_batch(now: datetime, batch_size: int) -> tuple[list[int], list[int], list[int]]:
    due = (
        Member.objects.filter(status=Member.Status.ACTIVE)
        .alias(since=Coalesce("verified_at", "joined_at", "created_at"))
        .filter(since__lte=now - REVERIFY_EVERY)
    )
    # Reminders count only when sent since the last verification, whoever verified the member (a moderator
    # approving a change of organization need not know about reminders).
    reminded = due.filter(last_reminder_at__gt=F("since"))
    reminded_long_ago = reminded.filter(last_reminder_at__lte=now - SECOND_REMINDER_AFTER)
    lapsing = _claim(reminded_long_ago.filter(reverification_reminders_sent__gte=2), batch_size, "user_id")
    to_lapse = [member_id for member_id, _ in lapsing]
    second = _claim(reminded_long_ago.filter(reverification_reminders_sent=1), batch_size)
    first = _claim(due.filter(Q(last_reminder_at__isnull=True) | Q(last_reminder_at__lte=F("since"))), batch_size)
    if to_lapse:
        Member.objects.filter(pk__in=to_lapse).update(status=Member.Status.LAPSED)
        AuditRecord.objects.bulk_create([
            AuditRecord(
                actor=None, action="member_lapsed", subject_id=member_id, created_at=now,
                reason="Did not confirm within 30 days of the first of two reminders.",
            )
            for member_id in to_lapse
        ])
    for number, member_ids in ((1, first), (2, second)):
        if member_ids:
            Member.objects.filter(pk__in=member_ids).update(
                reverification_reminders_sent=number, last_reminder_at=now
            )

    def announce():
        for member_id in first:
            reverification_reminder_due.send(Member, member_id=member_id, reminder=1)
        for member_id in second:
            reverification_reminder_due.send(Member, member_id=member_id, reminder=2)
        for member_id, user_id in lapsing:
            membership_lapsed.send(Member, member_id=member_id)
            close_live_connections(user_id)

    transaction.on_commit(announce)
    return first, second, to_lapse


# --- A change of organization or work email ------------------------------------------------------------------

@dataclass(frozen=True)
class ChangeOutcome:
    """What a change of organization or work email led to: an application for moderators, or none."""

    application: Application | None = None

    @property
    def still_member(self) -> bool:
        return self.application is None


def assess_change(*, work_email: str, organization: Organization | None) -> Assessment:
    """What the eligibility check will say about the member's new details (shown before they save)."""
    return assess(work_email, OrganizationFacts.of(organization) if organization else None)


def _reverify_after_change(member: Member, *, work_email: str, change: str, now: datetime,
                           organization_name: str = "", organization_website: str = "",
                           eligibility_category: str = "") -> ChangeOutcome:
    organization = member.organization
    assessment = assess_change(work_email=work_email, organization=organization)
    target = organization.name if organization else organization_name
    if assessment.result == DOMAIN_VERIFIED:
        member.verified_at = now
        member.reverification_reminders_sent = 0
        member.last_reminder_at = None
        member.save(update_fields=["verified_at", "reverification_reminders_sent", "last_reminder_at"])
        AuditRecord.objects.create(
            actor=None, action="member_reverified_automatically", subject=member, target=target, created_at=now,
            reason=" ".join([change, *assessment.evidence]),
        )
        return ChangeOutcome()

    previous = member.applications.order_by("-submitted_at").first()
    member.status = Member.Status.PENDING
    member.save(update_fields=["status"])
    close_live_connections_on_commit(member.user_id)
    application = Application.objects.create(
        member=member,
        kind=Application.Kind.CHANGE,
        organization=organization,
        organization_name="" if organization else (organization_name or getattr(previous, "organization_name", "")),
        organization_website="" if organization else organization_website,
        eligibility_category=(
            organization.eligibility_basis if organization
            else eligibility_category or getattr(previous, "eligibility_category", EligibilityBasis.OTHER_ORR_FUNDED)
        ),
        eligibility_result=assessment.result,
        eligibility_evidence=assessment.evidence,
        role_title=member.role_title,
        work_email=work_email,
        statement=change,
        submitted_at=now,
    )
    AuditRecord.objects.create(
        actor=None, action="member_reverification_required", subject=member, target=target, created_at=now,
        reason=change,
    )
    application_id = application.id
    transaction.on_commit(lambda: reverification_required.send(Application, application_id=application_id))
    announce_application(application)
    return ChangeOutcome(application)


@transaction.atomic
def update_profile(member: Member, *, organization: Organization | None, organization_name: str = "",
                   organization_website: str = "", eligibility_category: str = "", now: datetime | None = None,
                   **profile) -> ChangeOutcome | None:
    """Save what the member shows others. A new organization is checked again: the member stays a member only
    when their work email is at one of its verified domains; otherwise a moderator checks (outcome returned)."""
    now = now or timezone.now()
    member = (
        Member.objects.select_for_update(of=("self",)).select_related("organization", "user").get(pk=member.pk)
    )
    for name in PROFILE_FIELDS:
        setattr(member, name, profile[name])
    previous = member.organization
    member.organization = organization
    member.save()
    if organization == previous:
        return None
    before = previous.name if previous else "an organization not in the directory"
    after = organization.name if organization else f"{organization_name} (not in the directory)"
    return _reverify_after_change(
        member, work_email=member.user.email, change=f"Changed organization on their profile from {before} to {after}.",
        now=now, organization_name=organization_name, organization_website=organization_website,
        eligibility_category=eligibility_category,
    )


@transaction.atomic
def work_email_changed(user: User, *, email: str, previous_email: str = "",
                       now: datetime | None = None) -> ChangeOutcome | None:
    """A member's primary (work) email changed: check that it still shows where they work. Accounts that are
    not active members have nothing to re-check (an applicant's application is still open)."""
    member = (
        Member.objects.select_for_update(of=("self",)).select_related("organization")
        .filter(user=user, status=Member.Status.ACTIVE).first()
    )
    if member is None:
        return None
    change = f"Changed their work email from {previous_email} to {email}." if previous_email else (
        f"Confirmed {email} as their work email."
    )
    return _reverify_after_change(member, work_email=email, change=change, now=now or timezone.now())


# --- Leaving -------------------------------------------------------------------------------------------------

def leave_community(member: Member, *, now: datetime | None = None) -> Member:
    """The member leaves: no more mail, no more sign-in. Their posts stay, with their name."""
    now = now or timezone.now()
    with transaction.atomic():
        member = Member.objects.select_for_update().get(pk=member.pk)
        if member.status == Member.Status.DEPARTED:
            return member
        member.status = Member.Status.DEPARTED
        member.departed_at = now
        member.save(update_fields=["status", "departed_at"])
        # Inactive accounts cannot sign in, and sessions on other devices stop working at their next request.
        User.objects.filter(pk=member.user_id).update(is_active=False)
        AuditRecord.objects.create(actor=member, action="member_left", subject=member, created_at=now)
        close_live_connections_on_commit(member.user_id)
    return member
