"""List mail, digests and email replies for noted, anonymous and web-only posts, as they leave the process over a
real SMTP connection (the aiosmtpd sink of test_smtp.py) and as members answer them."""

import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from community.models import Member
from mailer.digests import Compact, digest_item, send_due_digests
from mailer.models import MailPreference
from mailer.outbound import Stencil
from threads.models import Category, Post
from threads.notes import RULE
from threads.services import create_reply, create_thread

from .inbound_mail import rejections, reply_address
from .test_digests import MORNING, backdate
from .test_smtp import SITE, https_site  # noqa: F401  (fixture)

NOTED_PART = "Our team met.\n\n::: note describes torture methods\nWhat was done to him in detention.\n:::\n\nThanks."


@pytest.fixture
def hard_cases(db):
    return Category.objects.create(name="Hard cases", allow_anonymous=True)


@pytest.fixture
def web_only(db):
    return Category.objects.create(name="Sensitive", web_only=True)


@pytest.fixture
def author(member_factory, organization_factory):
    org = organization_factory(name="Lakeshore Refugee Clinic", state="Illinois")
    author = member_factory(full_name="Quinn Hidden", org=org)
    Member.objects.filter(pk=author.pk).update(staff_role=Member.StaffRole.CLINICAL)
    author.refresh_from_db()
    return author


@pytest.fixture
def post(django_capture_on_commit_callbacks):
    def make(**arguments):
        with django_capture_on_commit_callbacks(execute=True):
            return create_thread(**arguments).posts.get()
    return make


def body_parts(message):
    return message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()


def pdf(name="case-notes.pdf"):
    return SimpleUploadedFile(name, b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n%%EOF\n",
                              content_type="application/pdf")


# --- Content notes -------------------------------------------------------------------------------------------

def test_fan_out_noted_post_over_smtp_puts_the_note_first(member, member_factory, category, post, smtp_sink,
                                                          https_site):  # noqa: F811
    writer = member_factory(full_name="Wren Writer")
    noted = post(author=writer, category=category, title="After the hearing", body=NOTED_PART,
                 content_note="sexual violence")

    [message] = smtp_sink.received(member.email)
    text, html = body_parts(message)
    note = text.index("CONTENT NOTE: SEXUAL VIOLENCE")
    rule = text.index(RULE, note)
    assert text[note:rule].count("\n") >= 10  # the blank lines of the break
    assert note < rule < text.index("Our team met.")
    part_note = text.index("CONTENT NOTE: DESCRIBES TORTURE METHODS")
    assert part_note < text.index(RULE, part_note) < text.index("What was done to him")
    assert text.index("What was done to him") < text.index("(End of the part behind the content note.)")
    assert ":::" not in text
    assert "<details" not in html and "<summary" not in html
    assert html.index("<strong>Content note: sexual violence</strong>") < html.index("height:360px") < html.index(
        "Our team met.")
    part = html.index("<strong>Content note: describes torture methods</strong>")
    assert part < html.index("height:360px", part) < html.index("What was done to him")
    assert noted.content_note == "sexual violence"


def test_digest_item_excerpt_leaves_noted_parts_out_and_puts_the_note_first(member, category, post):
    noted = post(author=member, category=category, title="T", body=NOTED_PART, content_note="graphic injury")
    noted = Post.objects.select_related("thread__category", "author__organization").get(pk=noted.pk)

    item = digest_item(noted, Compact(excerpt=600), Stencil([f"reply_{noted.id}"]))

    assert "What was done" not in item["excerpt"] and "What was done" not in item["text_excerpt"]
    assert "[Content note: describes torture methods: this part is left out here.]" in item["text_excerpt"]
    assert item["note_break"].startswith("CONTENT NOTE: GRAPHIC INJURY")


def test_process_inbound_first_line_content_note_becomes_the_note(replier, parent, deliver):
    deliver(plain_mail(replier, reply_address(parent, replier), "Content note: sexual violence\n\nWhat she said.",
                       in_reply_to=parent.message_id))

    reply = Post.objects.get(parent=parent)
    assert (reply.content_note, reply.body) == ("sexual violence", "What she said.")


# --- Anonymous posts ------------------------------------------------------------------------------------------

SECRETS = ("Quinn Hidden", "quinn", "Lakeshore")


def assert_no_author(raw: bytes, author):
    text = raw.decode(errors="replace")
    for secret in (*SECRETS, author.email):
        assert secret.lower() not in text.lower()


def test_fan_out_anonymous_post_over_smtp_names_nobody(member, author, hard_cases, post, smtp_sink,
                                                       https_site):  # noqa: F811
    post(author=author, category=hard_cases, title="When a client discloses late", body="What do you do?",
         anonymous=True)

    [envelope] = [envelope for envelope in smtp_sink.envelopes if envelope.rcpt_tos == [member.email]]
    [message] = smtp_sink.received(member.email)
    [sender] = message["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ("A member via HealTorture-Talk", settings.LIST_ADDRESS)
    text, html = body_parts(message)
    assert text.startswith('A member (clinical staff, Midwest) wrote in "When a client discloses late":')
    assert "A member (clinical staff, Midwest)</strong>" in html
    assert_no_author(envelope.content, author)


def test_digest_of_noted_anonymous_and_web_only_posts_over_smtp(member_factory, author, category, hard_cases,
                                                                web_only, post, smtp_sink, settings,
                                                                https_site):  # noqa: F811
    settings.DIGEST_HOUR = 7
    reader = member_factory(full_name="Rae Reader", mail_mode=MailPreference.Mode.DAILY)
    posts = [
        post(author=author, category=category, title="Noted", body="Hard words.", content_note="suicide or self-harm"),
        post(author=author, category=hard_cases, title="Anonymous", body="Asked without a name.", anonymous=True),
        post(author=author, category=web_only, title="Only on the web", body="Never by email.",
             attachments=[pdf()]),
    ]
    for hours, each in enumerate(posts, start=1):
        backdate(each, MORNING - timedelta(hours=hours))

    send_due_digests(now=MORNING)

    [message] = smtp_sink.received(reader.email)
    text, html = body_parts(message)
    note = text.index("CONTENT NOTE: SUICIDE OR SELF-HARM")
    assert note < text.index(RULE, note) < text.index("Hard words.")
    assert html.index("<strong>Content note: suicide or self-harm</strong>") < html.index("Hard words.")
    assert "A member (clinical staff, Midwest), " in text and "Asked without a name." in text
    section = text[text.index("--- Only on the web ---"):]
    assert "This discussion is on the website only: " in section
    for absent in ("Never by email.", "case-notes.pdf"):
        assert absent not in text and absent not in html
    assert "To answer this message by email, write to: reply-" in section  # replies by email still work
    # Named posts name their author; the anonymous one never does.
    anonymous_item = text[text.index("--- Anonymous ---"):text.index("--- Only on the web ---")]
    assert "Quinn" not in anonymous_item and "Lakeshore" not in anonymous_item


def plain_mail(member, to, body, *, subject="Re: [HealTorture-Talk] A thread", in_reply_to=None) -> bytes:
    headers = [f"From: {member.full_name} <{member.email}>", f"To: {to}", f"Subject: {subject}",
               f"Message-ID: <{uuid.uuid4().hex}@mail.example.net>", "MIME-Version: 1.0",
               "Content-Type: text/plain; charset=utf-8"]
    if in_reply_to:
        headers.append(f"In-Reply-To: {in_reply_to}")
    return ("\n".join(headers) + "\n\n" + body + "\n").encode()


def test_process_inbound_author_stays_anonymous_in_their_thread(author, hard_cases, post, deliver):
    opening = post(author=author, category=hard_cases, title="T", body="B", anonymous=True)

    deliver(plain_mail(author, reply_address(opening, author), "Following up.", in_reply_to=opening.message_id))
    deliver(plain_mail(author, reply_address(opening, author), "Anonymous: no\n\nIn my name.",
                       in_reply_to=opening.message_id))

    replies = {reply.body: reply.anonymous for reply in Post.objects.filter(parent=opening)}
    assert replies == {"Following up.": True, "In my name.": False}


def test_process_inbound_anonymous_line_starts_an_anonymous_thread(author, hard_cases, deliver):
    deliver(plain_mail(author, f"{hard_cases.slug}@{settings.LIST_DOMAIN}", "Anonymous\nWhat do you do?",
                       subject="Late disclosure"))

    opening = Post.objects.get(thread__title="Late disclosure")
    assert opening.anonymous and opening.body == "What do you do?"


def test_process_inbound_anonymous_where_not_allowed_posts_nothing(replier, parent, deliver, mailoutbox):
    deliver(plain_mail(replier, reply_address(parent, replier), "Anonymous\n\nSecret.", in_reply_to=parent.message_id))

    assert not Post.objects.filter(parent=parent).exists()
    [rejection] = rejections(mailoutbox)
    assert "cannot be anonymous" in rejection.body


def test_mention_notice_of_an_anonymous_post_names_nobody(author, member, hard_cases, post, mailoutbox):
    Member.objects.filter(pk=member.pk).update(full_name="Dana Member")
    MailPreference.objects.filter(member=member).update(mode=MailPreference.Mode.DAILY)
    mailoutbox.clear()

    post(author=author, category=hard_cases, title="T", body="Asking @dana.member about this.", anonymous=True)

    [notice] = [message for message in mailoutbox if "mentioned you" in message.subject]
    assert notice.subject == "A member (clinical staff, Midwest) mentioned you in “T”"
    assert "Quinn" not in notice.body and "Quinn" not in notice.alternatives[0][0]


# --- Web-only categories --------------------------------------------------------------------------------------

def test_fan_out_web_only_post_over_smtp_carries_title_author_and_link_only(member, member_factory, web_only, post,
                                                                            smtp_sink, https_site):  # noqa: F811
    writer = member_factory(full_name="Wren Writer")
    sensitive = post(author=writer, category=web_only, title="A sensitive case", body="Details never emailed.",
                     attachments=[pdf()])

    [envelope] = [envelope for envelope in smtp_sink.envelopes if envelope.rcpt_tos == [member.email]]
    [message] = smtp_sink.received(member.email)
    text, html = body_parts(message)
    assert text.startswith('Wren Writer (Cascade Center for Survivors) wrote in "A sensitive case".')
    assert f"This discussion is on the website only: {SITE}/posts/{sensitive.id}/" in text
    assert "This discussion is on the website only." in html
    raw = envelope.content.decode(errors="replace")
    assert "Details never emailed" not in raw and "case-notes.pdf" not in raw and "/attachments/" not in raw
    assert message["Reply-To"].addresses[0].addr_spec.startswith("reply-")


def test_process_inbound_reply_to_a_web_only_post_is_posted(replier, web_only, member, post, deliver):
    opening = post(author=member, category=web_only, title="T", body="B")

    deliver(plain_mail(replier, reply_address(opening, replier), "Answer by email.", in_reply_to=opening.message_id))

    assert Post.objects.get(parent=opening).body == "Answer by email."


def test_mention_notice_of_a_web_only_post_is_a_link(member_factory, member, web_only, post, mailoutbox):
    MailPreference.objects.filter(member=member).update(mode=MailPreference.Mode.DAILY)
    writer = member_factory(full_name="Wren Writer")
    mailoutbox.clear()

    post(author=writer, category=web_only, title="T", body="Private words for @dana.member.")

    [notice] = [message for message in mailoutbox if "mentioned you" in message.subject]
    assert "Private words" not in notice.body and "Private words" not in notice.alternatives[0][0]
    assert "This discussion is on the website only." in notice.body


def test_create_reply_in_web_only_category_still_fans_out(member, member_factory, web_only, post, smtp_sink,
                                                          django_capture_on_commit_callbacks):
    opening = post(author=member, category=web_only, title="T", body="B")
    with django_capture_on_commit_callbacks(execute=True):
        create_reply(author=member_factory(), parent=opening, body="Reply words.")

    [message] = [each for each in smtp_sink.received(member.email) if each["Subject"].startswith("Re:")]
    assert "Reply words." not in body_parts(message)[0]


def test_held_post_notice_of_a_web_only_post_leaves_the_text_out(held_member, moderator, web_only, post, mailoutbox):
    post(author=held_member, category=web_only, title="Held and sensitive", body="Words that stay on the web.")

    [notice] = [message for message in mailoutbox if message.to == [moderator.email]]
    assert "Words that stay on the web." not in notice.body
    assert "Words that stay on the web." not in notice.alternatives[0][0]
    assert "Sensitive is web only, so the post is not in this email" in notice.body
