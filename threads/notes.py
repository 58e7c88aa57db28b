"""Content notes: a few plain words before distressing material ("sexual violence"), so a reader chooses when to
read it. A whole post carries one in Post.content_note; a part of a post is fenced in Markdown:

    ::: note describes torture methods
    what the note covers
    :::

On the web both show collapsed behind their note (<details>, threads.markdown renders the parts). Everything else
that shows a post's words — list mail, digests, excerpts, search snippets — goes through this module, so noted
text never appears without its note first.
"""

import html
import re

from django.utils.html import strip_tags
from django.utils.text import Truncator

from .markdown import NOTE_CLOSE, NOTE_OPEN, NOTE_SUMMARY_END, note_summary, noted_parts

# The notes offered on the forms, in the words readers see; an author may write their own instead.
COMMON_NOTES = [
    "describes torture methods",
    "suicide or self-harm",
    "sexual violence",
    "violence against children",
    "graphic injury",
]
OWN_WORDS = "own"  # the form's choice for a note in the author's own words

# What sets a noted body apart in plain-text mail: blank lines that push it below the first screen of a phone,
# then a rule.
BREAK_LINES = 10
RULE = "-" * 60
_FENCE_PREFIX = re.compile(r"^(?P<prefix>[\s>]*):{3,}")
_CLOSING_FENCE = re.compile(r"^[\s>]*:{3,}\s*$")
# Innermost noted part first: a part with no <details> inside it (nested parts are replaced before their parent).
_INNERMOST_PART = re.compile(
    re.escape(NOTE_OPEN) + r"(?P<summary>.*?)" + re.escape(NOTE_SUMMARY_END)
    + r"(?P<content>(?:(?!<details).)*?)" + re.escape(NOTE_CLOSE),
    re.DOTALL,
)


def part_notes(body: str) -> list[str]:
    """The notes of the noted parts of a post, in order."""
    return [note_summary(note) for _, _, note in noted_parts(body)]


def all_notes(post) -> list[str]:
    """Every note a post carries: its own first, then its parts'."""
    return ([note_summary(post.content_note)] if post.content_note else []) + part_notes(post.body)


def note_break(note: str, prefix: str = "") -> str:
    """The plain-text note and clear break that come before noted text in mail."""
    lines = [f"{note_summary(note).upper()}", "The text it covers follows after this space."]
    lines += [""] * BREAK_LINES + [RULE]
    return "\n".join(f"{prefix}{line}".rstrip() for line in lines)


def mail_text(body: str) -> str:
    """The post's Markdown for plain-text mail: each noted part opens with its note and a clear break, and its end
    is marked."""
    lines = body.splitlines()
    for start, end, note in noted_parts(body):
        prefix = _FENCE_PREFIX.match(lines[start]).group("prefix")
        lines[start] = note_break(note, prefix)
        if end < len(lines) and _CLOSING_FENCE.match(lines[end]):
            lines[end] = f"{prefix}{RULE}\n{prefix}(End of the part behind the content note.)"
    return "\n".join(lines)


def text_without_noted_parts(body: str) -> str:
    """The post's Markdown for a short excerpt: each noted part is left out and named by its note."""
    lines = body.splitlines()
    dropped = set()
    for start, end, note in noted_parts(body):
        if start in dropped:  # inside a part already left out
            continue
        last = end if end < len(lines) and _CLOSING_FENCE.match(lines[end]) else end - 1
        dropped.update(range(start, last + 1))
        prefix = _FENCE_PREFIX.match(lines[start]).group("prefix")
        lines[start] = f"{prefix}[{note_summary(note)}: this part is left out here.]"
        dropped.discard(start)
    return "\n".join(line for index, line in enumerate(lines) if index not in dropped)


def html_without_noted_parts(post_html: str) -> str:
    """A post's HTML with each noted part replaced by its note, for previews."""
    previous = None
    while previous != post_html:
        previous, post_html = post_html, _INNERMOST_PART.sub(
            lambda match: f"<p>[{match.group('summary')}: this part is left out here.]</p>", post_html)
    return post_html


def preview(post, length: int) -> str:
    """Plain text of a post for a short preview (pinned questions, bookmarks, question lists) that shows nothing
    behind a content note: a noted post gives its note only; noted parts are left out, named by their notes."""
    if post.content_note:
        return f"{note_summary(post.content_note)}. Open the post to read it."
    text = html.unescape(strip_tags(html_without_noted_parts(post.html))).strip()
    return Truncator(text).chars(length)


def note_choice(note: str) -> tuple[str, str]:
    """The form's (choice, own words) for a stored note."""
    if not note:
        return "", ""
    return (note, "") if note in COMMON_NOTES else (OWN_WORDS, note)


def post_text(post) -> str:
    """The whole post as plain-text mail carries it: its own note and a clear break first, noted parts likewise."""
    text = mail_text(post.body)
    return f"{note_break(post.content_note)}\n\n{text}" if post.content_note else text
