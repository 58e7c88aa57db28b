"""A post cites a library resource by linking to its page: `/resources/<id>/`, or the same with this site's address
in front (what "copy link" on the resource page gives). The resource page lists the threads whose posts cite it
(threads.library.discussed_in), which filters by what the reader may see: citations are stored for held posts too.
"""

import re

from django.conf import settings

from .models import Post, Resource, ResourceCitation


def _resource_link():
    # A relative link starts the path (not preceded by a host or another path segment); an absolute one is on this
    # site. After the id: the end of the link, not a deeper page such as the resource's edit page.
    return re.compile(
        rf"(?:{re.escape(settings.SITE_URL)}|(?<![\w/.:-]))/resources/(\d+)/?(?=[\s)\]>\"'#?.,;:!]|$)",
        re.IGNORECASE,
    )


def cited_ids(body: str) -> set[int]:
    return {int(match.group(1)) for match in _resource_link().finditer(body)}


def record_citations(post: Post, *, edited: bool = False) -> None:
    """Stores which existing resources the post's body links to. After an edit, citations the new text no longer
    makes are removed; a new post has none to remove, and without resource links it costs no query."""
    cited = cited_ids(post.body)
    if cited:
        cited = set(Resource.objects.filter(pk__in=cited).values_list("pk", flat=True))
        ResourceCitation.objects.bulk_create(
            [ResourceCitation(post=post, resource_id=resource_id) for resource_id in sorted(cited)],
            ignore_conflicts=True,
        )
    if edited:
        post.citations.exclude(resource_id__in=cited).delete()
