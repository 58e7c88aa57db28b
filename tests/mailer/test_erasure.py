"""Carrying out an erasure (mailer.erasure.carry_out_erasure) and the moderators' queue: what goes, what stays and
no longer names the member, one transaction, and the pages around it."""

import base64
import email
import quopri
import uuid
from datetime import date
from email import policy

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from channels.db import database_sync_to_async
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from community.erasure import ErasureError, redactor_for, request_erasure
from community.models import Application, AuditRecord, EligibilityBasis, ErasureRequest, Member, User
from community.placeholders import FORMER_MEMBER_EMAIL, FORMER_MEMBER_NAME
from community.services import ModerationError, suspend_member
from mailer import erasure
from mailer.erasure import carry_out_erasure, scrub_message
from mailer.models import (
    DeliveryEvent,
    DigestLog,
    ImportedMessage,
    InboundMessage,
    ListInvitation,
    MailPreference,
    OutboundMessage,
    SentNotice,
)
from tests.conftest import enable_totp, login
from tests.threads.test_live import communicator_for, session_cookie
from threads.markdown import render_markdown
from threads.models import (
    Attachment,
    Bookmark,
    FeedToken,
    Mention,
    Post,
    PostRevision,
    Reaction,
    Subscription,
    Thread,
    ThreadRead,
)
from threads.reading import mark_thread_read

QUEUE = "/moderation/erasure/"


def _post(thread, author, body, parent=None) -> Post:
    """Written straight to the database: the erasure does not care how a post was made, and the text here (names
    in quotes) is the kind the confidentiality guard would ask about."""
    post = Post.objects.create(thread=thread, parent=parent, author=author, body=body, html=render_markdown(body),
                               message_id=f"<{uuid.uuid4().hex}@test>")
    Thread.objects.filter(pk=thread.pk).update(post_count=thread.posts.count())
    return post


def _imported_original(address: str) -> str:
    """A Google Group message as exported: the name in an encoded header, the body quoted-printable."""
    body = quopri.encodestring(b"We start with tea.\n\n-- \nDana Member, LCSW\nPhone 555-0100\n").decode()
    return (
        f"From: =?utf-8?q?Dana_Member?= <{address}>\nTo: talk@googlegroups.com\nSubject: Groups\n"
        "Message-ID: <old-1@mail.example.org>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
        f"Content-Transfer-Encoding: quoted-printable\n\n{body}"
    )


@pytest.fixture
def dana(member, organization):
    """The member who asks: posts, an edit, a file, choices, mail records, an application, a session, two-step
    sign-in, and an old audit row that names her."""
    EmailAddress.objects.create(user=member.user, email="dana.home@example.net", verified=True)
    Application.objects.create(
        member=member, eligibility_category=EligibilityBasis.ORR_TVRA_GRANTEE, organization=organization,
        role_title="Therapist", work_email=member.email, statement="I run groups for survivors at Cascade.",
        info_request="Which program?", info_response="The adult program, with Dana Member's team.",
    )
    enable_totp(member.user)
    return member


@pytest.fixture
def world(dana, member_factory, moderator, category, django_capture_on_commit_callbacks):
    other = member_factory(full_name="Omar Other")
    thread = Thread.objects.create(category=category, title="Groups with Dana Member", author=dana)
    opening = _post(thread, dana, "We start with tea.\n\n-- \nDana Member, LCSW")
    reply = _post(thread, dana, "And end with a walk.", parent=opening)
    PostRevision.objects.create(post=reply, body="And end with a talk. Write to dana.home@example.net",
                                edited_by=dana)
    Post.objects.filter(pk=reply.pk).update(edited_at=timezone.now())
    attachment = Attachment.objects.create(post=reply, uploaded_by=dana, file="attachments/x", original_name="plan.pdf",
                                           content_type="application/pdf", size=10)
    quoting = _post(thread, other, "Dana Member wrote:\n\n> We start with tea.\n\nThanks @dana.member, and "
                                   f"@dana.member.{dana.pk} again. @omar.other agrees.", parent=opening)
    Mention.objects.create(post=quoting, member=dana)
    PostRevision.objects.create(post=quoting, body="Dana Member wrote: tea.", edited_by=other)
    unrelated = _post(thread, other, "Nothing about anyone.", parent=opening)

    Bookmark.objects.create(member=dana, post=quoting)
    Reaction.objects.create(member=dana, post=quoting)
    Subscription.objects.create(member=dana, thread=thread, level="watch")
    Subscription.objects.create(member=dana, category=category, level="weekly")
    mark_thread_read(dana, thread.id, timezone.now())
    FeedToken.objects.create(member=dana, kind=FeedToken.Kind.CALENDAR, token=uuid.uuid4().hex)
    OutboundMessage.objects.create(post=quoting, member=dana, status=OutboundMessage.Status.SENT)
    DigestLog.objects.create(member=dana, period=date.today(), covered_until=timezone.now())
    SentNotice.objects.create(kind="econsultation_summary", object_id=1, member=dana)
    DeliveryEvent.objects.create(esp_name="postmark", event_id="ev-1", event_type="bounced",
                                 kind=DeliveryEvent.Kind.SOFT_BOUNCE, recipient=dana.email, member=dana,
                                 raw={"Email": dana.email})
    ListInvitation.objects.create(email=dana.email, name="Dana M. Member", source=ListInvitation.Source.MEMBER_LIST,
                                  claimed_by=dana)
    own_mail = InboundMessage.objects.create(
        message_id="<dana-1@mail>", sender=dana.email, subject="Re: Groups", status=InboundMessage.Status.POSTED,
        raw=f"From: Dana Member <{dana.email}>\nSubject: Re: Groups\n\nAnd end with a walk.\nDana, 555-0100\n",
        post=reply,
    )
    home_mail = InboundMessage.objects.create(
        message_id="<dana-2@mail>", sender="dana.home@example.net", subject="Hello",
        raw="From: dana.home@example.net\n\nHi", status=InboundMessage.Status.RECEIVED,
    )
    others_mail = InboundMessage.objects.create(
        message_id="<omar-1@mail>", sender=other.email, subject="Re: Groups", status=InboundMessage.Status.POSTED,
        raw=(f"From: Omar Other <{other.email}>\nSubject: Re: Groups\nContent-Type: text/plain; charset=utf-8\n"
             "Content-Transfer-Encoding: base64\n\n"
             + base64.encodebytes(f"Agreed.\n\nOn Monday Dana Member <{dana.email}> wrote:\n> tea\n".encode())
             .decode()),
        post=quoting,
    )
    original = ImportedMessage.objects.create(message_id="<old-1@mail.example.org>", raw=_imported_original(dana.email),
                                              outcome=ImportedMessage.Outcome.POSTED, post=opening)
    with django_capture_on_commit_callbacks(execute=True):
        suspend_member(dana, moderator, "Dana Member shared a client's first name; see dana.home@example.net.")
    Member.objects.filter(pk=dana.pk).update(status=Member.Status.ACTIVE)
    session_client = login(Client(), dana)
    session_client.get("/")
    with django_capture_on_commit_callbacks(execute=True):
        request = request_erasure(dana, note="Please take my name off everything.")
    return {
        "dana": dana, "other": other, "thread": thread, "opening": opening, "reply": reply, "quoting": quoting,
        "unrelated": unrelated, "attachment": attachment, "own_mail": own_mail, "home_mail": home_mail,
        "others_mail": others_mail, "original": original, "request": request, "session_client": session_client,
        "user_id": dana.user_id, "member_id": dana.pk,
    }


@pytest.fixture
def erased(world, moderator, django_capture_on_commit_callbacks, mailoutbox):
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        world["summary"] = carry_out_erasure(world["request"].pk, moderator)
    return world


def _no_trace(text: str, dana_email: str) -> None:
    lowered = text.lower()
    for trace in ("dana member", "dana.member", dana_email.lower(), "dana.home@example.net"):
        assert trace not in lowered, (trace, text)


def test_carry_out_erasure_removes_the_account_and_everything_hanging_from_it(erased):
    user_id, member_id = erased["user_id"], erased["member_id"]

    assert not User.objects.filter(pk=user_id).exists()
    assert not Member.objects.filter(pk=member_id).exists()
    assert not EmailAddress.objects.filter(user_id=user_id).exists()
    assert not Authenticator.objects.filter(user_id=user_id).exists()
    assert not Application.objects.filter(member_id=member_id).exists()
    for model in (Bookmark, Reaction, Subscription, ThreadRead, FeedToken, Mention, MailPreference, OutboundMessage,
                  DigestLog, SentNotice):
        assert not model.objects.filter(member_id=member_id).exists(), model.__name__
    assert not DeliveryEvent.objects.exists()
    assert not ListInvitation.objects.exists()


def test_carry_out_erasure_ends_every_session(erased):
    assert not [session for session in Session.objects.all()
                if session.get_decoded().get("_auth_user_id") == str(erased["user_id"])]
    assert erased["session_client"].get("/")["Location"] == "/accounts/login/?next=/"


def test_carry_out_erasure_keeps_posts_under_the_former_member(erased, member_factory):
    former = Member.objects.get(user__email=FORMER_MEMBER_EMAIL)
    opening, reply = (Post.objects.get(pk=erased[name].pk) for name in ("opening", "reply"))

    assert (former.full_name, former.status) == (FORMER_MEMBER_NAME, Member.Status.PLACEHOLDER)
    assert opening.author == reply.author == former
    assert Thread.objects.get(pk=erased["thread"].pk).author == former
    assert Attachment.objects.get(pk=erased["attachment"].pk).uploaded_by == former
    assert opening.body == "We start with tea.\n\n-- \nA former member, LCSW"
    revision = PostRevision.objects.get(post=reply)
    assert (revision.body, revision.edited_by) == ("And end with a talk. Write to [address removed]", former)
    page = login(Client(), member_factory()).get(erased["thread"].get_absolute_url()).content.decode()
    assert "Former member" in page and "We start with tea." in page
    _no_trace(page, erased["dana"].email)


def test_carry_out_erasure_takes_the_name_out_of_quotes_mentions_and_titles(erased):
    quoting = Post.objects.get(pk=erased["quoting"].pk)
    thread = Thread.objects.get(pk=erased["thread"].pk)

    assert quoting.body == ("A former member wrote:\n\n> We start with tea.\n\nThanks a former member, and "
                            "a former member again. @omar.other agrees.")
    assert f'href="/members/{erased["other"].pk}/"' in quoting.html  # other members' mentions stay linked
    _no_trace(quoting.html, erased["dana"].email)
    assert PostRevision.objects.get(post=quoting).body == "A former member wrote: tea."
    assert thread.title == "Groups with a former member"
    assert Post.objects.get(pk=erased["unrelated"].pk).body == "Nothing about anyone."


def test_carry_out_erasure_unattributes_the_mail_they_sent(erased):
    own, home, others, original = (
        model.objects.get(pk=erased[name].pk) for model, name in (
            (InboundMessage, "own_mail"), (InboundMessage, "home_mail"), (InboundMessage, "others_mail"),
            (ImportedMessage, "original"))
    )
    email_address = erased["dana"].email

    assert (own.raw, own.sender, own.status) == ("", "", InboundMessage.Status.POSTED)
    # Mail not yet read can no longer be processed as theirs.
    assert (home.raw, home.sender, home.status) == ("", "", InboundMessage.Status.IGNORED)
    # Other people's mail and the Google Group originals lose the name in headers and in the decoded text.
    replying, imported = (email.message_from_string(raw, policy=policy.default) for raw in (others.raw, original.raw))
    for message in (replying, imported):
        _no_trace(f"{message.items()} {message.get_body(('plain',)).get_content()}", email_address)
    assert "On Monday a former member <former-member@placeholder.invalid> wrote:" in \
        replying.get_body(("plain",)).get_content()
    assert str(imported["From"]) == "A former member <former-member@placeholder.invalid>"
    assert "A former member, LCSW" in imported.get_body(("plain",)).get_content()
    assert str(imported["Message-ID"]) == "<old-1@mail.example.org>"


def test_carry_out_erasure_keeps_only_that_it_happened(erased, moderator):
    request = ErasureRequest.objects.get(pk=erased["request"].pk)
    record = AuditRecord.objects.get(action="member_erased")

    assert (request.status, request.member, request.note) == (ErasureRequest.Status.DONE, None, "")
    assert request.decided_at is not None
    assert (record.actor, record.subject, record.target, record.reason) == (moderator, None, "", "")
    # Older rows keep the action but no longer link or name her.
    suspended = AuditRecord.objects.get(action="member_suspended")
    assert suspended.subject is None
    assert suspended.reason == "A former member shared a client's first name; see [address removed]."
    assert AuditRecord.objects.filter(action="member_left", actor=None, subject=None).exists()
    for row in AuditRecord.objects.all():
        _no_trace(f"{row.target} {row.reason}", erased["dana"].email)


def test_carry_out_erasure_summarises_what_went_for_the_moderator(erased, mailoutbox):
    summary = erased["summary"]

    assert summary.removed["email addresses"] == 2
    assert summary.removed["sign-in sessions"] == 1
    assert summary.removed["bookmarks"] == 1
    assert summary.removed["email choices for threads and categories"] == 2
    assert summary.kept["posts, now shown as by “Former member”"] == 2
    assert summary.kept["posts by others that quoted or mentioned them, name taken out"] == 1
    assert summary.kept["emails they sent to the list, emptied (sender and text)"] == 2
    assert summary.kept["audit log entries, no longer linked to them or naming them"] == 3  # suspended, left, asked
    # The person hears it is done, at the address they had.
    assert [message.to for message in mailoutbox] == [[erased["dana"].email]]
    assert "erased" in mailoutbox[0].subject


def test_carry_out_erasure_is_one_transaction(world, moderator, monkeypatch):
    def fail(member, redactor):
        raise RuntimeError("disk full")

    monkeypatch.setattr(erasure, "erase_account", fail)

    with pytest.raises(RuntimeError):
        carry_out_erasure(world["request"].pk, moderator)

    assert Post.objects.get(pk=world["opening"].pk).author_id == world["member_id"]
    assert InboundMessage.objects.get(pk=world["own_mail"].pk).raw
    assert Bookmark.objects.filter(member_id=world["member_id"]).exists()
    assert ErasureRequest.objects.get(pk=world["request"].pk).status == ErasureRequest.Status.REQUESTED


def test_carry_out_erasure_twice_is_refused(erased, moderator):
    with pytest.raises(ErasureError):
        carry_out_erasure(erased["request"].pk, moderator)


def test_carry_out_erasure_refused_to_non_moderator_and_for_a_member_who_came_back(world, member_factory, moderator):
    with pytest.raises(ModerationError, match="Only moderators"):
        carry_out_erasure(world["request"].pk, member_factory())
    Member.objects.filter(pk=world["member_id"]).update(status=Member.Status.ACTIVE)

    with pytest.raises(ErasureError, match="active member again"):
        carry_out_erasure(world["request"].pk, moderator)


def test_carry_out_erasure_shares_one_former_member(member_factory, moderator, thread_factory):
    first, second = member_factory(full_name="Ann First"), member_factory(full_name="Ben Second")
    for person in (first, second):
        _post(thread_factory(author=moderator), person, "Hello.")
        carry_out_erasure(request_erasure(person).pk, moderator)

    assert Member.objects.filter(full_name=FORMER_MEMBER_NAME).count() == 1
    assert Post.objects.filter(author__full_name=FORMER_MEMBER_NAME).count() == 2


def test_carry_out_erasure_keeps_their_resources_in_the_library_from_a_former_member(
        member_factory, moderator, resource_factory, client):
    person = member_factory(full_name="Ria Resourceful")
    resource = resource_factory(submitted_by=person, title="Grounding handout", url="https://example.org/g")

    carry_out_erasure(request_erasure(person).pk, moderator)

    resource.refresh_from_db()
    assert (resource.submitted_by, resource.status) == (None, "approved")
    page = login(client, member_factory()).get(resource.get_absolute_url()).content.decode()
    assert "Grounding handout" in page and "Shared by a former member" in page and "Ria Resourceful" not in page


def test_scrub_message_keeps_attachments_and_other_people(world):
    raw = ("From: Omar Other <omar@example.org>\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n"
           "--b\nContent-Type: text/plain; charset=utf-8\n\nDana Member said hi to Omar Other.\n"
           "--b\nContent-Type: application/pdf\nContent-Transfer-Encoding: base64\n\nJVBERi0=\n--b--\n")

    scrubbed = scrub_message(raw, redactor_for(world["dana"]))

    assert "A former member said hi to Omar Other." in scrubbed
    assert "From: Omar Other <omar@example.org>" in scrubbed
    assert "JVBERi0=" in scrubbed


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("own_channel_prefix", "close_worker_thread_connections")
async def test_carry_out_erasure_closes_live_sockets(member, moderator, thread):
    cookie = await database_sync_to_async(session_cookie)(member)
    socket = communicator_for(thread, cookie)
    assert (await socket.connect())[0]
    # Asked while the socket stayed open (as if the earlier close had been missed): the erasure closes it too.
    request = await database_sync_to_async(ErasureRequest.objects.create)(member=member)
    await database_sync_to_async(Member.objects.filter(pk=member.pk).update)(status=Member.Status.DEPARTED)

    await database_sync_to_async(carry_out_erasure)(request.pk, moderator)

    assert await socket.receive_output(timeout=5) == {"type": "websocket.close", "code": 4403}


# --- The moderators' queue ------------------------------------------------------------------------------------

def test_erasure_queue_lists_waiting_requests_for_moderators(world, moderator_client):
    page = moderator_client.get(QUEUE).content.decode()

    assert f'id="erasure-{world["request"].pk}"' in page
    assert "Please take my name off everything." in page
    assert "2 posts" in page
    assert 'href="/moderation/erasure/" aria-current="page"' in page


def test_erasure_queue_closed_to_plain_members(world, member_factory):
    client = login(Client(), member_factory())

    assert client.get(QUEUE).status_code == 403
    assert client.post(f"{QUEUE}{world['request'].pk}/erase/", {"confirm": "on"}).status_code == 403
    assert ErasureRequest.objects.get(pk=world["request"].pk).status == ErasureRequest.Status.REQUESTED


def test_erasure_queue_confirm_needs_the_box_ticked(world, moderator_client):
    response = moderator_client.post(f"{QUEUE}{world['request'].pk}/erase/", {})

    assert response.status_code == 400
    assert "Tick the box to confirm the erasure." in response.content.decode()
    assert Member.objects.filter(pk=world["member_id"]).exists()


def test_erasure_queue_confirm_erases_and_shows_the_summary(world, moderator_client):
    response = moderator_client.post(f"{QUEUE}{world['request'].pk}/erase/", {"confirm": "on"})

    page = response.content.decode()
    assert response.status_code == 200
    assert "Removed" in page and "Bookmarks: 1" in page
    assert "Posts, now shown as by “Former member”: 2" in page
    assert not Member.objects.filter(pk=world["member_id"]).exists()
    queue = moderator_client.get(QUEUE).content.decode()
    assert "Erased (who is no longer recorded)" in queue
    assert "Dana Member" not in queue


def test_erasure_queue_decline_emails_the_reason(world, moderator_client, mailoutbox,
                                                 django_capture_on_commit_callbacks):
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = moderator_client.post(f"{QUEUE}{world['request'].pk}/decline/",
                                         {"reason": "Your posts are quoted in a court record; let us talk."})

    assert response["Location"] == QUEUE
    request = ErasureRequest.objects.get(pk=world["request"].pk)
    assert (request.status, request.decline_reason) == (ErasureRequest.Status.DECLINED,
                                                         "Your posts are quoted in a court record; let us talk.")
    assert [message.to for message in mailoutbox] == [[world["dana"].email]]
    assert "court record" in mailoutbox[0].body
    assert AuditRecord.objects.filter(action="erasure_declined", subject=world["dana"]).exists()
    assert Member.objects.filter(pk=world["member_id"]).exists()


def test_erasure_queue_decline_needs_a_reason(world, moderator_client):
    response = moderator_client.post(f"{QUEUE}{world['request'].pk}/decline/", {"reason": " "})

    assert response.status_code == 400
    assert ErasureRequest.objects.get(pk=world["request"].pk).status == ErasureRequest.Status.REQUESTED
