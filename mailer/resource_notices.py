"""Notices about the resource library: moderators hear of a submission waiting for review and of links the
periodic check found broken; the submitter hears how their resource was reviewed.

Each runs as a retried task (mailer.tasks) and checks, when it runs, that the notice still applies. Each recipient
is sent to in a transaction holding a SentNotice row for this occasion, so a retry after a partial failure sends to
the rest only and a second run sends nothing: the row's kind names the occasion (the resource's submission, review
or check time), since one resource is submitted, reviewed and checked more than once and each occasion is news.
"""

from datetime import datetime

from django.conf import settings
from django.core.mail import get_connection
from django.db import transaction
from django.urls import reverse

from community.models import Member
from community.selectors import active_moderators
from threads.models import Resource

from .models import SentNotice
from .notices import notice_message, send_once


def _occasion(kind: str, moment: datetime) -> str:
    # Microseconds since the epoch: 16 digits, which keeps the longest kind within SentNotice.kind's 40 characters.
    return f"{kind}:{round(moment.timestamp() * 1_000_000)}"


def _url(name: str, *args) -> str:
    return f"{settings.SITE_URL}{reverse(name, args=args)}"


def _resource(resource_id: int, **state) -> Resource | None:
    return (Resource.objects.select_related("submitted_by__user", "submitted_by__organization")
            .defer("search_vector").filter(pk=resource_id, **state).first())


def send_resource_submitted_notice(resource_id: int) -> None:
    """Each active moderator hears that a resource waits for review, new or changed after they asked."""
    resource = _resource(resource_id, status=Resource.Status.SUBMITTED)
    if resource is None:  # reviewed or changed back before this ran
        return
    submitter = resource.submitted_by
    who = "a former member" if submitter is None else submitter.full_name
    context = {"resource": resource, "who": who, "organization": getattr(submitter, "organization", None),
               "resubmitted": resource.reviewed_at is not None,
               "review_url": _url("review_resource", resource.id), "queue_url": _url("resource_queue")}
    send_once(
        # It comes back to the queue only after a moderator asked for changes: that review (none for a first
        # submission) names this wait, whatever edits happen meanwhile.
        kind=_occasion("resource_submitted", resource.reviewed_at or resource.submitted_at), object_id=resource.id,
        recipients=active_moderators().select_related("mail_preference"),
        build=lambda moderator: notice_message(
            to=moderator.email, subject=f"Resource to review: “{resource.title}” from {who}",
            template="mailer/email/resource_submitted", context=context,
        ),
    )


REVIEW_SUBJECTS = {
    Resource.Status.APPROVED: "Your resource is in the HealTalk library: “{title}”",
    Resource.Status.CHANGES_REQUESTED: "A moderator asks for changes to “{title}”",
    Resource.Status.REJECTED: "Your resource “{title}” was not accepted",
}


def send_resource_reviewed_notice(resource_id: int) -> None:
    """The submitter hears the outcome of the latest review, unless they are no longer an active member: a
    suspended, lapsed or departed member is not written to about the community's library."""
    resource = _resource(resource_id, status__in=list(REVIEW_SUBJECTS), reviewed_at__isnull=False,
                         submitted_by__status=Member.Status.ACTIVE)
    if resource is None:
        return
    submitter = resource.submitted_by
    context = {"resource": resource, "member": submitter, "status": resource.status,
               "resource_url": _url("resource", resource.id), "edit_url": _url("edit_resource", resource.id),
               "mine_url": _url("my_resources"), "guidelines_url": _url("guidelines")}
    send_once(
        kind=_occasion("resource_reviewed", resource.reviewed_at), object_id=resource.id, recipients=[submitter],
        build=lambda member: notice_message(
            to=member.email, subject=REVIEW_SUBJECTS[resource.status].format(title=resource.title),
            template=f"mailer/email/resource_{resource.status}", context=context,
        ),
    )


def send_resource_links_broken_notice(resource_ids: list[int]) -> None:
    """Each active moderator gets one message listing the resources whose links the check newly found broken
    (still broken when this runs), leaving out any they already heard about from this check."""
    resources = list(Resource.objects.defer("search_vector")
                     .filter(pk__in=resource_ids, link_status=Resource.LinkStatus.BROKEN, link_checked_at__isnull=False)
                     .order_by("title", "pk"))
    if not resources:
        return
    with get_connection() as connection:
        for moderator in active_moderators().select_related("mail_preference"):
            with transaction.atomic():
                # Keyed by the check that found it broken: a link fixed and broken again later is news again.
                news = [resource for resource in resources if SentNotice.objects.get_or_create(
                    kind=_occasion("resource_link_broken", resource.link_checked_at), object_id=resource.id,
                    member=moderator)[1]]
                if not news:
                    continue
                count = len(news)
                connection.send_messages([notice_message(
                    to=moderator.email,
                    subject=f"{count} resource link{'s' if count != 1 else ''} in the library "
                            f"{'are' if count != 1 else 'is'} broken",
                    template="mailer/email/resource_links_broken",
                    context={"resources": [{"resource": resource, "url": _url("resource", resource.id)}
                                           for resource in news],
                             "broken_links_url": _url("broken_links")},
                )])
