"""A member downloads their own data (mailer.member_data): everything they wrote and chose, nobody else's, in a
fixed number of queries, as a zip with data.json, data.md and their emails."""

import io
import json
import uuid
import zipfile

import pytest
from django.test import Client
from django.utils import timezone

from community.models import Application, EligibilityBasis, Member
from mailer.member_data import markdown_of, member_data
from mailer.models import ImportedMessage, InboundMessage, MailPreference
from tests.conftest import login
from threads.markdown import render_markdown
from threads.models import (
    Attachment,
    Bookmark,
    Post,
    PostRevision,
    Reaction,
    Resource,
    ResourceTopic,
    Subscription,
    Thread,
)
from threads.reading import mark_thread_read

DOWNLOAD = "/profile/data/download/"


def _post(thread, author, body, parent=None, **fields) -> Post:
    return Post.objects.create(thread=thread, parent=parent, author=author, body=body, html=render_markdown(body),
                               message_id=f"<{uuid.uuid4().hex}@test>", **fields)


def _write(member, other, category, n=1):
    """n threads by the member, each with an edited reply carrying a file, and what the member chose and marked."""
    for i in range(n):
        thread = Thread.objects.create(category=category, title=f"Sleep after torture {i}", author=member)
        opening = _post(thread, member, f"How do you help clients sleep? ({i})")
        reply = _post(thread, member, "Update: we tried a wind-down routine.", parent=opening,
                      edited_at=timezone.now(), content_note="insomnia")
        PostRevision.objects.create(post=reply, body="We tried nothing yet.", edited_by=member)
        Attachment.objects.create(post=reply, uploaded_by=member, file="attachments/x", original_name=f"routine{i}.pdf",
                                  content_type="application/pdf", size=2048)
        answer = _post(thread, other, "Other's private answer.", parent=opening)
        Bookmark.objects.create(member=member, post=answer)
        Reaction.objects.create(member=member, post=answer)
        Subscription.objects.create(member=member, thread=thread, level="watch")
        mark_thread_read(member, thread.id, timezone.now())
        InboundMessage.objects.create(message_id=f"<mine-{i}@mail>", sender=member.email.upper(), subject="Re: Sleep",
                                      raw=f"From: {member.email}\nSubject: Re: Sleep\n\nUpdate {i}", post=reply,
                                      status=InboundMessage.Status.POSTED)
        ImportedMessage.objects.create(message_id=f"<old-{i}@groups>", raw=f"From: {member.email}\n\nOld {i}",
                                       outcome=ImportedMessage.Outcome.POSTED, post=opening)
        resource = Resource.objects.create(
            title=f"Sleep handout {i}", description="Two pages on **sleep**.", url=f"https://example.org/sleep{i}",
            submitted_by=member, status=Resource.Status.CHANGES_REQUESTED, review_note="Please add the source.",
            audiences=[Resource.Audience.NEW_EMPLOYEE])
        resource.topics.set(ResourceTopic.objects.filter(slug="biomedical"))
        Attachment.objects.create(resource=resource, uploaded_by=member, file="attachments/y",
                                  original_name=f"sleep{i}.pdf", content_type="application/pdf", size=1024)
    Subscription.objects.create(member=member, category=category, level="daily")


@pytest.fixture
def other(member_factory, other_category):
    other = member_factory(full_name="Omar Other")
    InboundMessage.objects.create(message_id="<omar@mail>", sender=other.email, raw="From: omar\n\nOmar's mail")
    thread = Thread.objects.create(category=other_category, title="Omar's own thread", author=other)
    Bookmark.objects.create(member=other, post=_post(thread, other, "Omar's own post."))
    return other


@pytest.fixture
def written(member, other, category, organization):
    MailPreference.objects.filter(member=member).update(mode=MailPreference.Mode.WEEKLY)
    Member.objects.filter(pk=member.pk).update(bio="I run groups.", show_email=True, time_zone="America/Chicago")
    Application.objects.create(
        member=member, eligibility_category=EligibilityBasis.ORR_TVRA_GRANTEE, organization=organization,
        role_title="Therapist", work_email=member.email, statement="I work with survivors.",
        info_request="Which program?", info_response="The adult program.", decision_reason="Moderator's own note.",
        eligibility_evidence=["The moderators' evidence."],
    )
    _write(member, other, category)
    return member


def test_member_data_holds_everything_they_wrote_and_chose(written):
    data = member_data(written).data

    assert data["profile"]["full_name"] == "Dana Member" and data["profile"]["bio"] == "I run groups."
    assert data["visibility"]["show_email"] is True
    assert data["mail_settings"]["mode"] == MailPreference.Mode.WEEKLY.label
    assert data["category_choices"] == [{"category": "Clinical questions", "email": "Daily digest"}]
    assert data["thread_choices"][0]["email"] == "Every message"
    assert [thread["title"] for thread in data["threads_started"]] == ["Sleep after torture 0"]
    reply = data["posts"][1]
    assert reply["thread"] == "Sleep after torture 0"
    assert reply["link"] == f"http://testserver/posts/{Post.objects.get(body__startswith='Update').pk}/"
    assert (reply["text"], reply["content_note"]) == ("Update: we tried a wind-down routine.", "insomnia")
    assert reply["edit_history"][0]["text"] == "We tried nothing yet."
    assert reply["edit_history"][0]["replaced_by"] == "you"
    attachment = Attachment.objects.get(post__isnull=False)
    assert reply["attachments"] == [{"name": "routine0.pdf", "type": "application/pdf", "bytes": 2048,
                                     "link": f"http://testserver/attachments/{attachment.pk}/routine0.pdf"}]
    assert len(data["bookmarks"]) == len(data["reactions"]) == len(data["threads_read"]) == 1
    assert data["applications"][0]["your_answer"] == "The adult program."
    assert data["emails_sent_to_the_list"][0]["file"].startswith("emails/sent-")
    assert data["google_group_originals"][0]["file"].startswith("emails/google-group-")


def test_member_data_holds_the_resources_they_shared(written):
    exported = member_data(written)

    [resource] = exported.data["resources_shared"]
    assert (resource["title"], resource["state"], resource["moderator_note"]) == (
        "Sleep handout 0", "Changes asked for", "Please add the source.")
    assert (resource["topics"], resource["for"], resource["link"]) == (
        ["Biomedical"], ["New employees"], "https://example.org/sleep0")
    assert [item["name"] for item in resource["files"]] == ["sleep0.pdf"]
    assert not any(item["name"] == "sleep0.pdf" for post in exported.data["posts"] for item in post["attachments"])
    text = markdown_of(exported.data)
    assert "## Resources you shared with the library (1)" in text and "> Two pages on **sleep**." in text


def test_member_data_leaves_out_other_people_and_moderators_notes(written, other):
    exported = json.dumps(member_data(written).data, default=str)

    assert "Other's private answer" not in exported
    assert "Omar" not in exported
    assert "Moderator's own note" not in exported and "The moderators' evidence" not in exported


@pytest.mark.parametrize("threads", [1, 6])
def test_member_data_query_count_is_constant(member, other, category, threads, django_assert_num_queries):
    _write(member, other, category, n=threads)

    with django_assert_num_queries(18):
        exported = member_data(member)

    assert len(exported.data["posts"]) == 2 * threads and len(exported.data["resources_shared"]) == threads
    assert len(exported.emails) == 2 * threads


def test_download_gives_a_zip_with_json_markdown_and_emails(written, client):
    response = login(client, written).get(DOWNLOAD)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == f'attachment; filename="healtalk-data-{timezone.now():%Y-%m-%d}.zip"'
    assert "no-store" in response["Cache-Control"]
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = archive.namelist()
    assert names[:2] == ["data.json", "data.md"]
    assert len([name for name in names if name.endswith(".eml")]) == 2
    assert json.loads(archive.read("data.json"))["profile"]["full_name"] == "Dana Member"
    readable = archive.read("data.md").decode()
    assert "# Your HealTalk data: Dana Member" in readable
    assert "in “Sleep after torture 0”" in readable
    assert "> Update: we tried a wind-down routine." in readable
    assert "Earlier version, replaced" in readable and "> We tried nothing yet." in readable
    assert "(America/Chicago time)" in readable
    assert "Update 0" in archive.read(next(name for name in names if "sent-" in name)).decode()


def test_my_data_page_says_what_is_in_the_file(member_client):
    page = member_client.get("/profile/data/").content.decode()

    assert "What is in it" in page
    assert f'href="{DOWNLOAD}"' in page
    assert "90 days" in page


def test_download_is_for_members_only(client, member_factory):
    assert client.get(DOWNLOAD)["Location"] == f"/accounts/login/?next={DOWNLOAD}"
    lapsed = member_factory(status=Member.Status.LAPSED)

    assert login(Client(), lapsed).get(DOWNLOAD)["Location"] == "/application/"

