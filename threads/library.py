"""The resource library as members read it: approved resources, browsed by topic and audience, filtered by language,
searched with the same PostgreSQL full-text search as posts (threads.search), and each resource's page with the
threads that discuss it. Submission and review are threads.resources; who may see a resource is community.access.

Every page here costs a fixed number of queries, whatever the number of resources or citations.
"""

from dataclasses import dataclass

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.db.models import Count, F, Max, Prefetch, Q
from django.http import Http404

from community.access import can_read

from .models import Attachment, Resource, ResourceTopic, Thread
from .search import CONFIG, MARK, safe_snippet
from .selectors import readable_categories

RESOURCES_PER_PAGE = 20
APPROVED = Resource.Status.APPROVED


@dataclass(frozen=True)
class LibraryFilters:
    topic: str = ""  # a ResourceTopic slug
    audience: str = ""  # a Resource.Audience value
    language: str = ""
    text: str = ""  # web search syntax, as for posts


def library_resources(user, filters: LibraryFilters | None = None):
    """Approved resources matching every filter given: best match first when searching words, newest otherwise.
    Each has its topics; when searching, `snippet` and `title_snippet` hold ts_headline's marked text."""
    if not can_read(user):
        return Resource.objects.none()
    filters = filters or LibraryFilters()
    resources = (
        Resource.objects.filter(status=APPROVED)
        .prefetch_related("topics")
        .defer("search_vector", "review_note")
        .order_by("-approved_at", "-id")
    )
    if filters.topic:
        resources = resources.filter(topics__slug=filters.topic)
    if filters.audience:
        resources = resources.filter(audiences__contains=[filters.audience])
    if filters.language:
        resources = resources.filter(language__iexact=filters.language)
    text = filters.text.strip()
    if text:
        query = SearchQuery(text, search_type="websearch", config=CONFIG)
        resources = resources.filter(search_vector=query).annotate(
            rank=SearchRank(F("search_vector"), query),
            snippet=SearchHeadline("description", query, config=CONFIG, max_words=35, min_words=15, **MARK),
            title_snippet=SearchHeadline("title", query, config=CONFIG, highlight_all=True, **MARK),
        ).order_by("-rank", "-approved_at", "-id")
    return resources


def highlight(resources):
    """Search results get their marked title and description as HTML safe to show; other lists stay as they are."""
    for resource in resources:
        if hasattr(resource, "snippet"):
            resource.snippet_html = safe_snippet(resource.snippet)
            resource.title_html = safe_snippet(resource.title_snippet)
    return resources


def topics_with_counts():
    """Every topic, the five Complex Care domains first, each with its number of approved resources."""
    # Meta.ordering is dropped from GROUP BY queries, so the order is repeated here.
    return (ResourceTopic.objects.annotate(resource_count=Count("resources", filter=Q(resources__status=APPROVED)))
            .order_by("-complex_care_domain", "position", "name"))


def audiences_with_counts() -> list[tuple[str, str, int]]:
    """(value, label, number of approved resources) for each audience, in one query."""
    counts = Resource.objects.filter(status=APPROVED).aggregate(**{
        value: Count("pk", filter=Q(audiences__contains=[value])) for value in Resource.Audience.values
    })
    return [(value, label, counts[value]) for value, label in Resource.Audience.choices]


def library_languages() -> list[str]:
    """The languages approved resources are in, for the language filter."""
    return list(Resource.objects.filter(status=APPROVED).order_by("language").values_list("language", flat=True)
                .distinct())


def get_visible_resource(user, resource_id) -> Resource:
    """The resource with what its page shows (topics, files, submitter, webinar, thread); 404 unless the user may
    see it: approved ones every member, others only their submitter and the moderators (community.access)."""
    resource = (
        Resource.objects.select_related("submitted_by__organization", "webinar", "thread__category")
        .prefetch_related("topics", Prefetch("files", queryset=Attachment.objects.order_by("original_name", "id")))
        .defer("search_vector", "thread__search_vector")
        .filter(pk=resource_id).first()
    )
    if resource is None or not can_read(user, resource):
        raise Http404
    return resource


def linked_thread(user, resource: Resource) -> Thread | None:
    """The thread the resource belongs to, if the user may read it."""
    return resource.thread if resource.thread and can_read(user, resource.thread) else None


def discussed_in(user, resource: Resource):
    """The threads the user may read whose visible posts (not deleted, held or hidden) cite the resource, most
    recently cited first, each with `citing_posts` (how many) and `last_cited_at`."""
    if not can_read(user):
        return Thread.objects.none()
    # One filter() call: the citation and the visibility conditions are about the same post.
    return (
        Thread.objects.filter(
            posts__citations__resource=resource, posts__deleted_at__isnull=True, posts__hidden_at__isnull=True,
            posts__held_at__isnull=True,
            category__in=readable_categories(user).values("pk"),
        )
        .annotate(citing_posts=Count("posts", distinct=True), last_cited_at=Max("posts__created_at"))
        .select_related("category")
        .defer("search_vector")
        .order_by("-last_cited_at", "-id")
    )
