"""The resource library's submission pages and the moderators' review, through the test client: what a member types
is kept when something is refused, the guard's findings are shown marked, files download only for those who may
read the resource, and the queue shows everything needed to decide in a constant number of queries."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from community.models import AuditRecord, Member
from tests.conftest import login
from threads.models import Resource, ResourceTopic, Webinar
from threads.resources import approve_resource, request_resource_changes, submit_resource

from .test_attachments import PDF_BYTES
from .test_guard_posting import IDENTIFYING

SUBMIT = reverse("submit_resource")
MINE = reverse("my_resources")
QUEUE = reverse("resource_queue")
Status = Resource.Status


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def topic_ids(*slugs):
    return [str(pk) for pk in ResourceTopic.objects.filter(slug__in=slugs).values_list("pk", flat=True)]


def form_data(**overrides):
    data = {"title": "Grounding exercises for groups", "description": "Five short exercises we use to open a group.",
            "url": "https://example.org/grounding", "topics": topic_ids("psychological", "group-work"),
            "audiences": ["clinician", "new_employee"], "language": "English", "webinar": "", "thread": ""}
    return {**data, **overrides}


def pdf(name="Grounding.pdf"):
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


def checked(page: str, name: str) -> set[str]:
    """The values of the ticked checkboxes named `name` in a page."""
    tags = re.findall(rf'<input type="checkbox" name="{name}"[^>]*>', page)
    return {re.search(r'value="([^"]+)"', tag).group(1) for tag in tags if re.search(r"\schecked\b", tag)}


@pytest.fixture
def submitted(member, django_capture_on_commit_callbacks):
    def make(submitter=None, **overrides):
        fields = {"title": "Interpreter briefing checklist", "description": "What to tell an interpreter first.",
                  "url": "https://example.org/interpreters",
                  "topics": ResourceTopic.objects.filter(slug="interpreters"),
                  "audiences": ["case_manager"], **overrides}
        with django_capture_on_commit_callbacks(execute=True):
            return submit_resource(submitter=submitter or member, **fields)

    return make


@pytest.fixture
def waiting(submitted):
    return submitted()


# --- Submitting ------------------------------------------------------------------------------------------------

def test_submit_form_groups_topics_with_the_care_domains_first(member_client):
    page = member_client.get(SUBMIT).content.decode()

    domains, others = page.index("<legend>The five Complex Care domains</legend>"), page.index(
        "<legend>Other topics</legend>")
    assert domains < others
    for name in ["Trauma story", "Biomedical", "Psychological", "Social", "Spiritual"]:
        assert domains < page.index(f"> {name}</label>") < others
    assert others < page.index("> Group work</label>")
    assert "<legend>Who is it for?</legend>" in page and "> Students and researchers</label>" in page
    assert "there is no way to send it anyway" in page


def test_submit_with_a_link_only_waits_for_review(member_client, member, resource_events,
                                                  django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = member_client.post(SUBMIT, form_data())

    assert response.status_code == 302 and response.url == MINE
    resource = Resource.objects.get()
    assert (resource.title, resource.url, resource.status, resource.submitted_by) == (
        "Grounding exercises for groups", "https://example.org/grounding", Status.SUBMITTED, member)
    assert sorted(resource.topics.values_list("slug", flat=True)) == ["group-work", "psychological"]
    assert resource.audiences == ["clinician", "new_employee"]
    assert resource_events == [("submitted", resource.id)]
    page = member_client.get(MINE).content.decode()
    assert "Grounding exercises for groups" in page and "Waiting for review" in page
    assert "is waiting for a moderator&#x27;s review" in page


def test_submit_with_files_only_saves_them(member_client):
    response = member_client.post(SUBMIT, {**form_data(url=""), "files": [pdf(), pdf("Handout.pdf")]})

    assert response.status_code == 302
    resource = Resource.objects.get()
    assert resource.url == ""
    assert sorted(resource.files.values_list("original_name", flat=True)) == ["Grounding.pdf", "Handout.pdf"]


def test_submit_with_neither_link_nor_files_keeps_what_was_typed(member_client):
    response = member_client.post(SUBMIT, form_data(url=""))

    assert response.status_code == 400 and not Resource.objects.exists()
    page = response.content.decode()
    assert "Add a link or at least one file" in page
    assert 'value="Grounding exercises for groups"' in page
    assert "Five short exercises we use to open a group.</textarea>" in page
    assert checked(page, "topics") == set(topic_ids("psychological", "group-work"))
    assert checked(page, "audiences") == {"clinician", "new_employee"}


def test_submit_without_topics_or_audiences_asks_for_them(member_client):
    response = member_client.post(SUBMIT, form_data(topics=[], audiences=[]))

    assert response.status_code == 400 and not Resource.objects.exists()
    page = response.content.decode()
    assert "Choose at least one topic" in page and "Choose at least one group it would help" in page


def test_submit_with_a_fake_file_says_so(member_client):
    response = member_client.post(SUBMIT, {**form_data(url=""), "files": [SimpleUploadedFile("a.pdf", b"MZ\x90")]})

    assert response.status_code == 400 and not Resource.objects.exists()
    page = response.content.decode()
    assert "does not contain what its name says" in page and "Add a link or at least one file" not in page


def test_submit_that_may_identify_a_client_is_not_saved_and_shows_what_was_found(member_client, resource_events):
    response = member_client.post(SUBMIT, form_data(description=IDENTIFYING))

    assert response.status_code == 400 and not Resource.objects.exists() and resource_events == []
    page = response.content.decode()
    assert "Not saved yet: this may identify a client" in page and "We found an A-number" in page
    assert '<mark class="guard-found">A212345678<span class="guard-label"> [A-number]</span></mark>' in page
    assert f"{IDENTIFYING}</textarea>".replace("'", "&#x27;") in page
    assert checked(page, "topics") == set(topic_ids("psychological", "group-work"))
    assert "guard-confirmed" not in page  # nothing to tick: the member edits it


def test_submit_links_a_webinar_and_a_thread_by_its_link(member_client, thread):
    from django.utils import timezone

    webinar = Webinar.objects.create(title="Sleep and trauma", starts_at=timezone.now())
    response = member_client.post(SUBMIT, form_data(webinar=webinar.id,
                                                    thread=f"https://healtalk.example.org/threads/{thread.id}/"))

    assert response.status_code == 302
    resource = Resource.objects.get()
    assert (resource.webinar, resource.thread) == (webinar, thread)


def test_submit_refuses_a_thread_the_member_cannot_read(member_client, held_member, category,
                                                        django_capture_on_commit_callbacks):
    from threads.services import create_thread

    with django_capture_on_commit_callbacks(execute=True):
        hidden = create_thread(author=held_member, category=category, title="Waits", body="For a moderator.")

    response = member_client.post(SUBMIT, form_data(thread=str(hidden.id)))

    assert response.status_code == 400 and not Resource.objects.exists()
    assert "There is no thread with that link or number that you can read" in response.content.decode()


# --- The submitter's page and edits ------------------------------------------------------------------------------

def test_my_resources_shows_the_moderators_note_and_only_own(member_client, waiting, moderator, submitted,
                                                             member_factory):
    request_resource_changes(moderator=moderator, resource=waiting, note="Please add who wrote it.")
    submitted(submitter=member_factory(), title="Someone else's guide")

    page = member_client.get(MINE).content.decode()

    assert "Changes asked for" in page and "What to change" in page and "Please add who wrote it." in page
    assert reverse("edit_resource", args=[waiting.id]) in page
    assert "Someone else&#x27;s guide" not in page


def test_edit_after_changes_requested_resubmits(member_client, waiting, moderator, resource_events,
                                                django_capture_on_commit_callbacks):
    request_resource_changes(moderator=moderator, resource=waiting, note="Please add who wrote it.")
    edit = reverse("edit_resource", args=[waiting.id])
    page = member_client.get(edit).content.decode()
    assert "What the moderator asked" in page and "Please add who wrote it." in page
    assert 'value="Interpreter briefing checklist"' in page
    assert checked(page, "topics") == set(topic_ids("interpreters")) and checked(page, "audiences") == {"case_manager"}

    with django_capture_on_commit_callbacks(execute=True):
        response = member_client.post(edit, form_data(title="Interpreter briefing checklist (by the Cascade team)"))

    assert response.status_code == 302 and response.url == MINE
    waiting.refresh_from_db()
    assert (waiting.status, waiting.title) == (Status.SUBMITTED, "Interpreter briefing checklist (by the Cascade team)")
    assert resource_events == [("submitted", waiting.id)]


def test_edit_that_may_identify_a_client_keeps_the_old_text(member_client, waiting):
    response = member_client.post(reverse("edit_resource", args=[waiting.id]), form_data(description=IDENTIFYING))

    assert response.status_code == 400 and "Not saved yet: this may identify a client" in response.content.decode()
    waiting.refresh_from_db()
    assert waiting.description == "What to tell an interpreter first."


def test_edit_removes_a_file_and_adds_another(member_client, submitted):
    resource = submitted(url="", files=[pdf("Old.pdf")])
    old = resource.files.get()

    response = member_client.post(reverse("edit_resource", args=[resource.id]),
                                  {**form_data(url=""), "remove_files": [old.id], "files": [pdf("New.pdf")]})

    assert response.status_code == 302
    assert list(resource.files.values_list("original_name", flat=True)) == ["New.pdf"]


def test_edit_once_approved_is_closed_to_the_submitter(member_client, waiting, moderator):
    approve_resource(moderator=moderator, resource=waiting)

    response = member_client.post(reverse("edit_resource", args=[waiting.id]), form_data(title="Changed"))

    assert response.status_code == 302 and response.url == MINE
    waiting.refresh_from_db()
    assert waiting.title == "Interpreter briefing checklist"


def test_edit_of_someone_elses_resource_is_not_found(client, waiting, member_factory):
    login(client, member_factory())

    assert client.get(reverse("edit_resource", args=[waiting.id])).status_code == 404
    assert client.post(reverse("edit_resource", args=[waiting.id]), form_data(title="Mine")).status_code == 404


def test_moderator_edits_an_approved_resource_and_it_stays_approved(moderator_client, moderator, waiting, member):
    approve_resource(moderator=moderator, resource=waiting)
    edit = reverse("edit_resource", args=[waiting.id])
    assert "Reason for the change" in moderator_client.get(edit).content.decode()

    response = moderator_client.post(edit, form_data(url="https://example.org/moved", reason="The link moved"))

    assert response.status_code == 302 and response.url == reverse("review_resource", args=[waiting.id])
    waiting.refresh_from_db()
    assert (waiting.status, waiting.url) == (Status.APPROVED, "https://example.org/moved")
    audit = AuditRecord.objects.get(action="resource_edited")
    assert (audit.actor, audit.subject, audit.reason) == (moderator, member, "The link moved")


# --- Review ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("count", [1, 10])
def test_resource_queue_shows_everything_to_decide_in_constant_queries(moderator_client, submitted, member,
                                                                       django_assert_num_queries, count):
    resources = [submitted(title=f"Guide {n}", files=[pdf(f"Guide {n}.pdf")]) for n in range(count)]
    moderator_client.get(QUEUE)

    # user, member, TOTP check, held posts (moderation menu), resources with submitters, organizations, webinars,
    # threads and reviewers, their topics, their files
    with django_assert_num_queries(7):
        page = moderator_client.get(QUEUE).content.decode()

    assert re.findall(r'<li id="resource-(\d+)"', page) == [str(resource.id) for resource in resources]  # oldest first
    assert "From <strong>Dana Member, Cascade Center for Survivors</strong>" in page
    assert "What to tell an interpreter first." in page and "https://example.org/interpreters" in page
    assert "Interpreters" in page
    first = resources[0].files.get()
    assert f'href="/attachments/{first.id}/Guide%200.pdf"' in page
    assert 'aria-current="page">Resources to review</a>' in page


def test_moderator_approves_from_the_queue(moderator_client, moderator, waiting, member, resource_events,
                                           django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = moderator_client.post(reverse("review_resource", args=[waiting.id]), {"decision": "approve"})

    assert response.status_code == 302 and response.url == QUEUE
    waiting.refresh_from_db()
    assert (waiting.status, waiting.reviewed_by) == (Status.APPROVED, moderator) and waiting.approved_at
    assert AuditRecord.objects.get(action="resource_approved").subject == member
    assert resource_events == [("reviewed", waiting.id)]
    assert '<li id="resource-' not in moderator_client.get(QUEUE).content.decode()


def test_moderator_asks_for_changes_with_a_note(moderator_client, moderator, waiting, resource_events,
                                                django_capture_on_commit_callbacks):
    review = reverse("review_resource", args=[waiting.id])
    assert "What should change?" in moderator_client.get(review).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = moderator_client.post(review, {"decision": "changes", "note": "Add the date it was written."})

    assert response.status_code == 302
    waiting.refresh_from_db()
    assert (waiting.status, waiting.review_note) == (Status.CHANGES_REQUESTED, "Add the date it was written.")
    assert AuditRecord.objects.get(action="resource_changes_requested").reason == "Add the date it was written."
    assert resource_events == [("reviewed", waiting.id)]


def test_moderator_asks_for_changes_without_a_note_is_asked_for_one(moderator_client, waiting, resource_events):
    response = moderator_client.post(reverse("review_resource", args=[waiting.id]), {"decision": "changes",
                                                                                     "note": " "})

    assert response.status_code == 400
    assert "Say what should change" in response.content.decode()
    waiting.refresh_from_db()
    assert waiting.status == Status.SUBMITTED and resource_events == []


def test_moderator_rejects_with_a_reason(moderator_client, waiting, resource_events,
                                         django_capture_on_commit_callbacks):
    review = reverse("review_resource", args=[waiting.id])
    response = moderator_client.post(review, {"decision": "reject", "note": ""})
    assert response.status_code == 400 and "Say why it is not accepted" in response.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = moderator_client.post(review, {"decision": "reject", "note": "It sells a paid course."})

    assert response.status_code == 302
    waiting.refresh_from_db()
    assert (waiting.status, waiting.review_note) == (Status.REJECTED, "It sells a paid course.")
    assert AuditRecord.objects.get(action="resource_rejected").reason == "It sells a paid course."
    assert resource_events == [("reviewed", waiting.id)]


def test_moderator_deciding_twice_is_told_it_was_decided(moderator_client, moderator, waiting):
    approve_resource(moderator=moderator, resource=waiting)

    response = moderator_client.post(reverse("review_resource", args=[waiting.id]),
                                     {"decision": "reject", "note": "No"}, follow=True)

    assert "not waiting for review" in response.content.decode()
    waiting.refresh_from_db()
    assert waiting.status == Status.APPROVED


def test_members_cannot_review(member_client, waiting):
    review = reverse("review_resource", args=[waiting.id])

    assert member_client.get(QUEUE).status_code == 403
    assert member_client.get(review).status_code == 403
    assert member_client.post(review, {"decision": "approve"}).status_code == 403
    waiting.refresh_from_db()
    assert waiting.status == Status.SUBMITTED


@pytest.mark.parametrize("status", [Member.Status.PENDING, Member.Status.SUSPENDED, Member.Status.LAPSED, None])
def test_non_members_cannot_reach_any_resource_page(client, member_factory, waiting, status):
    if status is not None:
        login(client, member_factory(status=status))
    urls = [SUBMIT, MINE, reverse("edit_resource", args=[waiting.id]), QUEUE,
            reverse("review_resource", args=[waiting.id])]

    for url in urls:
        for response in (client.get(url), client.post(url, {**form_data(), "decision": "approve"})):
            assert response.status_code == 302, url
            assert response.url.startswith(("/accounts/login/", "/application/")), url
    waiting.refresh_from_db()
    assert waiting.status == Status.SUBMITTED and Resource.objects.count() == 1


# --- Files -----------------------------------------------------------------------------------------------------

@pytest.fixture
def with_file(submitted):
    resource = submitted(url="", files=[pdf("Checklist.pdf")])
    return resource, reverse("attachment", args=[resource.files.get().id, "Checklist.pdf"])


def test_resource_file_while_waiting_downloads_for_its_submitter_and_moderators(member_client, with_file, moderator,
                                                                                client):
    resource, url = with_file
    download = member_client.get(url)

    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF_BYTES
    assert download["Content-Type"] == "application/pdf" and download["X-Content-Type-Options"] == "nosniff"
    assert login(client, moderator).get(url).status_code == 200


def test_resource_file_while_waiting_is_not_found_for_other_members(client, with_file, member_factory, moderator):
    resource, url = with_file
    login(client, member_factory())
    assert client.get(url).status_code == 404

    request_resource_changes(moderator=moderator, resource=resource, note="More please")
    assert client.get(url).status_code == 404


def test_resource_file_once_approved_downloads_for_any_member(client, with_file, member_factory, moderator):
    resource, url = with_file
    approve_resource(moderator=moderator, resource=resource)

    assert login(client, member_factory()).get(url).status_code == 200


def test_resource_file_is_not_for_non_members(client, with_file, member_factory, moderator):
    resource, url = with_file
    approve_resource(moderator=moderator, resource=resource)

    response = client.get(url)
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    login(client, member_factory(status=Member.Status.SUSPENDED))
    assert client.get(url).status_code == 302
