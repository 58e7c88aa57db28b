"""What a member wrote in an email: the body as text (plain text preferred, format=flowed joined, HTML converted),
then only their new words — whether they wrote above the quoted message (top-posting), below it (bottom-posting)
or between its lines (interleaved) — without the quoted original, the attribution line, Outlook's "From: / Sent:"
block, or their signature.

Quotes and attributions are found here, line by line, because where the member's words sit relative to the quote
decides what to keep, and both reply libraries get bottom-posting wrong: they drop everything below an
"On ... wrote:" line. Signatures are found by mail-parser-reply, which is maintained (email-reply-parser has had
no release since 2020) and knows the "-- " delimiter, "Sent from my iPhone" / "Get Outlook for iOS" lines and
sign-offs in English, Spanish and French.
"""

import re
from dataclasses import dataclass
from email.message import EmailMessage as MimeMessage
from functools import cache
from html.parser import HTMLParser

from mailparser_reply.parser import EmailMessage as ParsedBody

SIGNATURE_LANGUAGES = ("en", "es", "fr")

# Where a mail client left an inline image in the text: Outlook writes [cid:<Content-ID>], Gmail [image: <name>];
# our HTML conversion and the joining of Apple Mail's text parts write the same.
IMAGE_PLACEHOLDER = re.compile(r"\[(?:cid:(?P<cid>[^\]\s]+)|image:\s*(?P<name>[^\]\n]+?)\s*)\]", re.IGNORECASE)

_QUOTED = re.compile(r"^\s*>")
_ATTRIBUTION_START = re.compile(r"^\s*(On|Le|El|Am|Il|Em|Op)\s", re.IGNORECASE)
_ATTRIBUTION_END = re.compile(r"(wrote|a écrit|escribió|schrieb|ha scritto|escreveu|schreef)\s*:\s*$", re.IGNORECASE)
_ORIGINAL_MESSAGE = re.compile(r"^\s*-{2,}\s*(Original Message|Message d'origine|Mensaje original)\s*-{2,}",
                               re.IGNORECASE)
# Outlook's unquoted header block of the original, in the languages of the list (From: + Sent: within 4 lines).
_HEADER_FROM = re.compile(r"^\s*\*?(From|De|Von|Da|Van)\s?:\*?\s+\S", re.IGNORECASE)
_HEADER_SENT = re.compile(r"^\s*\*?(Sent|Date|Enviado|Envoyé|Gesendet|Datum|Fecha|Inviato|Verzonden)\s?:\*?\s+\S",
                          re.IGNORECASE)
_SEPARATOR = re.compile(r"^\s*[_-]{5,}\s*$")
_SENTENCE_END = (".", "?", "!")


@dataclass(frozen=True)
class Reply:
    text: str  # the member's new words, image placeholders removed
    images: frozenset[str]  # inline images the new words refer to (Content-IDs and file names, lowercase)
    quoted_images: frozenset[str]  # inline images referred to only in what was set aside (quote, signature)


def read_reply(message: MimeMessage, *, forwarded: bool = False) -> Reply:
    """`forwarded`: a message the member forwards to start a thread keeps what it forwards."""
    text = body_text(message)
    words = text.strip() if forwarded else new_words(text)
    kept = _image_refs(words)
    return Reply(text=_without_placeholders(words), images=kept, quoted_images=_image_refs(text) - kept)


def reply_text(message: MimeMessage) -> str:
    return read_reply(message).text


# The body as text


def body_text(message: MimeMessage) -> str:
    mixed_run = _mixed_text_run(message)
    if mixed_run is not None:
        return mixed_run
    part = message.get_body(preferencelist=("plain",))
    text = _plain_text(part) if part is not None else ""
    if text.strip():
        return text
    # HTML-only mail, or an empty text part beside the HTML one (some webmail and mobile clients).
    part = message.get_body(preferencelist=("html",))
    return _normalise(html_to_text(_part_text(part))) if part is not None else ""


def _mixed_text_run(message: MimeMessage) -> str | None:
    """Apple Mail sends a plain message with a picture in it as multipart/mixed: text, image, text. The body is
    all of it in order (get_body would give the first text only), each image a placeholder where it stood."""
    if message.get_content_type() != "multipart/mixed":
        return None
    parts = list(message.iter_parts())
    texts = [part for part in parts if part.get_content_type() == "text/plain" and not part.get_filename()]
    if len(texts) < 2:
        return None
    pieces = []
    for part in parts:
        if part in texts:
            pieces.append(_plain_text(part))
        elif part.get_content_maintype() == "image" and not part.is_attachment():
            pieces.append(f"\n{image_placeholder(part)}\n")
    return "".join(pieces)


def image_placeholder(part: MimeMessage) -> str:
    content_id = (part.get("Content-ID") or "").strip().strip("<>")
    return f"[cid:{content_id}]" if content_id else f"[image: {part.get_filename() or 'image'}]"


def _plain_text(part: MimeMessage) -> str:
    text = _normalise(_part_text(part))
    if part.get_param("format", "").lower() == "flowed":
        text = unflow(text, delsp=part.get_param("delsp", "").lower() == "yes")
    return text


def _part_text(part: MimeMessage) -> str:
    try:
        return part.get_content()
    except (LookupError, ValueError):
        # Unknown or lying charset: keep what can be read.
        return (part.get_payload(decode=True) or b"").decode("utf-8", errors="replace")


def _normalise(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ").replace("\ufeff", "")


def unflow(text: str, *, delsp: bool = False) -> str:
    """RFC 3676: a line ending in a space goes on in the next line of the same quote depth (Thunderbird, Apple
    Mail). Joined, so a paragraph is not cut into a line break every 72 characters once posted."""
    out: list[tuple[int, str]] = []
    soft = False
    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        if content.startswith(" "):  # space-stuffing, or the space after quote marks
            content = content[1:]
        continues = soft and out and out[-1][0] == depth
        soft = content.endswith(" ") and content != "-- "
        if soft and delsp:
            content = content[:-1]
        if continues:
            out[-1] = (depth, out[-1][1] + content)
        else:
            out.append((depth, content))
    return "\n".join(("> " * depth + content).rstrip() for depth, content in out)


# The new words


def new_words(text: str) -> str:
    lines = _before_unquoted_original(text.split("\n"))
    blocks = _blocks(lines)
    while blocks and blocks[-1][0] == "quote":  # the quoted original under a top-posted answer
        blocks.pop()
    answered_quotes = sum(1 for index, (kind, _) in enumerate(blocks) if kind == "quote" and index + 1 < len(blocks))
    # One quote with the answer below it is bottom-posting: the quote is the parent post, shown right above the
    # reply on the website. Several quotes each answered in turn (interleaving) keep their questions, as Markdown
    # quotes, or the answers lose their sense.
    if answered_quotes < 2:
        blocks = [block for block in blocks if block[0] == "new"]
    if blocks and blocks[-1][0] == "new":
        blocks[-1] = ("new", _without_signature(blocks[-1][1]))
    paragraphs = ["\n".join(_as_markdown_quote(block) if kind == "quote" else block).strip("\n")
                  for kind, block in blocks]
    return re.sub(r"\n\s*\n(\s*\n)+", "\n\n", "\n\n".join(p for p in paragraphs if p.strip())).strip()


def _attribution_end(lines: list[str], index: int) -> int | None:
    """The index after an "On <date>, <name> wrote:" line starting at `index` (clients wrap it over up to three
    lines), or None."""
    if not _ATTRIBUTION_START.match(lines[index]):
        return None
    for end in range(index + 1, min(index + 4, len(lines) + 1)):
        if _ATTRIBUTION_END.search(" ".join(part.strip() for part in lines[index:end])):
            return end
    return None


def _next_text_line(lines: list[str], index: int) -> str | None:
    return next((line for line in lines[index:] if line.strip()), None)


def _before_unquoted_original(lines: list[str]) -> list[str]:
    """Everything above the original message when the client pasted it unquoted under the answer (Outlook's
    header block, "-----Original Message-----", Yahoo's attribution over an indented copy): nothing the member
    wrote can be told apart from it below that point."""
    for index, line in enumerate(lines):
        if _QUOTED.match(line):
            continue
        if _ORIGINAL_MESSAGE.match(line):
            return lines[:index]
        if _HEADER_FROM.match(line) and any(_HEADER_SENT.match(following) for following in lines[index + 1:index + 5]):
            return lines[:index]
        end = _attribution_end(lines, index)
        if end is not None:
            following = _next_text_line(lines, end)
            if following is None or not _QUOTED.match(following):
                return lines[:index]
    return lines


def _blocks(lines: list[str]) -> list[tuple[str, list[str]]]:
    """Runs of the member's lines ("new") and of quoted lines ("quote"); an attribution right above a quote
    belongs to it, blank lines to the run they are in."""
    blocks: list[tuple[str, list[str]]] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        end = _attribution_end(lines, index)
        if end is not None:
            kind, taken = "quote", lines[index:end]
            index = end
        else:
            kind = "quote" if _QUOTED.match(line) else "new"
            taken = [line]
            index += 1
        if not line.strip() and blocks:
            kind = blocks[-1][0]
        if blocks and blocks[-1][0] == kind:
            blocks[-1][1].extend(taken)
        else:
            blocks.append((kind, list(taken)))
    return [(kind, block) for kind, block in blocks if any(line.strip() for line in block)]


def _as_markdown_quote(lines: list[str]) -> list[str]:
    # The attribution is dropped: the quoted words are the parent post's.
    quoted = "\n".join(line.strip() for line in lines if _QUOTED.match(line) or not line.strip()).strip()
    return [line or ">" for line in quoted.split("\n")]


@cache
def _signature_pattern() -> re.Pattern:
    return ParsedBody(text="", languages=list(SIGNATURE_LANGUAGES), keep_hyphen_lists=True).SIGNATURE_REGEX


def _without_signature(lines: list[str]) -> list[str]:
    """The member's last lines without their signature. The library matches from the signature to the end;
    a sign-off word opening a sentence ("Thanks, that settles it.") is not a signature, so a first line that
    ends a sentence is kept."""
    stripped = [line.strip() for line in lines]  # the library's own normalisation
    text, position = "\n".join(stripped), 0
    while match := _signature_pattern().search(text, position):
        start = match.start() + len(match.group()) - len(match.group().lstrip())
        index = text.count("\n", 0, start)
        if not stripped[index].endswith(_SENTENCE_END):
            lines = lines[:index]
            break
        position = start + len(stripped[index]) + 1
    while lines and (_SEPARATOR.match(lines[-1]) or not lines[-1].strip()):
        lines = lines[:-1]
    return lines


def _image_refs(text: str) -> frozenset[str]:
    return frozenset((match["cid"] or match["name"]).lower() for match in IMAGE_PLACEHOLDER.finditer(text))


def _without_placeholders(text: str) -> str:
    text = IMAGE_PLACEHOLDER.sub("", text)
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n\s*\n(\s*\n)+", "\n\n", text).strip()


# The subject as a thread title

_SUBJECT_PREFIX = re.compile(r"^\s*(?:(?:re|fwd?|aw|wg|tr|rv|sv|antw|enc)\s*(?:\[\d+\])?\s*:|\[[^\]]*\])\s*",
                             re.IGNORECASE)
_FORWARD_PREFIX = re.compile(r"^\s*(?:\[[^\]]*\]\s*)*(?:fwd?|wg|tr|rv|enc)\s*:", re.IGNORECASE)
TITLE_MAX_LENGTH = 200


def thread_title(subject: str) -> str:
    """The subject without "Re:", "Fwd:" (and their Spanish, French and German forms) and "[list]" tags."""
    title = " ".join(subject.split())
    while (stripped := _SUBJECT_PREFIX.sub("", title, count=1)) != title:
        title = stripped
    if len(title) > TITLE_MAX_LENGTH:
        title = title[:TITLE_MAX_LENGTH - 1].rsplit(" ", 1)[0] + "…"
    return title.strip()


def is_forward(subject: str) -> bool:
    return bool(_FORWARD_PREFIX.match(subject))


# HTML to text


def html_to_text(html: str) -> str:
    converter = _HTMLToText()
    converter.feed(html)
    converter.close()
    return converter.text()


class _HTMLToText(HTMLParser):
    """Just enough HTML to text for a reply: paragraphs, line breaks, list items, links, inline images as
    placeholders, and blockquotes turned into '> ' lines so that the quoted original is recognised."""

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
        elif tag == "img" and not self.hidden_depth:
            source = dict(attrs).get("src") or ""
            if source.lower().startswith("cid:"):
                self._write(f"[cid:{source[4:]}]")

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


# How a member asks by email for what the web form's fields offer: lines at the very top of their message.

_NOTE_LINE = re.compile(r"^\s*content (?:note|warning)\s*:\s*(?P<note>\S.*?)\s*$", re.IGNORECASE)
_ANONYMOUS_LINE = re.compile(r"^\s*(?:post\s+)?anonymous(?:ly)?\s*(?::\s*(?P<answer>yes|no)\s*)?\.?\s*$", re.IGNORECASE)
_NAMED_LINE = re.compile(r"^\s*not anonymous(?:ly)?\s*\.?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class PostingOptions:
    text: str  # the words to post, without the option lines
    content_note: str = ""
    anonymous: bool | None = None  # None: the message did not say


def posting_options(text: str) -> PostingOptions:
    """Option lines at the top of a message, before its first other line: "Content note: sexual violence" puts
    the post behind that note; "Anonymous" (or "Anonymous: yes") posts it anonymously, "Anonymous: no" or
    "Not anonymous" in the member's name."""
    lines = text.splitlines()
    note, anonymous, start = "", None, 0
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        if match := _NOTE_LINE.match(line):
            note = match.group("note")[:200]
        elif match := _ANONYMOUS_LINE.match(line):
            anonymous = (match.group("answer") or "yes").lower() == "yes"
        elif _NAMED_LINE.match(line):
            anonymous = False
        else:
            break
        start = index + 1
    return PostingOptions(text="\n".join(lines[start:]).strip(), content_note=note, anonymous=anonymous)
