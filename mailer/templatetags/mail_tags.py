import html
import re

from django import template
from django.conf import settings
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from threads.markdown import NOTE_CLOSE, NOTE_OPEN, NOTE_SUMMARY_END, note_summary

register = template.Library()

_PART_OPENING = re.compile(re.escape(NOTE_OPEN) + r"(?P<summary>.*?)" + re.escape(NOTE_SUMMARY_END), re.DOTALL)


@register.filter
def absolute_links(html: str) -> str:
    """Post HTML links site pages by path (mentions: /members/<id>/); a mail client has no site to resolve
    them against. The HTML was sanitised by nh3 when the post was rendered."""
    return mark_safe(html.replace('href="/', f'href="{settings.SITE_URL}/'))


def _note_block(summary: str) -> str:
    return render_to_string("mailer/email/_note_break.html", {"summary": summary})


@register.filter
def note_first(note: str) -> str:
    """A post's content note as list mail shows it: the note, then a spacer before the body."""
    return mark_safe(_note_block(note_summary(note)))  # noqa: S308  (a template, escaped)


@register.filter
def notes_spaced(post_html: str) -> str:
    """Mail clients seldom honour <details>: each noted part of the post becomes its note, a spacer, the part,
    and a mark where it ends. The post HTML was sanitised by nh3; only our own note markup is replaced."""
    post_html = _PART_OPENING.sub(lambda match: _note_block(html.unescape(match.group("summary"))), post_html)
    return mark_safe(post_html.replace(NOTE_CLOSE, render_to_string("mailer/email/_note_end.html")))  # noqa: S308
