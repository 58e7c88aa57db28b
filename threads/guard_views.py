from django.core.paginator import Paginator
from django.shortcuts import render

from community.mfa import moderator_required

from .guard_checks import GUARD_LOG_PAGE, guard_log, guard_log_counts
from .models import GuardCheck


@moderator_required
def guard_log_page(request):
    """Every time the confidentiality guard found something, and what happened: moderators see the kinds found
    and the reasons given, never the text (the post's own page shows it, to those who may read it)."""
    outcome = request.GET.get("outcome", "")
    if outcome not in GuardCheck.Outcome.values:
        outcome = ""
    page = Paginator(guard_log(outcome), GUARD_LOG_PAGE).get_page(request.GET.get("page"))
    counts = guard_log_counts()
    return render(request, "threads/moderation_guard.html", {
        "page": page, "outcome": outcome, "filter_query": f"outcome={outcome}" if outcome else "",
        "outcomes": [(value, label, counts[value]) for value, label in GuardCheck.Outcome.choices],
    })
