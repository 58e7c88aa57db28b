from django import forms
from django.conf import settings
from django.core.paginator import Paginator
from django.shortcuts import render

from .library import (
    RESOURCES_PER_PAGE,
    LibraryFilters,
    audiences_with_counts,
    discussed_in,
    get_visible_resource,
    highlight,
    library_languages,
    library_resources,
    linked_thread,
    topics_with_counts,
)
from .models import Resource


class LibraryForm(forms.Form):
    q = forms.CharField(label="Search the library", max_length=200, required=False,
                        help_text='The same as searching posts: "quotes" for a phrase, or, -word.')
    topic = forms.ChoiceField(required=False)
    audience = forms.ChoiceField(required=False, choices=[("", "Everyone"), *Resource.Audience.choices])
    language = forms.ChoiceField(required=False)

    def __init__(self, *args, topics, languages, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["topic"].choices = [
            ("", "All topics"),
            ("Complex Care domains", [(t.slug, t.name) for t in topics if t.complex_care_domain]),
            ("Other topics", [(t.slug, t.name) for t in topics if not t.complex_care_domain]),
        ]
        self.fields["language"].choices = [("", "Any language"), *((language, language) for language in languages)]

    def filters(self) -> LibraryFilters:
        data = self.cleaned_data
        return LibraryFilters(topic=data["topic"], audience=data["audience"], language=data["language"],
                              text=data["q"])


def _query_with(query, key: str, value: str) -> str:
    """The page's filters with one changed (or removed, for ""): browsing a topic keeps the chosen audience."""
    changed = query.copy()
    changed.pop("page", None)
    changed[key] = value
    if not value:
        changed.pop(key)
    return changed.urlencode()


def library(request):
    topics = list(topics_with_counts())
    form = LibraryForm(request.GET, topics=topics, languages=library_languages())
    results = library_resources(request.user, form.filters()) if form.is_valid() else Resource.objects.none()
    page = Paginator(results, RESOURCES_PER_PAGE).get_page(request.GET.get("page"))
    highlight(page)
    chosen = form.cleaned_data if form.is_valid() else {}
    for topic in topics:
        topic.query = _query_with(request.GET, "topic", topic.slug)
    audiences = [{"value": value, "label": label, "count": count,
                  "query": _query_with(request.GET, "audience", value)}
                 for value, label, count in audiences_with_counts()]
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "threads/library/library.html", {
        "form": form, "page": page, "query": query.urlencode(), "filtered": any(chosen.values()),
        "domains": [topic for topic in topics if topic.complex_care_domain],
        "other_topics": [topic for topic in topics if not topic.complex_care_domain],
        "chosen_topic": chosen.get("topic", ""), "chosen_audience": chosen.get("audience", ""),
        "audiences": audiences,
        "all_topics_query": _query_with(request.GET, "topic", ""),
        "all_audiences_query": _query_with(request.GET, "audience", ""),
    })


def resource(request, resource_id):
    resource = get_visible_resource(request.user, resource_id)
    return render(request, "threads/library/resource.html", {
        "resource": resource,
        "audiences": [(value, label) for value, label in Resource.Audience.choices if value in resource.audiences],
        "thread": linked_thread(request.user, resource),
        "discussions": discussed_in(request.user, resource),
        "cite_url": settings.SITE_URL + resource.get_absolute_url(),
        "is_submitter": resource.submitted_by_id == request.member.id,
    })
