from allauth.account.models import EmailAddress
from django.db import transaction
from django.utils import timezone

from .events import application_decided
from .models import Application, AuditRecord, Member, User


class DecisionError(Exception):
    pass


def submit_application(*, user, full_name, eligibility_category, organization, organization_name,
                       role_title, statement) -> Application:
    member, _ = Member.objects.get_or_create(
        user=user, defaults={"full_name": full_name, "organization": organization, "role_title": role_title}
    )
    return Application.objects.create(
        member=member,
        eligibility_category=eligibility_category,
        organization=organization,
        organization_name=organization_name,
        role_title=role_title,
        work_email=user.email,
        statement=statement,
    )


def _decide(application: Application, moderator: Member, status: str, reason: str) -> Application:
    if not moderator.is_moderator:
        raise DecisionError("Only moderators decide applications.")
    with transaction.atomic():
        application = Application.objects.select_for_update().select_related("member").get(pk=application.pk)
        if application.status != Application.Status.PENDING:
            raise DecisionError("This application has already been decided.")
        now = timezone.now()
        application.status = status
        application.decided_at = now
        application.decided_by = moderator
        application.decision_reason = reason
        application.save()
        member = application.member
        if status == Application.Status.APPROVED:
            member.status = Member.Status.ACTIVE
            member.joined_at = now
            member.organization = application.organization
        else:
            member.status = Member.Status.REJECTED
        member.save()
        AuditRecord.objects.create(actor=moderator, action=f"application_{status}", subject=member, reason=reason)
        application_id = application.id
        transaction.on_commit(lambda: application_decided.send(Application, application_id=application_id))
    return application


def approve_application(application: Application, moderator: Member) -> Application:
    return _decide(application, moderator, Application.Status.APPROVED, "")


def reject_application(application: Application, moderator: Member, reason: str) -> Application:
    if not reason.strip():
        raise DecisionError("Give the applicant a reason.")
    return _decide(application, moderator, Application.Status.REJECTED, reason.strip())


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
