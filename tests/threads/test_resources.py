"""The resource library's submission and review services (threads.resources): a member submits a link and/or files
with topics and audiences, the confidentiality guard reads the title and description, a moderator approves, asks
for changes or does not accept it (audited, announced on commit with ids), the submitter edits and resubmits."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from community.models import AuditRecord
from threads.models import Attachment, Resource, ResourceTopic
from threads.resources import (
    ResourceError,
    ResourceMayIdentifyClient,
    approve_resource,
    reject_resource,
    request_resource_changes,
    resource_queue,
    resources_of,
    submit_resource,
    update_resource,
)
from threads.services import create_thread

from .test_attachments import PDF_BYTES
from .test_guard_posting import IDENTIFYING

Status = Resource.Status


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def pdf(name="Intake guide.pdf"):
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


def topics(*slugs):
    return list(ResourceTopic.objects.filter(slug__in=slugs))


def fields(**overrides):
    values = {"title": "Sleep hygiene handout", "description": "A one-page handout on **sleep** for clients.",
              "url": "https://example.org/sleep.pdf", "topics": topics("biomedical", "psychological"),
              "audiences": ["clinician", "case_manager"], "language": "Spanish"}
    return {**values, **overrides}


@pytest.fixture
def submit(member, django_capture_on_commit_callbacks):
    def make(submitter=None, **overrides):
        with django_capture_on_commit_callbacks(execute=True):
            return submit_resource(submitter=submitter or member, **fields(**overrides))

    return make


@pytest.fixture
def waiting(submit):
    return submit()


@pytest.fixture
def held_thread(held_member, category, django_capture_on_commit_callbacks):
    """A thread waiting for a moderator: only its author and the moderators can read it."""
    with django_capture_on_commit_callbacks(execute=True):
        return create_thread(author=held_member, category=category, title="Waits", body="For a moderator.")


def test_submit_resource_with_a_link_only_waits_for_review(member, submit, resource_events):
    resource = submit()

    resource.refresh_from_db()
    assert (resource.status, resource.submitted_by, resource.url) == (Status.SUBMITTED, member,
                                                                      "https://example.org/sleep.pdf")
    assert resource.approved_at is None and not resource.files.exists()
    assert resource.description_html == "<p>A one-page handout on <strong>sleep</strong> for clients.</p>\n"
    assert resource_events == [("submitted", resource.id)]


def test_submit_resource_saves_topics_audiences_and_language(submit, thread):
    resource = submit(thread=thread)

    resource.refresh_from_db()
    assert sorted(resource.topics.values_list("slug", flat=True)) == ["biomedical", "psychological"]
    assert resource.audiences == ["clinician", "case_manager"]
    assert resource.get_audiences_display() == ["Clinicians", "Case managers"]
    assert (resource.language, resource.thread) == ("Spanish", thread)


def test_submit_resource_with_files_only_stores_them_as_attachments(member, submit):
    resource = submit(url="", files=[pdf(), pdf("Second page.pdf")])

    files = list(resource.files.order_by("id"))
    assert [(f.original_name, f.content_type, f.uploaded_by, f.post) for f in files] == [
        ("Intake guide.pdf", "application/pdf", member, None), ("Second page.pdf", "application/pdf", member, None)]
    assert "Intake" not in files[0].file.name  # stored under an unguessable name, like post attachments


def test_submit_resource_without_link_or_files_is_refused(member, resource_events):
    with pytest.raises(ResourceError, match="Add a link or at least one file"):
        submit_resource(submitter=member, **fields(url=""))

    assert not Resource.objects.exists() and resource_events == []


def test_submit_resource_checks_files_like_attachments(member):
    fake = SimpleUploadedFile("guide.pdf", b"not a pdf at all")

    with pytest.raises(Exception, match="does not contain what its name says"):
        submit_resource(submitter=member, **fields(files=[fake]))

    assert not Resource.objects.exists() and not Attachment.objects.exists()


def test_submit_resource_that_may_identify_a_client_saves_nothing(member, resource_events):
    with pytest.raises(ResourceMayIdentifyClient) as stop:
        submit_resource(submitter=member, **fields(description=IDENTIFYING))

    assert [finding.kind for finding in stop.value.findings] == ["a_number"]
    found = stop.value.findings[0]
    assert stop.value.text[found.start:found.end] == "A212345678"
    assert not Resource.objects.exists() and resource_events == []


def test_submit_resource_refuses_a_thread_the_member_cannot_read(member, held_thread):
    with pytest.raises(ResourceError, match="no thread with that link"):
        submit_resource(submitter=member, **fields(thread=held_thread))


def test_approve_resource_puts_it_in_the_library_with_audit_and_event(waiting, member, moderator, resource_events,
                                                                      django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        approve_resource(moderator=moderator, resource=waiting, note="Thank you, very useful.")

    waiting.refresh_from_db()
    assert (waiting.status, waiting.reviewed_by, waiting.review_note) == (Status.APPROVED, moderator,
                                                                          "Thank you, very useful.")
    assert waiting.approved_at is not None and waiting.approved_at == waiting.reviewed_at
    audit = AuditRecord.objects.get(action="resource_approved")
    assert (audit.actor, audit.subject, audit.target) == (moderator, member,
                                                          f"Resource #{waiting.id} “Sleep hygiene handout”")
    assert resource_events[-1] == ("reviewed", waiting.id)


def test_request_resource_changes_needs_a_note_and_is_audited(waiting, member, moderator, resource_events,
                                                              django_capture_on_commit_callbacks):
    with pytest.raises(ResourceError, match="Say what should change"):
        request_resource_changes(moderator=moderator, resource=waiting, note="  ")
    with django_capture_on_commit_callbacks(execute=True):
        request_resource_changes(moderator=moderator, resource=waiting, note="Please add the Spanish version.")

    waiting.refresh_from_db()
    assert (waiting.status, waiting.review_note) == (Status.CHANGES_REQUESTED, "Please add the Spanish version.")
    assert waiting.approved_at is None
    audit = AuditRecord.objects.get(action="resource_changes_requested")
    assert (audit.actor, audit.subject, audit.reason) == (moderator, member, "Please add the Spanish version.")
    assert resource_events[-1] == ("reviewed", waiting.id)


def test_reject_resource_needs_a_reason_and_is_audited(waiting, member, moderator, resource_events,
                                                       django_capture_on_commit_callbacks):
    with pytest.raises(ResourceError, match="Say why it is not accepted"):
        reject_resource(moderator=moderator, resource=waiting, reason="")
    with django_capture_on_commit_callbacks(execute=True):
        reject_resource(moderator=moderator, resource=waiting, reason="It is a paid course.")

    waiting.refresh_from_db()
    assert (waiting.status, waiting.review_note, waiting.approved_at) == (Status.REJECTED, "It is a paid course.",
                                                                          None)
    audit = AuditRecord.objects.get(action="resource_rejected")
    assert (audit.actor, audit.subject, audit.reason) == (moderator, member, "It is a paid course.")
    assert resource_events[-1] == ("reviewed", waiting.id)


def test_review_by_a_member_is_refused(waiting, member_factory):
    other = member_factory()

    with pytest.raises(ResourceError, match="Only moderators"):
        approve_resource(moderator=other, resource=waiting)

    waiting.refresh_from_db()
    assert waiting.status == Status.SUBMITTED and not AuditRecord.objects.exists()


def test_review_decides_only_once(waiting, moderator, resource_events, django_capture_on_commit_callbacks):
    approve_resource(moderator=moderator, resource=waiting)

    with pytest.raises(ResourceError, match="not waiting for review"):
        reject_resource(moderator=moderator, resource=waiting, reason="Too late")

    waiting.refresh_from_db()
    assert waiting.status == Status.APPROVED
    assert AuditRecord.objects.filter(action__startswith="resource_").count() == 1


def test_update_resource_after_changes_requested_is_resubmitted(waiting, member, moderator, resource_events,
                                                                django_capture_on_commit_callbacks):
    request_resource_changes(moderator=moderator, resource=waiting, note="Add the file.")
    resource_events.clear()

    with django_capture_on_commit_callbacks(execute=True):
        update_resource(editor=member, resource=waiting, **fields(title="Sleep hygiene (Spanish)",
                                                                  files=[pdf()], topics=topics("social"),
                                                                  audiences=["new_employee"]))

    waiting.refresh_from_db()
    assert (waiting.status, waiting.title, waiting.audiences) == (Status.SUBMITTED, "Sleep hygiene (Spanish)",
                                                                  ["new_employee"])
    assert list(waiting.topics.values_list("slug", flat=True)) == ["social"]
    assert waiting.files.count() == 1 and waiting.updated_at > waiting.submitted_at
    assert resource_events == [("submitted", waiting.id)]
    assert not AuditRecord.objects.filter(action="resource_edited").exists()


def test_update_resource_while_waiting_does_not_announce_it_again(waiting, member, resource_events,
                                                                  django_capture_on_commit_callbacks):
    resource_events.clear()
    with django_capture_on_commit_callbacks(execute=True):
        update_resource(editor=member, resource=waiting, **fields(title="Better title"))

    waiting.refresh_from_db()
    assert (waiting.status, waiting.title, resource_events) == (Status.SUBMITTED, "Better title", [])


def test_update_resource_removing_the_last_file_without_a_link_is_refused(member, submit):
    resource = submit(url="", files=[pdf()])
    file = resource.files.get()

    with pytest.raises(ResourceError, match="keep at least one file"):
        update_resource(editor=member, resource=resource, remove_files=[file.id], **fields(url=""))

    assert resource.files.get() == file


def test_update_resource_removes_chosen_files(member, submit, django_capture_on_commit_callbacks):
    resource = submit(files=[pdf(), pdf("Old version.pdf")])
    old = resource.files.get(original_name="Old version.pdf")

    with django_capture_on_commit_callbacks(execute=True):
        update_resource(editor=member, resource=resource, remove_files=[old.id], **fields())

    assert list(resource.files.values_list("original_name", flat=True)) == ["Intake guide.pdf"]
    assert not old.file.storage.exists(old.file.name)


def test_update_resource_that_may_identify_a_client_keeps_the_old_text(waiting, member):
    with pytest.raises(ResourceMayIdentifyClient):
        update_resource(editor=member, resource=waiting, **fields(description=IDENTIFYING))

    waiting.refresh_from_db()
    assert waiting.title == "Sleep hygiene handout"


def test_update_resource_once_approved_is_refused_to_its_submitter(waiting, member, moderator):
    approve_resource(moderator=moderator, resource=waiting)

    with pytest.raises(ResourceError, match="Only moderators can change"):
        update_resource(editor=member, resource=waiting, **fields(title="Changed"))

    waiting.refresh_from_db()
    assert waiting.title == "Sleep hygiene handout"


def test_update_resource_by_another_member_is_refused(waiting, member_factory):
    with pytest.raises(ResourceError, match="You cannot change"):
        update_resource(editor=member_factory(), resource=waiting, **fields(title="Mine now"))


def test_update_resource_by_a_moderator_keeps_it_approved_and_is_audited(waiting, member, moderator, resource_events,
                                                                         django_capture_on_commit_callbacks):
    approve_resource(moderator=moderator, resource=waiting)
    first_approval = Resource.objects.get(pk=waiting.pk).approved_at
    resource_events.clear()

    with django_capture_on_commit_callbacks(execute=True):
        update_resource(editor=moderator, resource=waiting, reason="New address of the PDF",
                        **fields(url="https://example.org/new-sleep.pdf"))

    waiting.refresh_from_db()
    assert (waiting.status, waiting.url, waiting.approved_at) == (Status.APPROVED,
                                                                  "https://example.org/new-sleep.pdf", first_approval)
    audit = AuditRecord.objects.get(action="resource_edited")
    assert (audit.actor, audit.subject, audit.reason) == (moderator, member, "New address of the PDF")
    assert resource_events == []


def test_update_resource_with_a_new_link_clears_the_broken_flag(waiting, moderator):
    approve_resource(moderator=moderator, resource=waiting)
    Resource.objects.filter(pk=waiting.pk).update(link_status=Resource.LinkStatus.BROKEN, link_failures=3,
                                                  link_error="The site answered 404 Not Found",
                                                  link_checked_at=timezone.now())

    update_resource(editor=moderator, resource=waiting, **fields(url="https://example.org/moved-sleep.pdf"))

    waiting.refresh_from_db()
    assert (waiting.link_status, waiting.link_failures, waiting.link_error, waiting.link_checked_at) == (
        Resource.LinkStatus.UNCHECKED, 0, "", None)  # the next check takes the new link first


def test_resource_queue_lists_only_waiting_oldest_first(submit, moderator):
    first, second, decided = submit(title="First"), submit(title="Second"), submit(title="Decided")
    approve_resource(moderator=moderator, resource=decided)

    assert list(resource_queue()) == [first, second]


def test_resources_of_lists_the_members_own_newest_first(submit, member, member_factory):
    older, newer = submit(title="Older"), submit(title="Newer")
    submit(submitter=member_factory(), title="Someone else's")

    assert list(resources_of(member)) == [newer, older]
