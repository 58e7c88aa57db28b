"""The resource library's submission and review: a member submits a guide, handout or recording (a link and/or
files), a moderator approves it, asks for changes or does not accept it, and only approved resources reach the
library (threads.library).

Every change passes the confidentiality guard on its title and description: a resource is read by every member and
stays for years, so a finding stops it until the text is edited (there is no "this is not client information"
answer as for posts; moderators read every resource anyway). Every decision, and every moderator's edit, writes an
AuditRecord whose subject is the submitter; the submitter and the moderators hear through the domain events
resource_submitted and resource_reviewed, sent on commit with ids.
"""

from collections.abc import Iterable, Sequence
from functools import partial

from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404
from django.utils import timezone

from community.access import can_moderate, can_read
from community.models import AuditRecord, Member

from .attachments import save_resource_files
from .events import resource_reviewed, resource_submitted
from .guard import Finding, check
from .markdown import render_markdown
from .models import Attachment, Resource, ResourceTopic, Thread, Webinar

Status = Resource.Status
# The submitter may change a resource while it waits, or when a moderator asked for changes; once it is in the
# library (or was not accepted) only moderators change it.
EDITABLE_BY_SUBMITTER = (Status.SUBMITTED, Status.CHANGES_REQUESTED)


class ResourceError(Exception):
    """The submission, edit or decision is refused; the message says why, for the person who tried."""


class ResourceMayIdentifyClient(ResourceError):
    """Nothing was saved: the guard found `findings` in `text` (the title and description as checked)."""

    def __init__(self, findings: list[Finding], text: str):
        super().__init__("The title or description may identify a client. Nothing was saved.")
        self.findings, self.text = findings, text


def guarded_text(title: str, description: str) -> str:
    """What the guard reads, and what its findings' positions refer to."""
    return f"{title.strip()}\n\n{description.strip()}"


def _target(resource: Resource) -> str:
    return f"Resource #{resource.id} “{resource.title}”"


def _audit(moderator: Member, action: str, resource: Resource, reason: str = "") -> None:
    AuditRecord.objects.create(actor=moderator, action=action, subject_id=resource.submitted_by_id,
                               target=_target(resource), reason=reason)


def _announce_submitted(resource: Resource) -> None:
    transaction.on_commit(partial(resource_submitted.send, Resource, resource_id=resource.id))


def _announce_reviewed(resource: Resource) -> None:
    transaction.on_commit(partial(resource_reviewed.send, Resource, resource_id=resource.id))


def _clean_fields(member: Member, *, title: str, description: str, url: str, audiences: Iterable[str],
                  language: str, thread: Thread | None) -> dict:
    """The checked field values, or ResourceError (ResourceMayIdentifyClient when the guard finds something)."""
    title, description, url, language = title.strip(), description.strip(), url.strip(), language.strip()
    if not title or not description:
        raise ResourceError("A resource needs a title and a description.")
    audiences = list(dict.fromkeys(audiences))
    unknown = set(audiences) - set(Resource.Audience.values)
    if unknown:
        raise ResourceError(f"Unknown audience: {', '.join(sorted(unknown))}.")
    if thread is not None and not can_read(member.user, thread):
        raise ResourceError("There is no thread with that link that you can read.")
    text = guarded_text(title, description)
    findings = check(text)
    if findings:
        raise ResourceMayIdentifyClient(findings, text)
    return {"title": title, "description": description, "description_html": render_markdown(description),
            "url": url, "audiences": audiences, "language": language or "English", "thread": thread}


@transaction.atomic
def submit_resource(*, submitter: Member, title: str, description: str, url: str = "", files: Sequence = (),
                    topics: Iterable[ResourceTopic] = (), audiences: Iterable[str] = (), language: str = "English",
                    webinar: Webinar | None = None, thread: Thread | None = None) -> Resource:
    """A new resource, waiting for a moderator's review. It needs a link or at least one file; `files` are
    uploads, checked like post attachments."""
    if not can_read(submitter.user):
        raise ResourceError("Only members can submit resources.")
    fields = _clean_fields(submitter, title=title, description=description, url=url, audiences=audiences,
                           language=language, thread=thread)
    if not fields["url"] and not files:
        raise ResourceError("Add a link or at least one file: the library needs something to open.")
    now = timezone.now()
    resource = Resource.objects.create(submitted_by=submitter, webinar=webinar, submitted_at=now, updated_at=now,
                                       **fields)
    resource.topics.set(topics)
    save_resource_files(resource, files, submitter)
    _announce_submitted(resource)
    return resource


def may_edit_resource(member: Member, resource: Resource) -> bool:
    """Its submitter while it waits or changes were asked for; moderators always (an approved resource too)."""
    return member.is_moderator or (resource.submitted_by_id == member.id and resource.status in EDITABLE_BY_SUBMITTER)


def _lock(resource_id: int) -> Resource:
    return Resource.objects.select_for_update().defer("search_vector").get(pk=resource_id)


@transaction.atomic
def update_resource(*, editor: Member, resource: Resource, title: str, description: str, url: str = "",
                    files: Sequence = (), remove_files: Iterable[int] = (), topics: Iterable[ResourceTopic] = (),
                    audiences: Iterable[str] = (), language: str = "English", webinar: Webinar | None = None,
                    thread: Thread | None = None, reason: str = "") -> Resource:
    """Change every field; `files` are added, `remove_files` (ids of its files) removed. Edited by its submitter,
    it waits for review again (moderators hear when it comes back after they asked for changes). Edited by a
    moderator, its status stays and the edit is audited with `reason`."""
    resource = _lock(resource.pk)
    if not may_edit_resource(editor, resource):
        raise ResourceError("Only moderators can change a resource once it is in the library or was not accepted."
                            if resource.submitted_by_id == editor.id else "You cannot change this resource.")
    fields = _clean_fields(editor, title=title, description=description, url=url, audiences=audiences,
                           language=language, thread=thread)
    removed = set(remove_files)
    kept_files = resource.files.exclude(pk__in=removed).exists()
    if not fields["url"] and not files and not kept_files:
        raise ResourceError("Add a link or keep at least one file: the library needs something to open.")
    by_submitter = resource.submitted_by_id == editor.id and resource.status in EDITABLE_BY_SUBMITTER
    resubmitted = by_submitter and resource.status == Status.CHANGES_REQUESTED
    if fields["url"] != resource.url:
        # A new link is unknown: the next link check takes it first, and an old "broken" flag no longer applies.
        resource.link_status, resource.link_failures, resource.link_error = Resource.LinkStatus.UNCHECKED, 0, ""
        resource.link_checked_at = None
    for name, value in fields.items():
        setattr(resource, name, value)
    resource.webinar, resource.updated_at = webinar, timezone.now()
    if by_submitter:
        resource.status = Status.SUBMITTED
    resource.save()
    resource.topics.set(topics)
    for attachment in resource.files.filter(pk__in=removed):
        attachment.delete()
        # The stored file goes only once the change is saved: a rollback must not leave a row without its file.
        transaction.on_commit(partial(attachment.file.storage.delete, attachment.file.name))
    save_resource_files(resource, files, editor)
    if not by_submitter:
        _audit(editor, "resource_edited", resource, reason.strip())
    if resubmitted:
        _announce_submitted(resource)
    return resource


def _decide(resource: Resource, moderator: Member, status: str, note: str, action: str) -> Resource:
    """Record a moderator's decision on a resource that waits for review, once (the row is locked, so two
    moderators, or one clicking twice, decide it once)."""
    if not can_moderate(moderator.user):
        raise ResourceError("Only moderators can review resources.")
    resource = _lock(resource.pk)
    if resource.status != Status.SUBMITTED:
        raise ResourceError(f"This resource is not waiting for review: it is “{resource.get_status_display()}”.")
    now = timezone.now()
    resource.status, resource.review_note = status, note.strip()
    resource.reviewed_by, resource.reviewed_at = moderator, now
    if status == Status.APPROVED and resource.approved_at is None:
        resource.approved_at = now
    resource.save(update_fields=["status", "review_note", "reviewed_by", "reviewed_at", "approved_at"])
    _audit(moderator, action, resource, note.strip())
    _announce_reviewed(resource)
    return resource


@transaction.atomic
def approve_resource(*, moderator: Member, resource: Resource, note: str = "") -> Resource:
    """Into the library; `note` (optional) is for the submitter. The first approval dates it as new
    (approved_at, for the digest)."""
    return _decide(resource, moderator, Status.APPROVED, note, "resource_approved")


@transaction.atomic
def request_resource_changes(*, moderator: Member, resource: Resource, note: str) -> Resource:
    """Back to the submitter with what to change; they edit it and it waits for review again."""
    if not note.strip():
        raise ResourceError("Say what should change: the member who submitted it reads this.")
    return _decide(resource, moderator, Status.CHANGES_REQUESTED, note, "resource_changes_requested")


@transaction.atomic
def reject_resource(*, moderator: Member, resource: Resource, reason: str) -> Resource:
    """Not accepted, with the reason the submitter reads; it never reaches the library."""
    if not reason.strip():
        raise ResourceError("Say why it is not accepted: the member who submitted it reads this.")
    return _decide(resource, moderator, Status.REJECTED, reason, "resource_rejected")


# --- Selectors ---------------------------------------------------------------------------------------------------

def _with_details(resources):
    """What a resource's card shows: submitter and organization, webinar, thread, topics, files."""
    return (resources.select_related("submitted_by__organization", "webinar", "thread", "reviewed_by")
            .defer("search_vector", "thread__search_vector")
            .prefetch_related("topics", Prefetch("files", queryset=Attachment.objects.order_by("id"))))


def resource_queue():
    """Resources waiting for a moderator's review, oldest first, with everything the queue shows of each."""
    return _with_details(Resource.objects.filter(status=Status.SUBMITTED)).order_by("submitted_at", "id")


def resources_of(member: Member):
    """A member's own submissions, newest first, in every status."""
    return _with_details(Resource.objects.filter(submitted_by=member)).order_by("-submitted_at", "-id")


def get_resource_for_review(resource_id: int) -> Resource:
    resource = _with_details(Resource.objects.filter(pk=resource_id)).first()
    if resource is None:
        raise Http404
    return resource


def get_editable_resource(member: Member, resource_id: int) -> Resource:
    """The resource, if the member may see it (its submitter, or a moderator); 404 otherwise. Whether they may
    still change it is may_edit_resource."""
    resource = _with_details(Resource.objects.filter(pk=resource_id)).first()
    if resource is None or not (member.is_moderator or resource.submitted_by_id == member.id):
        raise Http404
    return resource

