from django import template
from django.utils.safestring import mark_safe

from threads import anonymity, notes
from threads.markdown import NOTE_OPEN
from threads.mentions import handle_for
from threads.services import waits_for_its_author

register = template.Library()


@register.filter
def handle(full_name: str) -> str:
    """The @handle other members type to mention this name (threads.mentions)."""
    return handle_for(full_name)


# Who wrote it, as members may be told: anonymous posts never name their author (threads.anonymity).
register.filter("byline", anonymity.byline)
register.filter("anonymous_label", anonymity.anonymous_label)
register.filter("thread_starter", anonymity.thread_starter)


@register.filter
def preview(post, length=200) -> str:
    """A short plain-text preview that shows nothing behind a content note (threads.notes)."""
    return notes.preview(post, int(length))


@register.simple_tag(takes_context=True)
def post_html(context, post) -> str:
    """The post's stored HTML. A reader who chose to always expand content notes gets its noted parts open: a
    switch on the one rendering, not a second one. Live frames have no reader: they stay collapsed."""
    html = post.html
    if getattr(context.get("member"), "expand_content_notes", False):
        html = html.replace(NOTE_OPEN, NOTE_OPEN.replace("<details ", "<details open "))
    return mark_safe(html)  # noqa: S308  (post HTML is sanitised by nh3 when it is rendered)


@register.filter
def waits_for_author(post) -> bool:
    return waits_for_its_author(post)
