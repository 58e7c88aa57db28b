from datetime import timedelta

from django.db.models import Prefetch, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from .models import Application, AuditRecord, Member, Organization

# An application no moderator has looked at for this long is flagged in the queue and in the daily reminder.
STALE_AFTER = timedelta(days=3)


def _applications_for_moderators():
    # An answered question puts the application back in the queue: it has waited since the answer came.
    return Application.objects.select_related("member__user", "member__organization", "organization").annotate(
        waiting_since=Coalesce("info_responded_at", "submitted_at")
    )


def pending_applications():
    """The queue, oldest first. For a change of organization or email, the member's earlier applications and
    the moderation record about them come along (two queries for the whole page)."""
    return (
        _applications_for_moderators()
        .filter(status=Application.Status.PENDING)
        .prefetch_related(
            Prefetch(
                "member__applications",
                queryset=Application.objects.select_related("organization").order_by("-submitted_at"),
                to_attr="application_history",
            ),
            Prefetch(
                "member__audit_subjects",
                queryset=AuditRecord.objects.select_related("actor").order_by("-created_at"),
                to_attr="audit_history",
            ),
        )
        .order_by("submitted_at")
    )


def applications_awaiting_applicant():
    return _applications_for_moderators().filter(status=Application.Status.INFO_REQUESTED).order_by(
        "info_requested_at"
    )


def stale_applications(now=None):
    now = now or timezone.now()
    return _applications_for_moderators().filter(
        status=Application.Status.PENDING, waiting_since__lt=now - STALE_AFTER
    ).order_by("submitted_at")


def active_moderators():
    return Member.objects.filter(
        status=Member.Status.ACTIVE, role__in=[Member.Role.MODERATOR, Member.Role.ADMIN]
    ).select_related("user")


def members_for_moderation(*, search="", status=""):
    members = Member.objects.select_related("user", "organization").order_by("full_name", "pk")
    if status:
        members = members.filter(status=status)
    if search:
        members = members.filter(
            Q(full_name__icontains=search) | Q(user__email__icontains=search)
            | Q(organization__name__icontains=search) | Q(role_title__icontains=search)
        )
    return members


def member_for_moderation(member_id):
    return Member.objects.select_related("user", "organization").prefetch_related(
        Prefetch(
            "audit_subjects", queryset=AuditRecord.objects.select_related("actor").order_by("-created_at"),
            to_attr="audit_history",
        ),
        Prefetch(
            "applications", queryset=Application.objects.select_related("organization").order_by("-submitted_at"),
            to_attr="application_history",
        ),
    ).get(pk=member_id)


def audit_log(*, action=""):
    records = AuditRecord.objects.select_related("actor", "subject").order_by("-created_at", "-pk")
    return records.filter(action=action) if action else records


def audit_actions():
    return list(AuditRecord.objects.order_by("action").values_list("action", flat=True).distinct())


def latest_application(member):
    return member.applications.order_by("-submitted_at").first() if member else None


def directory_members(*, query="", organization=None, state=""):
    """Active members as the directory shows them. Search and filters look only at what each member chose to
    show, so filtering by an organization never reveals someone who hid theirs."""
    members = Member.objects.filter(status=Member.Status.ACTIVE).select_related("user", "organization")
    if query:
        members = members.filter(
            Q(full_name__icontains=query)
            | Q(show_organization=True, organization__name__icontains=query)
            | Q(show_bio=True, areas_of_practice__icontains=query)
        )
    if organization:
        members = members.filter(show_organization=True, organization=organization)
    if state:
        members = members.filter(show_organization=True, organization__state__iexact=state)
    return members.order_by("full_name", "pk")


def directory_organizations():
    """Organizations someone in the directory shows: the ones worth filtering by."""
    return Organization.objects.filter(
        member__status=Member.Status.ACTIVE, member__show_organization=True
    ).distinct().order_by("name")


def directory_states():
    return list(
        directory_organizations().exclude(state="").order_by("state").values_list("state", flat=True).distinct()
    )
