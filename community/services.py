from dataclasses import dataclass, field

from allauth.account.models import EmailAddress
from django.db import transaction
from django.utils import timezone

from .eligibility import DOMAIN_VERIFIED, OrganizationFacts, assess
from .events import (
    application_decided,
    application_info_answered,
    application_info_requested,
    application_submitted,
)
from .live import close_live_connections_on_commit
from .models import Application, AuditRecord, Member, User


class ModerationError(Exception):
    """The action is refused; the message says why, for the moderator to read."""


# Applications a moderator can still decide (including those waiting for the applicant's answer).
OPEN_APPLICATION = (Application.Status.PENDING, Application.Status.INFO_REQUESTED)


def submit_application(*, user, full_name, eligibility_category, organization, organization_name,
                       role_title, statement, organization_website="") -> Application:
    """The evidence is assessed now, for moderators to see; auto-approval, or telling moderators, waits until
    the work email is verified (community.organizations.applicant_email_confirmed)."""
    assessment = assess(user.email, OrganizationFacts.of(organization) if organization else None)
    member, _ = Member.objects.get_or_create(
        user=user, defaults={"full_name": full_name, "organization": organization, "role_title": role_title}
    )
    application = Application.objects.create(
        member=member,
        eligibility_category=eligibility_category,
        organization=organization,
        organization_name=organization_name,
        organization_website=organization_website,
        role_title=role_title,
        work_email=user.email,
        statement=statement,
        eligibility_result=assessment.result,
        eligibility_evidence=assessment.evidence,
    )
    return application


def announce_application(application: Application) -> None:
    """Tell moderators an application waits for them, once its email address is known to be real."""
    application_id = application.id
    transaction.on_commit(lambda: application_submitted.send(Application, application_id=application_id))


def _require_moderator(moderator: Member | None) -> None:
    if moderator is None or not moderator.is_moderator:
        raise ModerationError("Only moderators can do this.")


def _audit(actor: Member | None, action: str, subject: Member, *, target: str = "", reason: str = "") -> None:
    AuditRecord.objects.create(actor=actor, action=action, subject=subject, target=target, reason=reason)


def _application_target(application: Application) -> str:
    return f"Application #{application.id} ({application.organization_display})"


def _lock_open_application(application_id: int) -> Application:
    application = (
        Application.objects.select_for_update(of=("self",))
        .select_related("member", "organization")
        .get(pk=application_id)
    )
    if application.status not in OPEN_APPLICATION:
        raise ModerationError("This application has already been decided.")
    return application


def _decide_locked(application: Application, moderator: Member, status: str, reason: str) -> None:
    now = timezone.now()
    application.status = status
    application.decided_at = now
    application.decided_by = moderator
    application.decision_reason = reason
    application.save()
    member = application.member
    if status == Application.Status.APPROVED:
        member.status = Member.Status.ACTIVE
        member.joined_at = member.joined_at or now
        member.verified_at = now
        member.organization = application.organization
    else:
        member.status = Member.Status.REJECTED
    member.save()
    _audit(moderator, f"application_{status}", member, target=_application_target(application), reason=reason)
    application_id = application.id
    transaction.on_commit(lambda: application_decided.send(Application, application_id=application_id))


def _decide(application: Application, moderator: Member, status: str, reason: str) -> Application:
    _require_moderator(moderator)
    with transaction.atomic():
        application = _lock_open_application(application.pk)
        _decide_locked(application, moderator, status, reason)
    return application


def approve_application(application: Application, moderator: Member) -> Application:
    return _decide(application, moderator, Application.Status.APPROVED, "")


def reject_application(application: Application, moderator: Member, reason: str) -> Application:
    if not reason.strip():
        raise ModerationError("Give the applicant a reason.")
    return _decide(application, moderator, Application.Status.REJECTED, reason.strip())


@dataclass
class BulkApproval:
    approved: list[Application] = field(default_factory=list)
    refused: list[tuple[Application, str]] = field(default_factory=list)


@transaction.atomic
def bulk_approve_applications(application_ids, moderator: Member) -> BulkApproval:
    """Approve many at once, but only where the work email matched the organization: anything else needs a
    moderator to look at it, so it is refused and named, and the others still go through."""
    _require_moderator(moderator)
    result = BulkApproval()
    applications = (
        Application.objects.select_for_update(of=("self",))
        .select_related("member", "organization")
        .filter(pk__in=application_ids)
        .order_by("pk")
    )
    for application in applications:
        if application.status not in OPEN_APPLICATION:
            result.refused.append((application, "already decided"))
        elif application.eligibility_result != DOMAIN_VERIFIED:
            result.refused.append((application, "needs a manual check"))
        else:
            _decide_locked(application, moderator, Application.Status.APPROVED, "")
            result.approved.append(application)
    return result


def request_more_information(application: Application, moderator: Member, question: str) -> Application:
    _require_moderator(moderator)
    if not question.strip():
        raise ModerationError("Write the question for the applicant.")
    with transaction.atomic():
        application = _lock_open_application(application.pk)
        if application.status == Application.Status.INFO_REQUESTED:
            raise ModerationError("This applicant has not answered the last question yet.")
        application.status = Application.Status.INFO_REQUESTED
        application.info_request = question.strip()
        application.info_requested_at = timezone.now()
        application.info_response = ""
        application.info_responded_at = None
        application.save()
        _audit(moderator, "application_info_requested", application.member,
               target=_application_target(application), reason=application.info_request)
        application_id = application.id
        transaction.on_commit(lambda: application_info_requested.send(Application, application_id=application_id))
    return application


def answer_information_request(application: Application, answer: str) -> Application:
    """The applicant's answer puts the application back in the moderators' queue."""
    if not answer.strip():
        raise ModerationError("Write your answer.")
    with transaction.atomic():
        application = Application.objects.select_for_update(of=("self",)).select_related("member", "organization") \
            .get(pk=application.pk)
        if application.status != Application.Status.INFO_REQUESTED:
            raise ModerationError("There is no question waiting for your answer.")
        application.status = Application.Status.PENDING
        application.info_response = answer.strip()
        application.info_responded_at = timezone.now()
        application.save()
        # The applicant acts here, not a moderator; recorded so the trail of the application is complete.
        _audit(application.member, "application_info_answered", application.member,
               target=_application_target(application), reason=application.info_response)
        application_id = application.id
        transaction.on_commit(lambda: application_info_answered.send(Application, application_id=application_id))
    return application


def _lock_manageable_member(member: Member, actor: Member) -> Member:
    """Moderators act on members; only an admin acts on a moderator; nobody on an admin or on themselves
    here (that is what the Django admin is for)."""
    _require_moderator(actor)
    member = Member.objects.select_for_update(of=("self",)).select_related("user").get(pk=member.pk)
    if member.pk == actor.pk:
        raise ModerationError("You cannot do this to your own account.")
    if member.status == Member.Status.PLACEHOLDER:
        raise ModerationError(f"{member} is an author of the imported archive, not an account: nothing to manage "
                              "until they claim their posts by verifying their address.")
    if member.role == Member.Role.ADMIN:
        raise ModerationError("Administrators cannot be suspended or removed here.")
    if member.role == Member.Role.MODERATOR and actor.role != Member.Role.ADMIN:
        raise ModerationError("Only an administrator can do this to a moderator.")
    return member


def _require_reason(reason: str) -> str:
    if not reason.strip():
        raise ModerationError("Give a reason: it is kept in the audit log.")
    return reason.strip()


@transaction.atomic
def suspend_member(member: Member, moderator: Member, reason: str) -> Member:
    reason = _require_reason(reason)
    member = _lock_manageable_member(member, moderator)
    if member.status not in (Member.Status.ACTIVE, Member.Status.LAPSED):
        raise ModerationError(f"{member} is not an active member ({member.get_status_display().lower()}).")
    member.status = Member.Status.SUSPENDED
    member.save(update_fields=["status"])
    _audit(moderator, "member_suspended", member, reason=reason)
    close_live_connections_on_commit(member.user_id)
    return member


@transaction.atomic
def reactivate_member(member: Member, moderator: Member, reason: str) -> Member:
    reason = _require_reason(reason)
    member = _lock_manageable_member(member, moderator)
    if member.status not in (Member.Status.SUSPENDED, Member.Status.DEPARTED):
        raise ModerationError(f"{member} is not suspended or removed.")
    member.status = Member.Status.ACTIVE
    member.departed_at = None
    member.save(update_fields=["status", "departed_at"])
    member.user.is_active = True
    member.user.save(update_fields=["is_active"])
    _audit(moderator, "member_reactivated", member, reason=reason)
    return member


@transaction.atomic
def remove_member(member: Member, moderator: Member, reason: str) -> Member:
    """Their posts stay; they can no longer sign in and get no mail."""
    reason = _require_reason(reason)
    member = _lock_manageable_member(member, moderator)
    if member.status == Member.Status.DEPARTED:
        raise ModerationError(f"{member} has already left the community.")
    member.status = Member.Status.DEPARTED
    member.departed_at = timezone.now()
    member.save(update_fields=["status", "departed_at"])
    member.user.is_active = False
    member.user.save(update_fields=["is_active"])
    _audit(moderator, "member_removed", member, reason=reason)
    close_live_connections_on_commit(member.user_id)
    return member


@transaction.atomic
def _set_posts_held(member: Member, moderator: Member, held: bool, reason: str) -> Member:
    """Google Groups' "moderate" posting permission: each post waits for a moderator (threads.services)."""
    reason = _require_reason(reason)
    member = _lock_manageable_member(member, moderator)
    if member.is_moderator:
        raise ModerationError("Moderators' posts are never held.")
    if member.posts_held == held:
        raise ModerationError(f"{member}'s posts are already {'held for approval' if held else 'published at once'}.")
    member.posts_held = held
    member.save(update_fields=["posts_held"])
    _audit(moderator, "member_posts_held" if held else "member_posts_released", member, reason=reason)
    return member


def hold_posts(member: Member, moderator: Member, reason: str) -> Member:
    return _set_posts_held(member, moderator, True, reason)


def release_posts(member: Member, moderator: Member, reason: str) -> Member:
    """From now on; posts already waiting stay in the held-posts queue for a moderator to decide."""
    return _set_posts_held(member, moderator, False, reason)


@transaction.atomic
def change_role(member: Member, admin: Member, role: str, reason: str = "") -> Member:
    if admin is None or not admin.is_moderator or admin.role != Member.Role.ADMIN:
        raise ModerationError("Only an administrator can change roles.")
    if role not in Member.Role.values:
        raise ModerationError("Choose member, moderator or administrator.")
    member = Member.objects.select_for_update(of=("self",)).get(pk=member.pk)
    if member.pk == admin.pk:
        raise ModerationError("Ask another administrator to change your own role.")
    if member.role == role:
        raise ModerationError(f"{member} is already a {member.get_role_display().lower()}.")
    before = member.get_role_display()
    member.role = role
    member.save(update_fields=["role"])
    _audit(admin, "role_changed", member, target=f"{before} → {member.get_role_display()}", reason=reason.strip())
    return member


@transaction.atomic
def create_first_moderator(*, email: str, full_name: str, password: str) -> Member:
    """The first moderator of a new site, who then approves everyone else; also a Django admin."""
    user = User.objects.create_superuser(email=email, password=password)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    member = Member.objects.create(
        user=user, full_name=full_name, status=Member.Status.ACTIVE, role=Member.Role.ADMIN,
        joined_at=timezone.now(),
    )
    AuditRecord.objects.create(actor=None, action="first_moderator_created", subject=member)
    return member
