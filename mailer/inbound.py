"""Inbound mail: every message is stored first, then a task routes it by the address it was sent to:

    reply-…@LIST_DOMAIN        a member's answer to one post (mailer.tokens), posted under it
    LIST_ADDRESS               a new thread in the default category (settings.LIST_DEFAULT_CATEGORY)
    <category slug>@LIST_DOMAIN  a new thread in that category
    moderate-…@LIST_DOMAIN     a moderator's "approve" / "reject <reason>" (mailer.inbound_commands)
    unsubscribe@LIST_DOMAIN    the List-Unsubscribe mailto, its token in the subject (mailer.inbound_commands)
    bounces-…@LIST_DOMAIN      a bounce of list mail, handed to mailer.bounces and never answered
    auto-replies@, postmaster@ …  dropped unread

Automated mail is ignored silently; anything refused gets one polite explanation, at most once an hour per sender,
from an address whose mail is dropped (so no two robots keep writing to each other)."""

import email
import hashlib
from dataclasses import dataclass
from datetime import timedelta
from email import policy
from email.errors import MessageError
from email.message import EmailMessage as MimeMessage
from email.utils import formataddr, getaddresses, make_msgid, parseaddr
from enum import StrEnum
from functools import partial

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from community.access import can_post, can_read, member_of
from community.models import Member, User
from threads.anonymity import anonymous_by_default
from threads.guard import Finding, excerpt, masked, segments, summary
from threads.guard_checks import checked_text, findings_of, held_by_guard, opens_unpublished_thread
from threads.models import Category, GuardCheck, Post
from threads.services import PostingNotAllowed, create_reply, create_thread
from threads.webinars import takes_questions_by_email

from . import bounces
from .inbound_files import Files, files_of
from .inbound_text import is_forward, posting_options, read_reply, thread_title
from .models import InboundMessage
from .outbound import TransientSendError, absolute_url
from .preferences import current_token_generation
from .tokens import (
    BOUNCE_PREFIX,
    MODERATION_PREFIX,
    REPLY_PREFIX,
    InvalidToken,
    is_bounce_address,
    is_moderation_address,
    is_reply_address,
    parse_reply_address,
)

REJECTION_QUOTE_CHARACTERS = 20_000
REJECTION_INTERVAL_SECONDS = 60 * 60
_RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To")
_AUTOMATED_SENDERS = {"mailer-daemon", "postmaster"}
_BULK_PRECEDENCE = {"bulk", "list", "junk"}
UNSUBSCRIBE_LOCAL_PART = "unsubscribe"  # the List-Unsubscribe mailto (mailer.outbound.list_headers)
AUTO_REPLY_LOCAL_PART = "auto-replies"
_DROPPED_LOCAL_PARTS = {"postmaster", "mailer-daemon", "abuse"}
_RESERVED_PREFIXES = (REPLY_PREFIX, MODERATION_PREFIX, BOUNCE_PREFIX)


def receive_raw(raw: bytes, envelope_recipient: str = "") -> InboundMessage | None:
    """Store one message as it came; returns None when this Message-ID was already stored."""
    message = email.message_from_bytes(raw, policy=policy.default)
    message_id = _header(message, "Message-ID").strip()
    if not message_id or len(message_id) > 255:
        # Stable, so a redelivery of the same bytes is still recognised as a duplicate.
        message_id = f"<{hashlib.sha256(raw).hexdigest()}@no-message-id.invalid>"
    inbound, created = InboundMessage.objects.get_or_create(
        message_id=message_id,
        defaults={
            "raw": _storable_text(raw, message),
            "sender": _from_address(message)[:255],
            "recipient": envelope_recipient.strip()[:255],
            "subject": _header(message, "Subject")[:255],
        },
    )
    if not created:
        return None
    transaction.on_commit(partial(_enqueue_processing, inbound.id))
    return inbound


def _enqueue_processing(inbound_id: int) -> None:
    from . import tasks  # tasks imports this module

    tasks.process_inbound.delay(inbound_id)


def _storable_text(raw: bytes, message: MimeMessage) -> str:
    # PostgreSQL text holds neither NUL nor undecodable bytes. UTF-8 (so also 7-bit) mail is kept byte for
    # byte; anything else as the equivalent 7-bit message the email package writes out.
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = message.as_string()
    return text.replace("\x00", "")


class Rejection(Exception):
    """Nothing is done; `reason` is told to the sender, `detail` only kept for the moderators."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(reason)
        self.reason, self.detail = reason, detail


@dataclass
class Outcome:
    status: str
    note: str = ""
    post: Post | None = None
    # A short answer to the member's own address (never to whoever sent the message): files left out of their
    # post, an unsubscribe done, what a moderator's "approve" did.
    notice_to: Member | None = None
    notice_subject: str = ""
    notice_text: str = ""
    notice_quotes: str = ""  # how the answer names their message; "" for its subject as it came


def process_inbound(inbound_id: int) -> None:
    with transaction.atomic():
        inbound = (
            InboundMessage.objects.select_for_update()
            .filter(pk=inbound_id, status=InboundMessage.Status.RECEIVED)
            .first()
        )
        if inbound is None:
            return
        message = email.message_from_bytes(inbound.raw.encode("utf-8"), policy=policy.default)
        inbound.processed_at = timezone.now()
        try:
            outcome = _dispatch(inbound, message)
        except Rejection as rejection:
            outcome = Outcome(InboundMessage.Status.REJECTED, f"{rejection.reason} {rejection.detail}".strip())
            transaction.on_commit(partial(_enqueue_rejection, inbound.id, rejection.reason))
        inbound.status, inbound.note, inbound.post = outcome.status, outcome.note, outcome.post
        inbound.save(update_fields=["status", "note", "post", "processed_at"])
        if outcome.notice_to is not None:
            transaction.on_commit(partial(_enqueue_notice, inbound.id, outcome.notice_to.id, outcome.notice_subject,
                                          outcome.notice_text, outcome.notice_quotes))


# Where a message was sent


class Kind(StrEnum):
    BOUNCE = "bounce"
    DROP = "drop"
    MODERATION = "moderation"
    REPLY = "reply"
    UNSUBSCRIBE = "unsubscribe"
    LIST = "list"
    CATEGORY = "category"
    UNKNOWN = "unknown"


# A message sent to several of our addresses is stored once (one Message-ID), so it goes where it is most specific:
# a member who answers with "Reply all" also writes to the list address, and their answer belongs under the post.
_PRIORITY = list(Kind)


@dataclass(frozen=True)
class Route:
    kind: Kind
    address: str


def auto_reply_address() -> str:
    """The envelope sender and From of our automatic replies (rejections, confirmations). RFC 3834 wants them sent
    with an empty envelope sender so that nothing answers them, but Django's SMTP backend always sends one; so they
    come from an address whose mail is dropped unread: a bounce or an autoresponder's answer to one of our
    automatic replies ends there, and no two robots keep writing to each other."""
    return f"{AUTO_REPLY_LOCAL_PART}@{settings.LIST_DOMAIN}"


def reserved_local_parts() -> set[str]:
    """Local parts no category address may take (besides the reply-, moderate- and bounces- prefixes)."""
    return {
        UNSUBSCRIBE_LOCAL_PART, AUTO_REPLY_LOCAL_PART, *_DROPPED_LOCAL_PARTS,
        settings.LIST_ADDRESS.partition("@")[0].lower(), parseaddr(settings.DEFAULT_FROM_EMAIL)[1].partition("@")[0],
    }


def category_address(category: Category) -> str | None:
    """Where mail starts a thread in this category; None when its slug is one of our reserved local parts."""
    local = category.slug.lower()
    if local in reserved_local_parts() or local.startswith(_RESERVED_PREFIXES):
        return None
    return f"{local}@{settings.LIST_DOMAIN}"


def address_kind(address: str) -> Kind | None:
    """What one of our addresses is for; None for an address that is not ours."""
    address = address.strip().lower()
    local, _, domain = address.partition("@")
    if address == settings.LIST_ADDRESS.lower():
        return Kind.LIST
    if domain != settings.LIST_DOMAIN.lower() or not local:
        return None
    if is_bounce_address(address):
        return Kind.BOUNCE
    if local in _DROPPED_LOCAL_PARTS or local == AUTO_REPLY_LOCAL_PART:
        return Kind.DROP
    if is_moderation_address(address):
        return Kind.MODERATION
    if is_reply_address(address):
        return Kind.REPLY
    if local == UNSUBSCRIBE_LOCAL_PART:
        return Kind.UNSUBSCRIBE
    if local in reserved_local_parts() or local.startswith(_RESERVED_PREFIXES):
        return Kind.UNKNOWN
    return Kind.CATEGORY


def route(inbound: InboundMessage, message: MimeMessage) -> Route | None:
    candidates = [inbound.recipient]
    for name in _RECIPIENT_HEADERS:
        candidates += [address for _, address in getaddresses(_header_values(message, name))]
    routes = [Route(kind, address.strip().lower()) for address in candidates if (kind := address_kind(address))]
    return min(routes, key=lambda found: _PRIORITY.index(found.kind), default=None)


def _dispatch(inbound: InboundMessage, message: MimeMessage) -> Outcome:
    from . import inbound_commands  # it imports this module

    found = route(inbound, message)
    # Before the check for automated mail: bounces are automated by nature, and never answered.
    if found is not None and found.kind == Kind.BOUNCE:
        event = bounces.record_bounce_message(inbound.raw.encode("utf-8"), found.address)
        return Outcome(InboundMessage.Status.IGNORED, f"Bounce report, stored as delivery event {event.id}."
                       if event else "Sent to a bounce address, but not a failure report about one of our members.")
    if found is not None and found.kind == Kind.DROP:
        return Outcome(InboundMessage.Status.IGNORED, f"Sent to {found.address}, which is never read.")
    automated = automated_reason(message)
    if found is not None and found.kind == Kind.UNSUBSCRIBE:
        # Honoured even from a mail client that marks it automated: the token is what counts, and the
        # confirmation goes only to the member's own address.
        return inbound_commands.unsubscribe(inbound, message, automated=bool(automated))
    if automated:
        return Outcome(InboundMessage.Status.IGNORED, automated)
    if found is None or found.kind == Kind.UNKNOWN:
        raise Rejection(
            "It was not sent to an address where the list takes messages. To answer a discussion by email, use "
            f"Reply on a message you received from {settings.LIST_NAME}; to start a new discussion, write to "
            f"{settings.LIST_ADDRESS}.",
            f"Recipients: {inbound.recipient or '-'}, {_header(message, 'To')}",
        )
    if found.kind == Kind.MODERATION:
        return inbound_commands.moderate(inbound, message, found.address)
    if found.kind == Kind.REPLY:
        return _post_reply(inbound, message, found.address)
    return _start_thread(inbound, message, found)


def automated_reason(message: MimeMessage) -> str:
    """Why this message must get no answer (out-of-office, bounce, bulk, our own list mail); '' if none."""
    auto_submitted = _header(message, "Auto-Submitted").strip().lower()
    if auto_submitted and auto_submitted != "no":
        return f"Automated message (Auto-Submitted: {auto_submitted})."
    precedence = _header(message, "Precedence").strip().lower()
    if precedence in _BULK_PRECEDENCE:
        return f"Automated message (Precedence: {precedence})."
    if "Return-Path" in message and _header(message, "Return-Path").strip() in ("", "<>"):
        return "Bounce or notification (empty Return-Path)."
    sender = _from_address(message)
    if sender.partition("@")[0] in _AUTOMATED_SENDERS:
        return f"Mail system message from {sender}."
    if "X-Autoreply" in message or "X-Autorespond" in message:
        return "Automatic reply (X-Autoreply)."
    if settings.LIST_ID.lower() in _header(message, "List-Id").lower() or sender == settings.LIST_ADDRESS.lower():
        return "Our own list mail came back."
    if sender.partition("@")[2] == settings.LIST_DOMAIN.lower():
        return f"Mail from our own domain ({sender}) is never answered."
    message_id = _header(message, "Message-ID").strip()
    if message_id.lower().endswith(f"@{settings.LIST_DOMAIN.lower()}>") and (
        Post.objects.filter(message_id=message_id).exists()
    ):
        return "Our own list mail came back."
    return ""


# Replies and new threads


def _post_reply(inbound: InboundMessage, message: MimeMessage, address: str) -> Outcome:
    try:
        target = parse_reply_address(address, current_token_generation)
    except InvalidToken as error:
        raise Rejection(
            f"{error} Please reply to a more recent message from the list, or answer on the website.",
            address,
        ) from None
    member = Member.objects.select_related("user").filter(pk=target.member_id).first()
    parent = Post.objects.select_related("thread").filter(pk=target.post_id).first()
    if parent is None:
        raise Rejection("The message you answered is no longer on the website.", f"Post {target.post_id}")
    if inbound.sender not in verified_addresses(member):
        raise Rejection(
            "It came from an address other than the one the list wrote to. Please reply from the address "
            "where you received the message, or add and confirm this address in your account settings.",
            f"Reply address of member {member.pk}",
        )
    _require_active(member)
    return _create_reply(member, parent, message)


def _create_reply(member: Member, parent: Post, message: MimeMessage) -> Outcome:
    reply = read_reply(message)
    options = posting_options(reply.text)
    if not options.text:
        raise Rejection(
            "Your reply was empty: once the quoted message and signature were set aside, nothing was left "
            "to post. Please write your answer above or below the quoted message."
        )
    files = files_of(message, reply)
    # Someone who posted anonymously in the thread stays anonymous unless their message says "Anonymous: no".
    anonymous = options.anonymous if options.anonymous is not None else anonymous_by_default(member, parent.thread)
    try:
        post = create_reply(author=member, parent=parent, body=options.text, source=Post.Source.EMAIL,
                            is_question=takes_questions_by_email(parent.thread), attachments=files.accepted,
                            content_note=options.content_note, anonymous=anonymous)
    except PostingNotAllowed as error:
        raise Rejection(str(error), f"Thread {parent.thread_id}") from None
    return _posted(post, member, files)


def _start_thread(inbound: InboundMessage, message: MimeMessage, found: Route) -> Outcome:
    answered = _answered_post(message)
    if answered is not None:
        return _reply_to_list(inbound, message, answered)
    if _answers_digest(message):
        raise Rejection(
            "It answered a whole digest, so the list could not tell which message you meant. Under each message "
            "in a digest is an address that answers just that message; or answer on the website. To start a new "
            f"discussion, write to {settings.LIST_ADDRESS} with a subject of its own."
        )
    category = _category_for(found)
    member = _member_for_sender(inbound.sender)
    if not can_post(member.user, category):
        raise Rejection(
            f"Only moderators start discussions in “{category.name}”. To answer one of its messages, use Reply "
            f"on its email; to start a discussion elsewhere, write to {settings.LIST_ADDRESS}.",
            f"Category {category.slug}",
        )
    subject = _header(message, "Subject")
    title = thread_title(subject)
    if not title:
        raise Rejection(
            "It had no subject. The subject becomes the title of the new discussion: please send it again "
            "with a subject that says what it is about."
        )
    reply = read_reply(message, forwarded=is_forward(subject))
    options = posting_options(reply.text)
    if not options.text:
        raise Rejection("It was empty: once the signature was set aside, nothing was left to post.")
    files = files_of(message, reply)
    try:
        thread = create_thread(author=member, category=category, title=title, body=options.text,
                               source=Post.Source.EMAIL, attachments=files.accepted,
                               content_note=options.content_note, anonymous=bool(options.anonymous))
    except PostingNotAllowed as error:
        raise Rejection(str(error), f"Category {category.slug}") from None
    return _posted(thread.posts.get(), member, files)


def _answered_post(message: MimeMessage) -> Post | None:
    """The post a message to the list address answers, by In-Reply-To, else the last of its References: "Reply
    all" and replies to the List-Post address belong under the post, not in a new thread."""
    suffix = f"@{settings.LIST_DOMAIN.lower()}>"
    for name in ("In-Reply-To", "References"):
        ids = [word for word in " ".join(_header_values(message, name)).split() if word.lower().endswith(suffix)]
        posts = {post.message_id: post for post in Post.objects.select_related("thread").filter(message_id__in=ids)}
        found = next((posts[message_id] for message_id in reversed(ids) if message_id in posts), None)
        if found is not None:
            return found
    return None


def _answers_digest(message: MimeMessage) -> bool:
    """A digest's Message-ID names it (mailer.digests): "Reply" to a digest reaches the list address with it."""
    suffix = f"@{settings.LIST_DOMAIN.lower()}>"
    words = " ".join(_header_values(message, "In-Reply-To") + _header_values(message, "References")).lower().split()
    return any(".digest-" in word and word.endswith(suffix) for word in words)


def _reply_to_list(inbound: InboundMessage, message: MimeMessage, parent: Post) -> Outcome:
    member = _member_for_sender(inbound.sender)
    if not can_read(member.user, parent):
        raise Rejection("The message you answered is not open to you.", f"Post {parent.pk}")
    return _create_reply(member, parent, message)


def _posted(post: Post, member: Member, files: Files) -> Outcome:
    outcome = Outcome(InboundMessage.Status.POSTED, post=post)
    held_check = held_by_guard(post)
    if held_check is not None:
        return _held_by_guard(outcome, post, held_check, member, files)
    if files.left_out:
        outcome.notice_to = member
        outcome.notice_subject = f"Posted, but without some files: {post.thread.title}"[:200]
        outcome.notice_text = render_to_string("mailer/email/files_left_out.txt", {
            "left_out": files.left_out, "post_url": absolute_url(post.get_absolute_url()),
        })
        outcome.note = f"{len(files.left_out)} file(s) left out: " + " ".join(files.left_out)
    return outcome


def _held_by_guard(outcome: Outcome, post: Post, held_check: GuardCheck, member: Member, files: Files) -> Outcome:
    """The sender alone hears what the confidentiality guard found, masked (the subject too may be what it found),
    with the page where they edit and publish the post, or confirm it."""
    findings, text = findings_of(held_check), checked_text(post)
    outcome.notice_to, outcome.notice_subject = member, "Not published yet: your message may identify a client"
    outcome.notice_text = render_to_string("mailer/email/guard_held.txt", {
        "found": [(finding.label, excerpt(text, finding, findings)) for finding in findings],
        "edit_url": absolute_url(reverse("edit_post", args=[post.id])), "left_out": files.left_out,
    })
    outcome.notice_quotes = _masked_title(post, findings)
    outcome.note = f"Held by the confidentiality guard: {summary(findings)}."
    if files.left_out:
        outcome.note += f" {len(files.left_out)} file(s) left out: " + " ".join(files.left_out)
    return outcome


def _masked_title(post: Post, findings: list[Finding]) -> str:
    """A new thread's subject, as the answer may quote it: its title with what the guard found in it masked (the
    title comes first in the text the findings are places in). "" for a reply, whose subject nobody reads."""
    if not opens_unpublished_thread(post):
        return ""
    title = post.thread.title
    return "".join(masked(piece.text) if piece.finding else piece.text for piece in segments(title, findings))


def _category_for(found: Route) -> Category:
    if found.kind == Kind.LIST:
        category = default_category()
        if category is None:
            raise Rejection("There is no discussion area to post in yet. Please write to the moderators.")
        return category
    category = Category.objects.filter(slug__iexact=found.address.partition("@")[0]).first()
    if category is None:
        raise Rejection(
            f"There is no discussion area at {found.address}. To start a discussion, write to "
            f"{settings.LIST_ADDRESS}; the address of each category is on {absolute_url(reverse('mail_help'))}.",
            found.address,
        )
    return category


def default_category() -> Category | None:
    """Where mail to the list address starts a thread: settings.LIST_DEFAULT_CATEGORY (a slug), else the first
    category every member may start threads in."""
    slug = settings.LIST_DEFAULT_CATEGORY
    category = Category.objects.filter(slug=slug).first() if slug else None
    return category or Category.objects.filter(moderators_only=False).first()


def _member_for_sender(address: str) -> Member:
    """The active member whose confirmed address this is; Rejection otherwise."""
    user = User.objects.filter(
        Q(email__iexact=address) | Q(emailaddress__email__iexact=address, emailaddress__verified=True)
    ).distinct().first()
    if user is None:
        if EmailAddress.objects.filter(email__iexact=address, verified=False).exists():
            raise Rejection(
                "This address is in your account but not confirmed yet. Please confirm it with the link we sent "
                "when you added it (your account settings can send it again), then send your message again.",
                f"Unconfirmed address {address}",
            )
        raise Rejection(
            f"Discussions on {settings.LIST_NAME} are open to members only, and this address does not belong to "
            "a member. If you are one, send from the address you sign in with, or add and confirm this one in "
            "your account settings.",
            f"Unknown sender {address}",
        )
    member = Member.objects.select_related("user").filter(user=user).first()
    if member is None:
        raise Rejection(f"Discussions on {settings.LIST_NAME} are open to members only.", f"User {user.pk}")
    _require_active(member)
    return member


def _require_active(member: Member) -> None:
    if member_of(member.user) is None:
        raise Rejection(
            "Posting by email is open to active members only, and your membership is not active at the "
            "moment. If you think this is a mistake, please write to the moderators.",
            f"Member {member.pk} is {member.status}",
        )


def verified_addresses(member: Member) -> set[str]:
    addresses = {address.lower() for address in member.user.emailaddress_set.filter(verified=True)
                 .values_list("email", flat=True)}
    return addresses | {member.user.email.lower()}


# Answers


def _enqueue_rejection(inbound_id: int, reason: str) -> None:
    from . import tasks

    tasks.send_rejection.delay(inbound_id, reason)


def _enqueue_notice(inbound_id: int, member_id: int, subject: str, text: str, quotes: str) -> None:
    from . import tasks

    tasks.send_inbound_notice.delay(inbound_id, member_id, subject, text, quotes)


def _auto_reply(inbound: InboundMessage, *, to: str, subject: str, body: str) -> EmailMessage:
    return EmailMessage(
        subject=subject,
        body=body,
        from_email=formataddr((settings.LIST_NAME, auto_reply_address())),
        to=[to],
        headers={
            "Message-ID": make_msgid(domain=settings.LIST_DOMAIN),
            "Auto-Submitted": "auto-replied",
            "X-Auto-Response-Suppress": "All",
            "In-Reply-To": inbound.message_id,
            "References": inbound.message_id,
        },
    )


def send_rejection(inbound_id: int, reason: str) -> None:
    """One polite explanation per sender address and hour, marked as an automatic reply so that no
    well-behaved autoresponder answers it back."""
    inbound = InboundMessage.objects.get(pk=inbound_id)
    if not inbound.sender:
        return
    key = f"inbound-rejection:{hashlib.sha256(inbound.sender.encode()).hexdigest()}"
    if not cache.add(key, inbound_id, timeout=REJECTION_INTERVAL_SECONDS):
        return
    subject = inbound.subject or "(no subject)"
    message = email.message_from_bytes(inbound.raw.encode("utf-8"), policy=policy.default)
    body = render_to_string("mailer/email/rejection.txt", {
        "reason": reason,
        "subject": subject,
        # So that nothing they wrote is lost: they can post it on the website as it is.
        "their_words": read_reply(message).text[:REJECTION_QUOTE_CHARACTERS],
        "received_at": inbound.received_at,
        "list_name": settings.LIST_NAME,
        "site_url": settings.SITE_URL,
    })
    try:
        _auto_reply(inbound, to=inbound.sender, subject=f"Not posted: {subject}", body=body).send()
    except Exception as error:  # noqa: BLE001  (any mail-server failure: free the slot, let the task retry)
        cache.delete(key)
        raise TransientSendError(str(error)) from error


def send_inbound_notice(inbound_id: int, member_id: int, subject: str, text: str, quotes: str = "") -> None:
    """What was done with a member's message, told to the member's own address; `quotes` names the message instead
    of its subject (which may hold what the confidentiality guard found)."""
    inbound = InboundMessage.objects.get(pk=inbound_id)
    member = Member.objects.select_related("user").get(pk=member_id)
    body = render_to_string("mailer/email/inbound_notice.txt", {
        "text": text, "subject": quotes or inbound.subject or "(no subject)", "received_at": inbound.received_at,
        "list_name": settings.LIST_NAME, "site_url": settings.SITE_URL,
    })
    _auto_reply(inbound, to=member.email, subject=subject, body=body).send()


def requeue_stale_inbound(older_than_minutes: int = 5) -> int:
    """Messages stored but never processed (the broker was down when they arrived, or a worker died)
    are queued again; processing is idempotent, so a message queued twice is still posted once."""
    cutoff = timezone.now() - timedelta(minutes=older_than_minutes)
    stale = list(
        InboundMessage.objects.filter(status=InboundMessage.Status.RECEIVED, received_at__lt=cutoff)
        .values_list("pk", flat=True)
    )
    for inbound_id in stale:
        _enqueue_processing(inbound_id)
    return len(stale)


def _header(message: MimeMessage, name: str) -> str:
    values = _header_values(message, name)
    return values[0] if values else ""


def _header_values(message: MimeMessage, name: str) -> list[str]:
    try:
        values = [str(value) for value in message.get_all(name, [])]
    except (IndexError, MessageError):
        # The stdlib parser trips over some malformed headers; their unparsed text serves as well.
        values = [value for key, value in message.raw_items() if key.lower() == name.lower()]
    # Stray 8-bit bytes and NULs would fail in PostgreSQL, and then the MTA would retry forever.
    return [value.encode("utf-8", "replace").decode().replace("\x00", "") for value in values]


def _from_address(message: MimeMessage) -> str:
    return parseaddr(_header(message, "From"))[1].strip().lower()
