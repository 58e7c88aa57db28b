"""Files of emailed posts: kept as post attachments with the web's checks; a refused file never costs the post."""

import email
from email import policy

from mailer.models import InboundMessage
from threads.models import Attachment, Post

from .inbound_mail import FIXTURES, eml, notices, rejections, reply_eml

OUTLOOK_IMAGE = "[cid:image001.png@01DB8D0F.5C2A3B40]"


def fixture_part(name: str, filename: str) -> bytes:
    message = email.message_from_bytes((FIXTURES / name).read_bytes(), policy=policy.default)
    return next(part for part in message.walk() if part.get_filename() == filename).get_content()


def the_post(parent) -> Post:
    [post] = Post.objects.filter(parent=parent, source=Post.Source.EMAIL)
    return post


def test_files_of_an_iphone_photo_becomes_an_attachment_of_the_post(parent, replier, deliver, mailoutbox):
    deliver(reply_eml("iphone_reply.eml", parent, replier))

    [attachment] = the_post(parent).attachments.all()
    assert (attachment.original_name, attachment.content_type) == ("IMG_0412.jpeg", "image/jpeg")
    assert attachment.file.read() == fixture_part("iphone_reply.eml", "IMG_0412.jpeg")
    assert attachment.uploaded_by == replier
    assert notices(mailoutbox) == rejections(mailoutbox) == []


def test_files_of_a_refused_file_is_left_out_and_the_sender_told_once(parent, replier, deliver, mailoutbox):
    raw = reply_eml("outlook_inline_image_reply.eml", parent, replier)

    stored = deliver(raw)
    assert deliver(raw) is None  # the same message delivered again

    post = the_post(parent)
    assert [attachment.original_name for attachment in post.attachments.all()] == ["image001.png"]
    assert "cid:" not in post.body
    [notice] = notices(mailoutbox)
    assert notice.to == [replier.email]
    assert notice.subject == "Posted, but without some files: Group work with new arrivals"
    assert "“Session materials.zip” is not a kind of file we accept" in notice.body
    assert f"http://testserver/posts/{post.id}/" in notice.body
    assert rejections(mailoutbox) == []
    stored.refresh_from_db()
    assert (stored.status, stored.post) == (InboundMessage.Status.POSTED, post)
    assert "Session materials.zip" in stored.note


def test_files_of_a_file_over_the_size_limit_is_left_out(parent, replier, deliver, mailoutbox, settings):
    settings.ATTACHMENT_MAX_BYTES = 500  # the photo is 790 bytes

    deliver(reply_eml("iphone_reply.eml", parent, replier))

    assert not the_post(parent).attachments.exists()
    [notice] = notices(mailoutbox)
    assert "“IMG_0412.jpeg” is 790\xa0bytes; the limit is 500\xa0bytes per file." in notice.body


def test_files_of_an_image_in_the_quoted_original_is_not_attached(parent, replier, deliver, mailoutbox):
    # Outlook attaches the pictures of the message it quotes; here the picture sits in the quoted original.
    raw = reply_eml("outlook_inline_image_reply.eml", parent, replier).replace(
        f"{OUTLOOK_IMAGE}\n\n".encode(), b"").replace(
        b"How do you start a group?\n", f"How do you start a group?\n{OUTLOOK_IMAGE}\n".encode(), 1)
    raw = raw.replace(b'src=3D"cid:image001.png@01D=\nB8D0F.5C2A3B40"', b'src=3D""')

    deliver(raw)

    post = the_post(parent)
    assert not post.attachments.exists()
    assert post.body.startswith("This is how we set up the room for the first session:\n\nChairs in a circle")
    [notice] = notices(mailoutbox)
    assert "image001.png" not in notice.body


def test_files_of_a_new_thread_by_email_are_kept(replier, category, deliver, settings):
    deliver(eml("iphone_reply.eml", sender=replier.email, reply_address=settings.LIST_ADDRESS,
                parent_message_id="<not-one-of-ours@example.org>"))

    [attachment] = Attachment.objects.filter(post__thread__category=category, post__source=Post.Source.EMAIL)
    assert attachment.original_name == "IMG_0412.jpeg"
