import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tests.conftest import login
from threads.models import Attachment, Post, Thread
from threads.posts import delete_post

PDF_BYTES = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def docx_bytes():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def post(thread):
    return thread.posts.get()


def _reply(client, post, *files, body="Slides from today"):
    return client.post(f"/posts/{post.id}/reply/", {"body": body, "attachments": list(files)})


def test_reply_with_attachments_lists_them_and_downloads_through_access_check(member_client, post, thread):
    response = _reply(member_client, post, SimpleUploadedFile("Group work.pdf", PDF_BYTES),
                      SimpleUploadedFile("handout.docx", docx_bytes()))

    assert response.status_code == 302
    reply = Post.objects.get(body="Slides from today")
    pdf, docx = reply.attachments.order_by("id")
    assert (pdf.original_name, pdf.content_type, pdf.size) == ("Group work.pdf", "application/pdf", len(PDF_BYTES))
    assert docx.content_type == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert "Group work" not in pdf.file.name  # stored under an unguessable name
    page = member_client.get(thread.get_absolute_url()).content.decode()
    assert f'<a href="/attachments/{pdf.id}/Group%20work.pdf">Group work.pdf</a>' in page
    assert f"application/pdf, {len(PDF_BYTES)}\xa0bytes" in page

    download = member_client.get(f"/attachments/{pdf.id}/Group%20work.pdf")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF_BYTES
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("inline")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Cache-Control"].startswith("private")
    assert member_client.get(f"/attachments/{docx.id}/handout.docx")["Content-Disposition"].startswith("attachment")


def test_new_thread_with_attachment(member_client, category):
    member_client.post("/threads/new/", {
        "category": category.pk, "title": "Slides", "body": "Attached.",
        "attachments": [SimpleUploadedFile("slide.png", PNG_BYTES)],
    })

    attachment = Thread.objects.get(title="Slides").posts.get().attachments.get()
    assert attachment.content_type == "image/png"


@pytest.mark.parametrize(("name", "content", "message"), [
    ("tool.exe", b"MZ\x90\x00", "is not a kind of file we accept"),
    ("report.pdf", PNG_BYTES, "does not contain what its name says (PDF)"),
    ("slides.pptx", docx_bytes(), "does not contain what its name says (PowerPoint slides)"),
    ("notes.txt", b"\x00\x01binary", "does not contain what its name says (Text)"),
])
def test_reply_with_wrong_file_type_is_refused_and_keeps_text(member_client, post, name, content, message):
    response = _reply(member_client, post, SimpleUploadedFile(name, content), body="Please keep this text")

    page = response.content.decode()
    assert response.status_code == 200
    assert message in page.replace("&#x27;", "'")
    assert "Please keep this text" in page
    assert not Post.objects.filter(body="Please keep this text").exists()
    assert not Attachment.objects.exists()


def test_reply_with_too_big_file_is_refused(member_client, post, settings):
    settings.ATTACHMENT_MAX_BYTES = 40

    response = _reply(member_client, post, SimpleUploadedFile("big.pdf", PDF_BYTES))

    assert "the limit is 40\xa0bytes per file" in response.content.decode()
    assert not Attachment.objects.exists()


@pytest.fixture
def attachment(member_client, post):
    _reply(member_client, post, SimpleUploadedFile("case notes.pdf", PDF_BYTES))
    return Attachment.objects.get()


def test_download_closed_to_anonymous_and_pending(client, pending_member, attachment):
    url = f"/attachments/{attachment.id}/case%20notes.pdf"
    client.logout()
    assert client.get(url).status_code == 302
    login(client, pending_member)
    assert client.get(url)["Location"] == "/application/"


def test_download_needs_the_right_name_and_a_post_still_there(member_client, member, attachment, moderator, client):
    assert member_client.get(f"/attachments/{attachment.id}/other.pdf").status_code == 404
    assert member_client.get(f"/attachments/{attachment.id + 1000}/case%20notes.pdf").status_code == 404

    delete_post(actor=member, post_id=attachment.post_id)

    assert member_client.get(f"/attachments/{attachment.id}/case%20notes.pdf").status_code == 404
    assert login(client, moderator).get(f"/attachments/{attachment.id}/case%20notes.pdf").status_code == 200


def test_media_files_are_never_served_directly(member_client, attachment):
    assert member_client.get(f"/media/{attachment.file.name}").status_code == 404
    assert member_client.get(f"/{attachment.file.name}").status_code == 404


def test_download_of_hidden_post_only_for_its_author_and_moderators(client, member, member_factory, moderator,
                                                                    attachment):
    Post.objects.filter(pk=attachment.post_id).update(hidden_at=timezone.now(), hidden_reason="Review")
    url = f"/attachments/{attachment.id}/case%20notes.pdf"

    assert login(client, member_factory()).get(url).status_code == 404
    assert login(client, member).get(url).status_code == 200
    assert login(client, moderator).get(url).status_code == 200
