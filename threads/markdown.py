import re

import nh3
from markdown_it import MarkdownIt

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


_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True}).enable("table")
_md.inline.ruler.before("emphasis", "mention", _mention_rule)

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "a", "ul", "ol", "li", "blockquote", "code", "pre", "hr",
    "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td",
}


def render_markdown(body: str, mentions: dict[str, int] | None = None) -> str:
    """`mentions` maps handles to member ids (threads.mentions.resolve); without it no mention is linked."""
    # markdown-it escapes raw HTML already; nh3 is the guarantee that nothing unsafe survives.
    return nh3.clean(
        _md.render(body, {"mentions": mentions or {}}),
        tags=ALLOWED_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener",
    )
