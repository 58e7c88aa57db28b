import re

import nh3
from django.utils.html import escape
from markdown_it import MarkdownIt
from mdit_py_plugins.container import container_plugin

# A mention is "@" and a handle (see threads/mentions.py), not preceded by a word character, a dot or
# another "@", so email addresses are left alone.
MENTION = re.compile(r"(?<![\w.@])@([a-z0-9]+(?:[.-][a-z0-9]+)*)", re.IGNORECASE)


def _mention_rule(state, silent):
    """Inline rule: `@handle` of a known member becomes a link to their profile; anything else stays text.
    Code spans and blocks are parsed by other rules first, so a handle in code is never linked."""
    if state.src[state.pos] != "@":
        return False
    match = MENTION.match(state.src, state.pos)  # the look-behind sees the text before pos
    if match is None or state.linkLevel > 0:
        return False
    member_id = state.env.get("mentions", {}).get(match.group(1).lower())
    if member_id is None:
        return False
    if not silent:
        token = state.push("link_open", "a", 1)
        token.attrs = {"href": f"/members/{member_id}/"}
        state.push("text", "", 0).content = match.group(0)
        state.push("link_close", "a", -1)
    state.pos = match.end()
    return True


# A part of a post behind a content note: a fenced block "::: note sexual violence" … ":::" (more colons to nest).
NOTE_PARAMS = re.compile(r"^note\b[\s:]*(?P<note>.*)$", re.IGNORECASE)
# The markup of a noted part. Nothing else in a post renders <details>, so list mail can find these exact strings
# (mailer.templatetags.mail_tags.notes_spaced) and a reader's "always expand" can open them (post_tags.notes_open).
NOTE_OPEN = '<details class="content-note"><summary>'
NOTE_SUMMARY_END = "</summary>"
NOTE_CLOSE = "</details>"


def note_of(params: str) -> str | None:
    """The words of a part's content note from what follows ":::" ("" for a bare "::: note"); None if the block
    is not a note."""
    match = NOTE_PARAMS.match(params.strip())
    return match.group("note").strip() if match else None


def note_summary(note: str) -> str:
    return f"Content note: {note}" if note else "Content note"


def _render_note(renderer, tokens, idx, options, env):
    token = tokens[idx]
    if token.nesting == 1:
        return f"{NOTE_OPEN}{escape(note_summary(note_of(token.info) or ''))}{NOTE_SUMMARY_END}\n"
    return f"{NOTE_CLOSE}\n"


_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True}).enable("table")
_md.inline.ruler.before("emphasis", "mention", _mention_rule)
_md.use(container_plugin, name="note", validate=lambda params, *_: note_of(params) is not None, render=_render_note)

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "a", "ul", "ol", "li", "blockquote", "code", "pre", "hr",
    "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "details", "summary",
}


def render_markdown(body: str, mentions: dict[str, int] | None = None) -> str:
    """`mentions` maps handles to member ids (threads.mentions.resolve); without it no mention is linked."""
    # markdown-it escapes raw HTML already; nh3 is the guarantee that nothing unsafe survives.
    return nh3.clean(
        _md.render(body, {"mentions": mentions or {}}),
        tags=ALLOWED_TAGS,
        attributes={"a": {"href", "title"}},
        tag_attribute_values={"details": {"class": {"content-note"}}},
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener",
    )


def noted_parts(body: str) -> list[tuple[int, int, str]]:
    """(first line, line after the last, note) of each noted part of `body`, outermost first; the first line is
    the opening ":::" and, for a closed part, the line before the last is the closing one."""
    return [(*token.map, note_of(token.info) or "") for token in _md.parse(body)
            if token.type == "container_note_open" and token.map]
