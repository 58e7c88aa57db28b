"""Inbound mail: every message is stored first, then a task turns a member's reply into a post,
ignores automated mail silently, or tells the sender once, in plain words, why nothing was posted."""

import email
import hashlib
import re
from datetime import timedelta
from email import policy
from email.errors import MessageError
from email.message import EmailMessage as MimeMessage
from email.utils import getaddresses, parseaddr
from functools import partial
from html.parser import HTMLParser

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from email_reply_parser import EmailReplyParser

from community.access import member_of
from community.models import Member
from threads.models import Post
from threads.services import PostingNotAllowed, create_reply
from threads.webinars import takes_questions_by_email

from .models import InboundMessage
from .outbound import TransientSendError
from .tokens import InvalidToken, is_reply_address, parse_reply_address

REJECTION_INTERVAL_SECONDS = 60 * 60
_RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To")
_AUTOMATED_SENDERS = {"mailer-daemon", "postmaster"}
_BULK_PRECEDENCE = {"bulk", "list", "junk"}


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


def _enqueue_rejection(inbound_id: int, reason: str) -> None:
    from . import tasks

    tasks.send_rejection.delay(inbound_id, reason)


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
    """Nothing is posted; `reason` is told to the sender, `detail` only kept for the moderators."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(reason)
        self.reason, self.detail = reason, detail


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
        automated = automated_reason(message)
        if automated:
            inbound.status, inbound.note = InboundMessage.Status.IGNORED, automated
        else:
            try:
                inbound.post = _post_reply(inbound, message)
                inbound.status = InboundMessage.Status.POSTED
            except Rejection as rejection:
                inbound.status = InboundMessage.Status.REJECTED
                inbound.note = f"{rejection.reason} {rejection.detail}".strip()
                transaction.on_commit(partial(_enqueue_rejection, inbound.id, rejection.reason))
        inbound.save(update_fields=["status", "note", "post", "processed_at"])


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
    message_id = _header(message, "Message-ID").strip()
    if message_id.lower().endswith(f"@{settings.LIST_DOMAIN.lower()}>") and (
        Post.objects.filter(message_id=message_id).exists()
    ):
        return "Our own list mail came back."
    return ""


def _post_reply(inbound: InboundMessage, message: MimeMessage) -> Post:
    address = _reply_address(inbound, message)
    if address is None:
        raise Rejection(
            "It was not sent to a reply address. To answer a discussion by email, use Reply on a message "
            f"you received from {settings.LIST_NAME}; to start a new discussion, use the website.",
            f"Recipients: {inbound.recipient or '-'}, {_header(message, 'To')}",
        )
    try:
        target = parse_reply_address(address, _token_generation)
    except InvalidToken as error:
        raise Rejection(
            f"{error} Please reply to a more recent message from the list, or answer on the website.",
            address,
        ) from None
    member = Member.objects.select_related("user").filter(pk=target.member_id).first()
    parent = Post.objects.select_related("thread").filter(pk=target.post_id).first()
    if parent is None:
        raise Rejection("The message you answered is no longer on the website.", f"Post {target.post_id}")
    if inbound.sender not in _verified_addresses(member):
        raise Rejection(
            "It came from an address other than the one the list wrote to. Please reply from the address "
            "where you received the message, or add and confirm this address in your account settings.",
            f"Reply address of member {member.pk}",
        )
    if member_of(member.user) is None:
        raise Rejection(
            "Replies by email are open to active members only, and your membership is not active at the "
            "moment. If you think this is a mistake, please write to the moderators.",
            f"Member {member.pk} is {member.status}",
        )
    body = reply_text(message)
    if not body:
        raise Rejection(
            "Your reply was empty: once the quoted message and signature were set aside, nothing was left "
            "to post. Please write your answer above the quoted message."
        )
    try:
        return create_reply(author=member, parent=parent, body=body, source=Post.Source.EMAIL,
                            is_question=takes_questions_by_email(parent.thread))
    except PostingNotAllowed as error:
        raise Rejection(str(error), f"Thread {parent.thread_id}") from None


def _reply_address(inbound: InboundMessage, message: MimeMessage) -> str | None:
    candidates = [inbound.recipient]
    for name in _RECIPIENT_HEADERS:
        candidates += [address for _, address in getaddresses(_header_values(message, name))]
    return next((address for address in candidates if is_reply_address(address)), None)


def _token_generation(member_id: int) -> int | None:
    row = Member.objects.filter(pk=member_id).values_list("pk", "mail_preference__token_generation").first()
    if row is None:
        return None
    return row[1] or 0


def _verified_addresses(member: Member) -> set[str]:
    addresses = {address.lower() for address in member.user.emailaddress_set.filter(verified=True)
                 .values_list("email", flat=True)}
    return addresses | {member.user.email.lower()}


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
    body = render_to_string("mailer/email/rejection.txt", {
        "reason": reason,
        "subject": subject,
        "received_at": inbound.received_at,
        "list_name": settings.LIST_NAME,
        "site_url": settings.SITE_URL,
    })
    try:
        EmailMessage(
            subject=f"Not posted: {subject}",
            body=body,
            to=[inbound.sender],
            headers={
                "Auto-Submitted": "auto-replied",
                "In-Reply-To": inbound.message_id,
                "References": inbound.message_id,
            },
        ).send()
    except Exception as error:  # noqa: BLE001  (any mail-server failure: free the slot, let the task retry)
        cache.delete(key)
        raise TransientSendError(str(error)) from error


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


def reply_text(message: MimeMessage) -> str:
    """The new words of a reply: text/plain preferred, HTML converted; quotes and signatures removed."""
    part = message.get_body(preferencelist=("plain",))
    if part is not None:
        text = _part_text(part)
    else:
        part = message.get_body(preferencelist=("html",))
        text = html_to_text(_part_text(part)) if part is not None else ""
    text = text.replace("\r\n", "\n").replace("\xa0", " ")
    return EmailReplyParser.parse_reply(_cut_quoted_original(text)).strip()


def _part_text(part: MimeMessage) -> str:
    try:
        return part.get_content()
    except (LookupError, ValueError):
        # Unknown or lying charset: keep what can be read.
        return (part.get_payload(decode=True) or b"").decode("utf-8", errors="replace")


_ATTRIBUTION_START = re.compile(r"^\s*(On|Le|El|Am)\s", re.IGNORECASE)
_ATTRIBUTION_END = re.compile(r"(wrote|a écrit|escribió|schrieb)\s*:\s*$", re.IGNORECASE)
_ORIGINAL_MESSAGE = re.compile(r"^\s*-{2,}\s*(Original Message|Forwarded message)\s*-{2,}", re.IGNORECASE)
_HEADER_FROM = re.compile(r"^\s*\*?From:\*?\s+\S")
_HEADER_SENT = re.compile(r"^\s*\*?(Sent|Date):\*?\s+\S")


def _cut_quoted_original(text: str) -> str:
    """Drop everything from the first line that introduces the quoted original. The library misses
    Outlook's unquoted 'From: / Sent:' block and attributions wrapped over two or three lines, and would
    fold a reply that itself starts with 'On ...' into the attribution."""
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if _ORIGINAL_MESSAGE.match(line):
            return "\n".join(lines[:index])
        if _HEADER_FROM.match(line) and any(_HEADER_SENT.match(next_line) for next_line in lines[index + 1:index + 5]):
            return "\n".join(lines[:index])
        if _ATTRIBUTION_START.match(line):
            for end in range(index + 1, min(index + 4, len(lines) + 1)):
                if _ATTRIBUTION_END.search(" ".join(part.strip() for part in lines[index:end])):
                    return "\n".join(lines[:index])
    return text


def html_to_text(html: str) -> str:
    converter = _HTMLToText()
    converter.feed(html)
    converter.close()
    return converter.text()


class _HTMLToText(HTMLParser):
    """Just enough HTML to text for a reply: paragraphs, line breaks, list items, links, and blockquotes
    turned into '> ' lines so that the quoted original is recognised and set aside."""

    _PARAGRAPH = frozenset({"p", "div", "blockquote", "table", "ul", "ol", "pre", "hr", "h1", "h2", "h3", "h4"})
    _LINE = frozenset({"br", "tr", "li"})
    _HIDDEN = frozenset({"head", "script", "style", "title", "template"})

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.lines: list[tuple[int, str]] = [(0, "")]  # (blockquote depth, text)
        self.quote_depth = 0
        self.hidden_depth = 0
        self.preformatted = 0
        self.link_href = ""
        self.link_text = ""

    def handle_starttag(self, tag, attrs):
        if tag in self._HIDDEN:
            self.hidden_depth += 1
        elif tag in self._PARAGRAPH:
            self._paragraph()
        elif tag in self._LINE:
            self._line_break()
        if tag == "blockquote":
            self.quote_depth += 1
        elif tag == "pre":
            self.preformatted += 1
        elif tag == "li":
            self._write("- ")
        elif tag == "a":
            self.link_href, self.link_text = dict(attrs).get("href") or "", ""

    def handle_endtag(self, tag):
        if tag in self._HIDDEN:
            self.hidden_depth = max(0, self.hidden_depth - 1)
            return
        if tag == "blockquote":
            self.quote_depth = max(0, self.quote_depth - 1)
        elif tag == "pre":
            self.preformatted = max(0, self.preformatted - 1)
        elif tag == "a":
            # Markdown autolink syntax, so the address stays clickable once posted.
            if self.link_href.startswith(("http://", "https://")) and self.link_text.strip() != self.link_href:
                self._write(f" <{self.link_href}>")
            self.link_href = ""
        if tag in self._PARAGRAPH:
            self._paragraph()

    def handle_data(self, data):
        if self.hidden_depth:
            return
        if self.link_href:
            self.link_text += data
        if not self.preformatted:
            self._write(re.sub(r"\s+", " ", data))
            return
        first, *rest = data.split("\n")
        self._write(first)
        for line in rest:
            self._line_break()
            self._write(line)

    def _write(self, data: str) -> None:
        depth, line = self.lines[-1]
        if not line:
            depth, data = self.quote_depth, data if self.preformatted else data.lstrip()
        self.lines[-1] = (depth, line + data)

    def _line_break(self) -> None:
        self.lines.append((self.quote_depth, ""))

    def _paragraph(self) -> None:
        if self.lines[-1][1].strip():
            self._line_break()
        self._line_break()

    def text(self) -> str:
        out = [("> " * depth + line).rstrip() if line.strip() else "" for depth, line in self.lines]
        return re.sub(r"\n(\s*\n){2,}", "\n\n", "\n".join(out)).strip()


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
