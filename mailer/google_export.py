"""Reading what Google Groups hands over when a group moves: the member list ("Export members" CSV) and the
Takeout archive of the group's conversations (an mbox). Nothing here touches the database; mailer.list_import
writes what these functions return.

The known facts about both formats, with their sources, and a sample with every trap found so far, are in the
project's shared samples (google-group/FORMAT.md and README.md). In short: the CSV has a title line before its
header and local join times; the mbox is newest first, mboxo-escaped, CRLF or LF, holds the copies Google
delivered (list headers, a footer in every text part, the author's From: sometimes rewritten to the group),
repeats some messages, and threads only through Message-ID/In-Reply-To/References and the subject.
"""

import csv
import hashlib
import io
import mailbox
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email import policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser, BytesParser
from email.utils import parseaddr, parsedate_to_datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .inbound_files import Files, files_of
from .inbound_text import IMAGE_PLACEHOLDER, body_text, is_forward, new_words, read_reply, thread_title
from .models import MailPreference

GROUP_DOMAIN = "@googlegroups.com"

# ---------------------------------------------------------------------------------------------- member list

# Google Groups' subscription kinds (All email / Digest / Abridged / None), as the classic and newer exports
# spell them, mapped to ours. An abridged summary is closest to our daily digest.
DELIVERY_MODES = {
    "email": MailPreference.Mode.EACH,
    "all email": MailPreference.Mode.EACH,
    "digest": MailPreference.Mode.DAILY,
    "summary": MailPreference.Mode.DAILY,
    "abridged": MailPreference.Mode.DAILY,
    "no email": MailPreference.Mode.NONE,
    "none": MailPreference.Mode.NONE,
}
ROLE_RANK = {"owner": 3, "manager": 2, "member": 1}
_JOIN_COLUMNS = ("join year", "join month", "join day", "join hour", "join minute", "join second")
# The export names the exporting owner's zone the Windows way ("Eastern Daylight Time"), one row at a time.
_US_ZONE_HOURS = {"atlantic": -4, "eastern": -5, "central": -6, "mountain": -7, "pacific": -8, "alaska": -9,
                  "hawaii": -10, "hawaii-aleutian": -10}
_ZONE_NAME = re.compile(r"^(?P<zone>[a-z-]+) (?P<kind>standard|daylight) time$")
_ZONE_ABBREVIATION = re.compile(r"^(?P<zone>[ecmp])(?P<kind>[sd])t$")
_UTC_NAMES = {"utc", "gmt", "coordinated universal time", "greenwich mean time"}


@dataclass
class ListMember:
    email: str  # lowercase: the same person in two cases is one row
    name: str  # the nickname as exported, "" when there is none
    role: str  # owner / manager / member, or whatever else the export says, lowercase
    delivery: str  # a MailPreference mode, "" when the export's value is unknown
    posting_allowed: bool
    joined_at: datetime | None  # UTC


@dataclass
class MemberList:
    members: list[ListMember]
    rows: int
    unknown_time_zones: set[str] = field(default_factory=set)
    skipped: list[str] = field(default_factory=list)


def read_member_list(data: bytes, default_zone: str = "UTC") -> MemberList:
    """The export's people, one per address (case-insensitive): the first nickname given, the highest role, the
    earliest join date. The header row is found by its first cell and columns are read by name, because
    exports differ (a title line or none, 13 columns or 6, `member` or `Member`). Join times in a zone this
    cannot name are read in `default_zone` and reported."""
    rows = list(csv.reader(io.StringIO(_decode_csv(data), newline="")))
    start = next((i for i, row in enumerate(rows) if row and row[0].strip().lower() == "email address"), None)
    if start is None:
        raise ValueError("No header row starting with “Email address”: is this Google Groups' member export?")
    columns = {name.strip().lower(): index for index, name in enumerate(rows[start])}
    result = MemberList(members=[], rows=0)
    merged: dict[str, ListMember] = {}
    for number, row in enumerate(rows[start + 1:], start=start + 2):
        if not any(cell.strip() for cell in row):
            continue
        result.rows += 1
        value = _row_reader(row, columns)
        address = value("email address")
        if "@" not in address:
            result.skipped.append(f"line {number}: no email address")
            continue
        person = ListMember(
            email=address.lower(), name=value("nickname"), role=value("group status").lower(),
            delivery=DELIVERY_MODES.get(value("email preference").lower(), ""),
            posting_allowed=value("posting permissions").lower() not in ("not allowed", "banned"),
            joined_at=_joined_at(value, default_zone, result.unknown_time_zones),
        )
        known = merged.get(person.email)
        if known is None:
            merged[person.email] = person
            continue
        known.name = known.name or person.name
        if ROLE_RANK.get(person.role, 0) > ROLE_RANK.get(known.role, 0):
            known.role = person.role
        known.delivery = known.delivery or person.delivery
        known.posting_allowed = known.posting_allowed and person.posting_allowed
        if person.joined_at and (known.joined_at is None or person.joined_at < known.joined_at):
            known.joined_at = person.joined_at
    result.members = list(merged.values())
    return result


def _decode_csv(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _row_reader(row: list[str], columns: dict[str, int]):
    def value(name: str) -> str:
        index = columns.get(name)
        return row[index].strip() if index is not None and index < len(row) else ""

    return value


def _joined_at(value, default_zone: str, unknown_zones: set[str]) -> datetime | None:
    try:
        local = datetime(*(int(value(name)) for name in _JOIN_COLUMNS))
    except ValueError:
        return None
    name = value("time zone")
    zone = time_zone(name)
    if zone is None:
        unknown_zones.add(name)
        zone = ZoneInfo(default_zone)
    return local.replace(tzinfo=zone).astimezone(UTC)


def time_zone(name: str):
    """`Eastern Standard Time` is UTC−5 and `Eastern Daylight Time` UTC−4, whatever the date; IANA names work
    too. None when the name is unknown."""
    key = " ".join(name.lower().split())
    if key in _UTC_NAMES:
        return UTC
    match = _ZONE_NAME.match(key) or _ZONE_ABBREVIATION.match(key)
    if match:
        zone = {"e": "eastern", "c": "central", "m": "mountain", "p": "pacific"}.get(match["zone"], match["zone"])
        if zone in _US_ZONE_HOURS:
            daylight = match["kind"] in ("daylight", "d")
            return timezone(timedelta(hours=_US_ZONE_HOURS[zone] + daylight))
    try:
        return ZoneInfo(name.strip()) if name.strip() else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


# ---------------------------------------------------------------------------------------------- the archive

_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_REPLY_PREFIX = re.compile(r"(?<![a-z])re\s*(?:\[\d+\])?\s*:", re.IGNORECASE)
_AUTO_REPLY_SUBJECT = re.compile(r"^(automatic reply|auto[- ]?reply|out of (the )?office)\s*:", re.IGNORECASE)
_VIA_GROUP = re.compile(r"^'(?P<name>.*)' via .*$")
_TAKEOUT_FROM_LINE_DATE = "%a %b %d %H:%M:%S %z %Y"  # "From 2910…@xxx Wed Feb 10 00:20:44 +0000 2016"


@dataclass
class ArchivedMessage:
    """What threading and author matching need of one message; the body is read again when it is imported."""

    key: str  # its place in the mbox
    message_id: str
    date: datetime
    subject: str
    in_reply_to: list[str]
    references: list[str]
    author_name: str
    author_email: str  # lowercase; "" when the archive does not say who wrote it
    rewritten: bool  # Google had replaced the author's From: with the group's address
    automated: bool
    parent_id: str | None = None  # set by thread_messages

    @property
    def title(self) -> str:
        return subject_title(self.subject)


@dataclass
class ArchiveIndex:
    messages: list[ArchivedMessage]  # each Message-ID once, oldest first
    entries: int
    duplicates: int


def open_archive(path) -> mailbox.mbox:
    return mailbox.mbox(path, create=False)


def read_archive(box: mailbox.mbox) -> ArchiveIndex:
    """Headers only, so that a large archive fits in memory; the first copy of a repeated Message-ID counts."""
    parser = BytesHeaderParser(policy=policy.default)
    seen: dict[str, ArchivedMessage] = {}
    entries = 0
    for key in box.keys():
        entries += 1
        raw = message_bytes(box, key)
        headers = parser.parsebytes(raw)
        message_id = archive_message_id(headers, raw)
        if message_id in seen:
            continue
        name, address, rewritten = archive_author(headers)
        seen[message_id] = ArchivedMessage(
            key=key, message_id=message_id, date=_date(headers, box, key), subject=_text(headers, "Subject"),
            in_reply_to=_MESSAGE_ID.findall(_text(headers, "In-Reply-To")),
            references=_MESSAGE_ID.findall(_text(headers, "References")),
            author_name=name, author_email=address, rewritten=rewritten, automated=is_auto_reply(headers),
        )
    messages = sorted(seen.values(), key=lambda message: (message.date, message.message_id))
    return ArchiveIndex(messages=messages, entries=entries, duplicates=entries - len(seen))


def message_bytes(box: mailbox.mbox, key: str) -> bytes:
    """The message as it was mailed: the mbox writer put '>' before body lines starting 'From ' (mboxo),
    and Python's mailbox does not take it away again."""
    lines = box.get_bytes(key).split(b"\n")
    return b"\n".join(line[1:] if line.startswith(b">From ") else line for line in lines)


def parse_message(raw: bytes) -> EmailMessage:
    return BytesParser(policy=policy.default).parsebytes(raw)


def storable_text(raw: bytes) -> str:
    """PostgreSQL text holds no NUL and only valid characters: UTF-8 (so also 7-bit) mail is kept as it is,
    and anything else (8-bit Latin-1 or Windows bodies) byte for byte as Latin-1, which maps every byte to one
    character and back, so the original bytes stay recoverable."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return text.replace("\x00", "")


def archive_message_id(headers: EmailMessage, raw: bytes) -> str:
    found = _MESSAGE_ID.search(_text(headers, "Message-ID"))
    if found and len(found.group(0)) <= 255:
        return found.group(0)
    # Stable, so that a second run recognises the message again.
    return f"<{hashlib.sha256(raw).hexdigest()}@no-message-id.invalid>"


def _text(headers: EmailMessage, name: str) -> str:
    try:
        value = headers.get(name)
        return " ".join(str(value).split()) if value is not None else ""
    except (IndexError, ValueError, TypeError, LookupError):
        # The stdlib trips over some malformed headers; their unparsed text serves as well.
        raw = next((value for key, value in headers.raw_items() if key.lower() == name.lower()), "")
        return " ".join(str(raw).split())


def _date(headers: EmailMessage, box: mailbox.mbox, key: str) -> datetime:
    try:
        date = parsedate_to_datetime(_text(headers, "Date"))
    except (TypeError, ValueError, IndexError):
        # Takeout's envelope line carries the date too (UTC offset before the year).
        from_line = box.get_message(key).get_from().strip()
        date = datetime.strptime(from_line.split(" ", 1)[1], _TAKEOUT_FROM_LINE_DATE)
    return date if date.tzinfo else date.replace(tzinfo=UTC)


def is_auto_reply(headers: EmailMessage) -> bool:
    """Out-of-office and other automatic answers that reached the group. Every archived copy carries
    `Precedence: list` (Google's own), so that header says nothing here, unlike in mailer.inbound."""
    auto_submitted = _text(headers, "Auto-Submitted").lower()
    return bool(
        (auto_submitted and auto_submitted != "no")
        or "X-Autoreply" in headers or "X-Autorespond" in headers
        or _text(headers, "Precedence").lower() == "auto_reply"
        or _AUTO_REPLY_SUBJECT.match(_text(headers, "Subject"))
    )


def archive_author(headers: EmailMessage) -> tuple[str, str, bool]:
    """(name, lowercase address, rewritten) of whoever wrote the message. When Google rewrote From: to
    "'Name' via Group" <group@googlegroups.com> (DMARC), the author is in X-Original-From, else Reply-To,
    else X-Original-Sender; never the group itself."""
    name, address = _person(_text(headers, "From"))
    if not address.endswith(GROUP_DOMAIN):
        return name, address, False
    for header in ("X-Original-From", "Reply-To"):
        original_name, original = _person(_text(headers, header))
        if original and not original.endswith(GROUP_DOMAIN):
            return original_name, original, True
    via = _VIA_GROUP.match(name)
    name = via["name"].strip() if via else ""
    sender = _text(headers, "X-Original-Sender").lower()
    return name, sender if "@" in sender and not sender.endswith(GROUP_DOMAIN) else "", True


def _person(value: str) -> tuple[str, str]:
    name, address = parseaddr(value)
    name, address = name.strip().strip("'\"").strip(), address.strip().lower()
    return ("" if name.lower() == address else name), address


# ---------------------------------------------------------------------------------------------- threading


def normalised_subject(subject: str) -> tuple[str, bool]:
    """The subject as a thread title, case-folded, and whether one of the prefixes taken off was a reply's."""
    collapsed, title = " ".join(subject.split()), thread_title(subject)
    prefixes = collapsed[:max(collapsed.find(title.rstrip("…")), 0)]
    return title.casefold(), bool(_REPLY_PREFIX.search(prefixes))


def subject_title(subject: str) -> str:
    return thread_title(subject) or "(no subject)"


def thread_messages(posts: list[ArchivedMessage], known_ids=frozenset()) -> list[list[ArchivedMessage]]:
    """Sets each post's parent_id and returns the conversations, each parent before its children.

    Oldest first, the parent is the In-Reply-To message if it is in the archive (or imported before:
    `known_ids`), otherwise the last References id that is; failing both, a post whose subject says it is a
    reply joins the most recent earlier conversation that began with the same subject; otherwise it begins
    one. A reply keeps its parent even when its date is earlier (the sender's clock), and a reply whose
    parent is missing joins the conversation of the ids it does know. A conversation whose first post answers
    an earlier import continues that thread.
    """
    present = {post.message_id for post in posts} | set(known_ids)
    parent_of: dict[str, str | None] = {}
    roots_by_subject: dict[str, str] = {}

    def creates_cycle(post_id: str, parent_id: str) -> bool:
        while parent_id is not None:
            if parent_id == post_id:
                return True
            parent_id = parent_of.get(parent_id)
        return False

    for post in posts:
        subject, was_reply = normalised_subject(post.subject)
        candidates = [*post.in_reply_to, *reversed(post.references)]
        parent = next((i for i in candidates if i in present and i != post.message_id
                       and not creates_cycle(post.message_id, i)), None)
        if parent is None and was_reply:
            parent = roots_by_subject.get(subject)
        post.parent_id = parent_of[post.message_id] = parent
        if parent is None:
            roots_by_subject[subject] = post.message_id
    children: dict[str | None, list[ArchivedMessage]] = {}
    for post in posts:
        children.setdefault(post.parent_id, []).append(post)
    tops = [post for post in posts if post.parent_id is None or post.parent_id not in parent_of]
    conversations = []
    for top in tops:
        ordered, stack = [], [top]
        while stack:
            post = stack.pop()
            ordered.append(post)
            stack.extend(reversed(children.get(post.message_id, [])))
        conversations.append(ordered)
    return conversations


# ---------------------------------------------------------------------------------------------- content

_FOOTER_START = re.compile(
    r"^(?:>\s*)*You received this message because you are subscribed to (?:the|a topic in the) Google Groups",
    re.IGNORECASE,
)
_SEPARATOR = re.compile(r"^(?:>\s*)*-{2,3}\s*$")
_QUOTE_MARKS = re.compile(r"^(?:>\s*)+")
# GroupWise quotes the original below ">>> Name <address> 6/29/2016 8:42 AM >>>", without '>' on its lines.
_GROUPWISE_QUOTE = re.compile(r"^>>> .+ \d{1,2}/\d{1,2}/\d{2,4} .*>>>\s*$")


def display_text(message: EmailMessage, subject: str) -> str:
    """What the imported post shows: the author's own words, without the quoted messages, signature and
    Google's footer (the original is kept as it was). A forward's body is its content: only the footer goes."""
    text = _cut_groupwise_quote(strip_google_footer(body_text(message)))
    words = text.strip() if is_forward(subject) else new_words(text)
    # A message that is nothing but quotes would show nothing: the whole of it is better than an empty post.
    return _tidy(words or text)


def strip_google_footer(text: str) -> str:
    """Takes out every copy of Google's footer ("You received this message because you are subscribed to the
    Google Groups …", six lines until mid-2019, three after, with or without the "-- " above it, quoted or
    not): its lines run until the next blank line."""
    lines, kept, index = text.replace("\r\n", "\n").split("\n"), [], 0
    while index < len(lines):
        if _FOOTER_START.match(lines[index]):
            if kept and _SEPARATOR.match(kept[-1]):
                kept.pop()
            while index < len(lines) and _QUOTE_MARKS.sub("", lines[index]).strip():
                index += 1
            continue
        kept.append(lines[index])
        index += 1
    return "\n".join(kept)


def _cut_groupwise_quote(text: str) -> str:
    lines = text.split("\n")
    cut = next((index for index, line in enumerate(lines) if _GROUPWISE_QUOTE.match(line)), len(lines))
    return "\n".join(lines[:cut])


def _tidy(text: str) -> str:
    # Inline images are attachments of the post; their "[cid:…]" stand-ins in the text mean nothing on a page.
    text = IMAGE_PLACEHOLDER.sub("", text)
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def message_files(message: EmailMessage, subject: str) -> Files:
    """Its attachments and inline images, checked as the web checks uploads (mailer.inbound_files)."""
    return files_of(message, read_reply(message, forwarded=is_forward(subject)))
