"""Mail about the resource library: moderators hear of submissions and broken links, submitters hear the review,
weekly digests list what is new in the library. The notices are sent through the domain events, as threads sends
them, so the receivers and tasks are what runs."""

import smtplib
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from community.models import Member
from mailer import resource_notices
from mailer.digests import send_due_digests
from mailer.models import DigestLog, MailPreference
from tests.conftest import login
from tests.threads.test_econsultations import RefusesSecondMessage
from threads.events import resource_links_broken, resource_reviewed, resource_submitted
from threads.markdown import render_markdown
from threads.models import Resource, ResourceTopic
from threads.resources import approve_resource, request_resource_changes, submit_resource, update_resource

from .test_digests import MORNING, backdate, html_of, to

Status = Resource.Status


@pytest.fixture(autouse=True)
def _digest_times(settings):
    settings.DIGEST_HOUR = 7
    settings.DIGEST_WEEKDAY = MORNING.weekday()


@pytest.fixture
def submitter(member_factory):
    return member_factory(full_name="Sam Submitter")


@pytest.fixture
def moderators(moderator, admin, member_factory):
    """The two who should hear, and a suspended moderator who should not."""
    member_factory(role=Member.Role.MODERATOR, status=Member.Status.SUSPENDED, full_name="Sue Suspended")
    return [moderator, admin]


def make_resource(submitter, *, title="Grounding exercises for interpreters", status=Status.SUBMITTED,
                  description="A **two-page** handout on grounding before and after a session.", topics=(),
                  approved_at=None, **fields):
    now = timezone.now()
    resource = Resource.objects.create(
        title=title, description=description, description_html=render_markdown(description),
        url=fields.pop("url", "https://example.org/grounding.pdf"), submitted_by=submitter, status=status,
        approved_at=approved_at, reviewed_at=now if status != Status.SUBMITTED else None, **fields,
    )
    resource.topics.set(ResourceTopic.objects.filter(slug__in=topics))
    return resource


def review(resource, status, note=""):
    """A moderator's decision as threads.resources records it, then its event."""
    Resource.objects.filter(pk=resource.pk).update(status=status, review_note=note, reviewed_at=timezone.now())
    resource_reviewed.send(sender=Resource, resource_id=resource.id)


def addressed_to(mailoutbox, member):
    return [message for message in mailoutbox if message.to == [member.email]]


def absolute(name, *args):
    return f"{settings.SITE_URL}{reverse(name, args=args)}"


# --- Submitted: the moderators hear ---------------------------------------------------------------------------

def test_resource_submitted_notice_tells_each_active_moderator(submitter, moderators, member_factory, mailoutbox):
    member_factory(full_name="Mel Member")  # not a moderator
    resource = make_resource(submitter)
    mailoutbox.clear()

    resource_submitted.send(sender=Resource, resource_id=resource.id)

    assert sorted(message.to[0] for message in mailoutbox) == sorted(moderator.email for moderator in moderators)
    message = mailoutbox[0]
    assert message.subject == "Resource to review: “Grounding exercises for interpreters” from Sam Submitter"
    assert "From: Sam Submitter, Cascade Center for Survivors" in message.body
    assert absolute("review_resource", resource.id) in message.body
    assert absolute("resource_queue") in message.body
    assert f'href="{absolute("review_resource", resource.id)}"' in html_of(message)
    assert message.extra_headers["Auto-Submitted"] == "auto-generated"


def test_resource_submitted_notice_not_doubled_when_the_task_runs_twice(submitter, moderators, mailoutbox):
    resource = make_resource(submitter)
    mailoutbox.clear()

    resource_submitted.send(sender=Resource, resource_id=resource.id)
    resource_submitted.send(sender=Resource, resource_id=resource.id)

    assert len(mailoutbox) == len(moderators)


def test_resource_submitted_notice_again_when_it_comes_back_after_changes(submitter, moderator, mailoutbox,
                                                                          django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        resource = submit_resource(submitter=submitter, title="Sleep hygiene handout", description="One page.",
                                   url="https://example.org/sleep.pdf")
    with django_capture_on_commit_callbacks(execute=True):
        request_resource_changes(moderator=moderator, resource=resource, note="Say which languages it is in.")
    with django_capture_on_commit_callbacks(execute=True):
        update_resource(editor=submitter, resource=resource, title="Sleep hygiene handout",
                        description="One page, in English and Dari.", url="https://example.org/sleep.pdf")

    to_moderator = addressed_to(mailoutbox, moderator)
    assert len(to_moderator) == 2
    assert "changed after a moderator's review" in to_moderator[1].body
    assert "changed after" not in to_moderator[0].body


def test_resource_submitted_notice_retry_sends_to_the_rest_only(submitter, moderators, mailoutbox, settings):
    resource = make_resource(submitter)
    mailoutbox.clear()
    settings.EMAIL_BACKEND = "tests.threads.test_econsultations.RefusesSecondMessage"
    RefusesSecondMessage.sent = 0

    with pytest.raises(smtplib.SMTPServerDisconnected):
        resource_notices.send_resource_submitted_notice(resource.id)
    assert len(mailoutbox) == 1

    RefusesSecondMessage.sent = -10  # the server is back
    resource_notices.send_resource_submitted_notice(resource.id)

    assert sorted(message.to[0] for message in mailoutbox) == sorted(moderator.email for moderator in moderators)


def test_resource_submitted_notice_skipped_once_reviewed(submitter, moderators, mailoutbox):
    resource = make_resource(submitter, status=Status.APPROVED, approved_at=timezone.now())
    mailoutbox.clear()

    resource_submitted.send(sender=Resource, resource_id=resource.id)

    assert mailoutbox == []


# --- Reviewed: the submitter hears ----------------------------------------------------------------------------

def test_resource_reviewed_notice_approved_links_the_library_page(submitter, mailoutbox):
    resource = make_resource(submitter)
    mailoutbox.clear()

    review(resource, Status.APPROVED)

    [message] = mailoutbox
    assert message.to == [submitter.email]
    assert message.subject == "Your resource is in the HealTalk library: “Grounding exercises for interpreters”"
    assert "Dear Sam Submitter," in message.body
    assert absolute("resource", resource.id) in message.body
    assert f'href="{absolute("resource", resource.id)}"' in html_of(message)


def test_resource_reviewed_notice_changes_requested_gives_the_note_and_edit_link(submitter, mailoutbox):
    resource = make_resource(submitter)
    mailoutbox.clear()

    review(resource, Status.CHANGES_REQUESTED, "Please add the year it was published.\nAnd the languages.")

    [message] = mailoutbox
    assert message.subject == "A moderator asks for changes to “Grounding exercises for interpreters”"
    assert "Please add the year it was published.\nAnd the languages." in message.body
    assert absolute("edit_resource", resource.id) in message.body
    html = html_of(message)
    assert "Please add the year it was published.<br>And the languages." in html
    assert f'href="{absolute("edit_resource", resource.id)}"' in html


def test_resource_reviewed_notice_rejected_gives_the_reason_and_keeps_their_words(submitter, mailoutbox):
    resource = make_resource(submitter)
    mailoutbox.clear()

    review(resource, Status.REJECTED, "It is a paid course; the library keeps free resources.")

    [message] = mailoutbox
    assert message.subject == "Your resource “Grounding exercises for interpreters” was not accepted"
    assert "The moderator's reason: It is a paid course; the library keeps free resources." in message.body
    assert "A **two-page** handout on grounding before and after a session." in message.body
    assert "https://example.org/grounding.pdf" in message.body
    assert "A <strong>two-page</strong> handout" in html_of(message)


def test_resource_reviewed_notice_not_doubled_but_each_review_is_told(submitter, mailoutbox):
    resource = make_resource(submitter)
    mailoutbox.clear()

    review(resource, Status.CHANGES_REQUESTED, "Add the year.")
    resource_reviewed.send(sender=Resource, resource_id=resource.id)  # the task again, for the same review
    review(resource, Status.APPROVED)

    assert [message.subject.split("“")[0] for message in mailoutbox] == [
        "A moderator asks for changes to ", "Your resource is in the HealTalk library: "]


@pytest.mark.parametrize("status", [Member.Status.SUSPENDED, Member.Status.LAPSED, Member.Status.DEPARTED])
def test_resource_reviewed_notice_not_sent_to_a_submitter_no_longer_active(submitter, status, mailoutbox):
    resource = make_resource(submitter)
    Member.objects.filter(pk=submitter.pk).update(status=status)
    mailoutbox.clear()

    review(resource, Status.APPROVED)

    assert mailoutbox == []


def test_resource_reviewed_notice_not_sent_for_a_former_members_resource(submitter, mailoutbox):
    resource = make_resource(None)
    mailoutbox.clear()

    review(resource, Status.REJECTED, "Out of date.")

    assert mailoutbox == []


# --- Broken links: the moderators hear, in one message ---------------------------------------------------------

def broken(resource, error, checked_at=None):
    Resource.objects.filter(pk=resource.pk).update(
        link_status=Resource.LinkStatus.BROKEN, link_error=error, link_failures=2,
        link_checked_at=checked_at or timezone.now())


def test_resource_links_broken_notice_lists_them_in_one_message(submitter, moderators, mailoutbox):
    handout = make_resource(submitter, status=Status.APPROVED, approved_at=timezone.now())
    toolkit = make_resource(submitter, title="Case management toolkit", url="https://example.org/toolkit",
                            status=Status.APPROVED, approved_at=timezone.now())
    fixed = make_resource(submitter, title="Fixed since", status=Status.APPROVED, approved_at=timezone.now())
    broken(handout, "404 Not Found")
    broken(toolkit, "No answer within 10 seconds")
    Resource.objects.filter(pk=fixed.pk).update(link_status=Resource.LinkStatus.OK, link_checked_at=timezone.now())
    mailoutbox.clear()

    resource_links_broken.send(sender=Resource, resource_ids=[handout.id, toolkit.id, fixed.id])

    assert sorted(message.to[0] for message in mailoutbox) == sorted(moderator.email for moderator in moderators)
    message = mailoutbox[0]
    assert message.subject == "2 resource links in the library are broken"
    body = message.body
    assert "\"Case management toolkit\": " + absolute("resource", toolkit.id) in body
    assert "Link: https://example.org/toolkit\n  What happened: No answer within 10 seconds" in body
    assert "Link: https://example.org/grounding.pdf\n  What happened: 404 Not Found" in body
    assert "Fixed since" not in body
    assert absolute("broken_links") in body
    assert f'href="{absolute("broken_links")}"' in html_of(message)


def test_resource_links_broken_notice_not_doubled_but_told_again_after_a_later_check(submitter, moderator,
                                                                                   mailoutbox):
    handout = make_resource(submitter, status=Status.APPROVED, approved_at=timezone.now())
    broken(handout, "404 Not Found", checked_at=timezone.now() - timedelta(days=60))
    mailoutbox.clear()

    resource_links_broken.send(sender=Resource, resource_ids=[handout.id])
    resource_links_broken.send(sender=Resource, resource_ids=[handout.id])
    assert len(mailoutbox) == 1
    assert mailoutbox[0].subject == "1 resource link in the library is broken"

    broken(handout, "410 Gone")  # fixed meanwhile, and broken again at a later check

    resource_links_broken.send(sender=Resource, resource_ids=[handout.id])
    assert len(mailoutbox) == 2
    assert "410 Gone" in mailoutbox[1].body


# --- The weekly digest's new resources --------------------------------------------------------------------------

class DigestSection(HTMLParser):
    """The items of the HTML digest's "New resources" list: each one's text and link."""

    def __init__(self, html):
        super().__init__()
        self.heading, self.inside, self.items = "", False, []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "h2":
            self.heading = "pending"
        elif self.inside and tag == "li":
            self.items.append({"text": "", "href": None})
        elif self.inside and tag == "a" and self.items[-1]["href"] is None:
            self.items[-1]["href"] = dict(attrs)["href"]
        elif self.inside and tag == "br":
            self.items[-1]["text"] += "\n"

    def handle_endtag(self, tag):
        if tag == "ul":
            self.inside = False

    def handle_data(self, data):
        if self.heading == "pending":
            self.heading = data.strip()
            self.inside = self.heading == "New resources"
        elif self.inside and self.items:
            self.items[-1]["text"] += data


def resource_lines(text):
    """The text digest's "New resources in the library:" list, one entry of three lines each."""
    if "New resources in the library:" not in text:
        return []
    section = text.split("New resources in the library:\n", 1)[1].split("\n\n", 1)[0]
    return section.splitlines()


@pytest.fixture
def weekly_reader(member_factory):
    return member_factory(full_name="Wes Weekly", mail_mode=MailPreference.Mode.WEEKLY)


@pytest.fixture
def library_week(submitter):
    """Resources around the weekly digest sent at MORNING: two new this week, the rest not."""
    week_ago = MORNING - timedelta(days=7)
    return {
        "new": make_resource(submitter, title="Grounding for interpreters", status=Status.APPROVED,
                             approved_at=MORNING - timedelta(days=2), topics=["interpreters", "psychological"],
                             description="A **two-page** handout.\n\nOn grounding before and after a session. "
                                         + "It works in groups too. " * 20),
        "newest": make_resource(submitter, title="Legal clinic checklist", status=Status.APPROVED,
                                approved_at=MORNING - timedelta(hours=3), topics=["legal"],
                                description="What to bring to the asylum clinic."),
        "older": make_resource(submitter, title="Last month's guide", status=Status.APPROVED,
                               approved_at=week_ago - timedelta(days=1)),
        "waiting": make_resource(submitter, title="Still waiting for review"),
        "rejected": make_resource(submitter, title="Not accepted", status=Status.REJECTED),
        # Approved this week, no longer in the library.
        "withdrawn": make_resource(submitter, title="Taken back", status=Status.CHANGES_REQUESTED,
                                   approved_at=MORNING - timedelta(days=1)),
    }


def test_weekly_digest_lists_the_resources_new_this_week(weekly_reader, library_week, thread_factory, mailoutbox):
    backdate(thread_factory(title="Weekly talk", body="A post this week.").posts.get(), MORNING - timedelta(hours=2))
    mailoutbox.clear()

    send_due_digests(now=MORNING)

    [message] = to(mailoutbox, weekly_reader)
    assert message.subject.endswith(": 1 new message, 2 new resources")
    new, newest = library_week["new"], library_week["newest"]
    lines = resource_lines(message.body)
    assert lines[0] == "- Grounding for interpreters (Psychological, Interpreters)"
    assert lines[1].startswith("  A two-page handout. On grounding before and after a session. It works in groups")
    assert lines[1].endswith("…") and len(lines[1]) <= 2 + 160
    assert lines[2] == f"  {absolute('resource', new.id)}"
    assert lines[3:] == ["- Legal clinic checklist (Legal)", "  What to bring to the asylum clinic.",
                         f"  {absolute('resource', newest.id)}"]
    assert "A post this week." in message.body

    items = DigestSection(html_of(message)).items
    assert [item["href"] for item in items] == [absolute("resource", new.id), absolute("resource", newest.id)]
    assert "Grounding for interpreters · Psychological, Interpreters" in " ".join(items[0]["text"].split())
    assert "Legal clinic checklist · Legal What to bring to the asylum clinic." in " ".join(items[1]["text"].split())
    for left_out in ("Last month's guide", "Still waiting for review", "Not accepted", "Taken back"):
        assert left_out not in message.body and left_out not in html_of(message)


def test_weekly_digest_goes_out_for_new_resources_alone(weekly_reader, library_week, mailoutbox):
    mailoutbox.clear()

    send_due_digests(now=MORNING)

    [message] = to(mailoutbox, weekly_reader)
    assert message.subject.endswith(": 2 new resources")
    assert "No new messages on HealTorture-Talk since your last digest" in message.body
    assert len(resource_lines(message.body)) == 6
    assert len(DigestSection(html_of(message)).items) == 2


def titles(message):
    return [line[2:].split(" (")[0] for line in resource_lines(message.body) if line.startswith("- ")]


def test_weekly_digest_lists_a_resource_once_to_each_member(weekly_reader, library_week, member_factory,
                                                            mailoutbox):
    send_due_digests(now=MORNING)
    make_resource(library_week["new"].submitted_by, title="Next week's", status=Status.APPROVED,
                  approved_at=MORNING + timedelta(days=3))
    # Switched to weekly after a daily digest three days before MORNING: their weekly digest starts there.
    switcher = member_factory(full_name="Sid Switcher", mail_mode=MailPreference.Mode.WEEKLY)
    DigestLog.objects.create(member=switcher, kind=DigestLog.Kind.DAILY, period=(MORNING - timedelta(days=3)).date(),
                             covered_until=MORNING - timedelta(days=3))
    mailoutbox.clear()

    send_due_digests(now=MORNING + timedelta(days=7))

    [message] = to(mailoutbox, weekly_reader)
    assert titles(message) == ["Next week's"]
    [message] = to(mailoutbox, switcher)
    assert titles(message) == ["Grounding for interpreters", "Legal clinic checklist", "Next week's"]


@pytest.fixture
def reader_daily(member_factory):
    return member_factory(full_name="Dee Daily", mail_mode=MailPreference.Mode.DAILY)


def test_daily_digest_leaves_new_resources_out(reader_daily, library_week, thread_factory, mailoutbox):
    backdate(thread_factory(title="Daily talk", body="A post today.").posts.get(), MORNING - timedelta(hours=2))
    mailoutbox.clear()

    send_due_digests(now=MORNING)

    [message] = to(mailoutbox, reader_daily)
    assert message.subject.endswith(": 1 new message")
    assert "A post today." in message.body
    assert resource_lines(message.body) == []
    assert "Legal clinic checklist" not in message.body and "Legal clinic checklist" not in html_of(message)
    assert DigestSection(html_of(message)).items == []


def test_resource_approved_by_a_moderator_reaches_the_next_weekly_digest(
        submitter, moderator, weekly_reader, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        resource = submit_resource(submitter=submitter, title="Vicarious trauma self-check",
                                   description="Ten questions for **supervision**.", url="https://example.org/vt",
                                   topics=ResourceTopic.objects.filter(slug="vicarious-trauma"))
    with django_capture_on_commit_callbacks(execute=True):
        approve_resource(moderator=moderator, resource=resource)
    mailoutbox.clear()

    send_due_digests(now=MORNING)

    [message] = to(mailoutbox, weekly_reader)
    assert resource_lines(message.body) == ["- Vicarious trauma self-check (Vicarious trauma)",
                                            "  Ten questions for supervision.",
                                            f"  {absolute('resource', resource.id)}"]


def test_resource_submitted_on_the_web_reaches_library_search_and_weekly_digest(
        submitter, moderator, weekly_reader, mailoutbox, django_capture_on_commit_callbacks):
    """The whole way, through the pages members and moderators use: submission → review → library → digest."""
    author, reviewer, reader = Client(), Client(), Client()
    login(author, submitter), login(reviewer, moderator), login(reader, weekly_reader)
    with django_capture_on_commit_callbacks(execute=True):
        response = author.post(reverse("submit_resource"), {
            "title": "Working with interpreters in trauma therapy", "language": "English",
            "description": "How to **brief** an interpreter before a first session.",
            "url": "https://example.org/interpreters-guide", "audiences": ["new_employee"],
            "topics": list(ResourceTopic.objects.filter(slug="interpreters").values_list("pk", flat=True)),
        })
    assert response.status_code == 302
    resource = Resource.objects.get(title="Working with interpreters in trauma therapy")
    assert [message.to for message in mailoutbox] == [[moderator.email]]  # a resource waits for review
    assert "Working with interpreters" not in reader.get(reverse("library")).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = reviewer.post(reverse("review_resource", args=[resource.id]), {"decision": "approve", "note": ""})
    assert response.status_code == 302
    assert addressed_to(mailoutbox, submitter)[-1].subject.startswith("Your resource")

    library = reader.get(reverse("library"), {"q": "interpreter brief"}).content.decode()
    assert resource.get_absolute_url() in library and "<mark>" in library
    assert resource.get_absolute_url() in reader.get(reverse("search"), {"q": "interpreters"}).content.decode()

    mailoutbox.clear()
    send_due_digests(now=MORNING)
    [digest] = to(mailoutbox, weekly_reader)
    assert resource_lines(digest.body)[0] == "- Working with interpreters in trauma therapy (Interpreters)"
    assert DigestSection(html_of(digest)).items[0]["href"] == absolute("resource", resource.id)
