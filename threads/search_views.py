from django import forms
from django.core.paginator import Paginator
from django.shortcuts import render

from community.models import Member

from .library import LibraryFilters, highlight, library_resources
from .models import Webinar
from .notes import all_notes
from .search import RESULTS_PER_PAGE, Filters, safe_snippet, search_posts
from .selectors import readable_categories


class SearchForm(forms.Form):
    q = forms.CharField(label="Search for", max_length=200, required=False,
                        help_text='Use "quotes" for a phrase, or to match either word, -word to leave one out.')
    category = forms.ModelChoiceField(queryset=None, required=False, empty_label="All categories")
    webinar = forms.ModelChoiceField(queryset=Webinar.objects.filter(econsultation__isnull=False), required=False,
                                     empty_label="Any", label="E-consultation of the webinar")
    author = forms.ModelChoiceField(queryset=Member.objects.all(), required=False, widget=forms.HiddenInput)
    since = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label="Until", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = readable_categories(user)

    def filters(self) -> Filters:
        data = self.cleaned_data
        return Filters(
            category_id=data["category"].pk if data["category"] else None,
            author_id=data["author"].pk if data["author"] else None,
            since=data["since"], until=data["until"],
            webinar_id=data["webinar"].pk if data["webinar"] else None,
        )


# The search page lists the best few library resources above the posts; the library has the rest.
RESOURCES_ON_SEARCH = 5


def matching_resources(user, text: str) -> tuple[list, bool]:
    """The best RESOURCES_ON_SEARCH resources for `text`, and whether the library has more."""
    resources = highlight(list(library_resources(user, LibraryFilters(text=text))[:RESOURCES_ON_SEARCH + 1]))
    return resources[:RESOURCES_ON_SEARCH], len(resources) > RESOURCES_ON_SEARCH


def search(request):
    form = SearchForm(request.GET or None, user=request.user)
    page = None
    resources, more_resources = [], False
    if form.is_valid() and form.cleaned_data["q"].strip():
        results = search_posts(request.user, form.cleaned_data["q"], form.filters())
        page = Paginator(results, RESULTS_PER_PAGE).get_page(request.GET.get("page"))
        if page.number == 1:
            resources, more_resources = matching_resources(request.user, form.cleaned_data["q"])
        for post in page:
            post.snippet_html = safe_snippet(post.snippet)
            post.notes = all_notes(post)  # a snippet of a noted post shows only behind its notes
            post.title_html = safe_snippet(post.title_snippet)
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "threads/search.html", {
        "form": form, "page": page, "query": query.urlencode(),
        "resources": resources, "more_resources": more_resources,
        "author": form.cleaned_data.get("author") if form.is_bound and form.is_valid() else None,
    })
