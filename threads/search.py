"""Full-text search over thread titles (weight A) and post bodies (weight B), PostgreSQL's own.

Both columns are generated tsvectors with GIN indexes (see threads.models); a post matches on its body, and the
opening post of a thread also on the thread's title, so a title match ranks that thread's opening post above
posts that only mention the words.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import nh3
from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.db.models import Case, F, FloatField, Q, Value, When
from django.utils import timezone

from community.access import can_moderate, can_read

from .models import Post
from .selectors import readable_categories

CONFIG = "english"
RESULTS_PER_PAGE = 20
MARK = {"start_sel": "<mark>", "stop_sel": "</mark>"}


@dataclass(frozen=True)
class Filters:
    category_id: int | None = None
    author_id: int | None = None
    since: date | None = None
    until: date | None = None
    webinar_id: int | None = None


def search_posts(user, text: str, filters: Filters | None = None):
    """Readable, visible posts matching `text` (web search syntax: "phrases", or, -not), best first."""
    text = text.strip()
    if not text or not can_read(user):
        return Post.objects.none()
    query = SearchQuery(text, search_type="websearch", config=CONFIG)
    title_rank = Case(
        When(parent__isnull=True, then=SearchRank(F("thread__search_vector"), query)),
        default=Value(0.0), output_field=FloatField(),
    )
    posts = (
        Post.objects.filter(Q(search_vector=query) | Q(parent__isnull=True, thread__search_vector=query))
        .filter(deleted_at__isnull=True, hidden_at__isnull=True,
                thread__category__in=readable_categories(user).values("pk"))
        .annotate(
            rank=SearchRank(F("search_vector"), query) + title_rank,
            snippet=SearchHeadline("body", query, config=CONFIG, max_words=35, min_words=15, **MARK),
            title_snippet=SearchHeadline("thread__title", query, config=CONFIG, highlight_all=True, **MARK),
        )
        .select_related("thread__category", "author__organization")
        .defer("search_vector", "html", "thread__search_vector")
        .order_by("-rank", "-created_at", "-id")
    )
    filters = filters or Filters()
    if filters.author_id and not can_moderate(user):
        # "Posts by this member" must not tell members who wrote an anonymous post.
        posts = posts.filter(anonymous=False)
    return _filtered(posts, filters)


def _filtered(posts, filters: Filters):
    if filters.category_id:
        posts = posts.filter(thread__category_id=filters.category_id)
    if filters.author_id:
        posts = posts.filter(author_id=filters.author_id)
    if filters.since:
        posts = posts.filter(created_at__gte=_start_of(filters.since))
    if filters.until:
        posts = posts.filter(created_at__lt=_start_of(filters.until, next_day=True))
    if filters.webinar_id:
        posts = posts.filter(thread__econsultation__webinar_id=filters.webinar_id)
    return posts


def _start_of(day: date, next_day: bool = False) -> datetime:
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start + timedelta(days=1) if next_day else start


_MARKDOWN_EMPHASIS = re.compile(r"[*`]+|(?<!\w)_+|_+(?!\w)")
_NOTE_FENCE = re.compile(r":{3,}(?:\s*note\b:?)?", re.IGNORECASE)  # ::: note … ::: (threads.notes)


def safe_snippet(headline: str) -> str:
    """ts_headline returns the raw Markdown around the marks: emphasis markers and content-note fences are
    dropped, and everything but <mark> is escaped or dropped."""
    return nh3.clean(_NOTE_FENCE.sub("", _MARKDOWN_EMPHASIS.sub("", headline)), tags={"mark"}, attributes={})
