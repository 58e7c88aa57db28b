from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from .models import Subscription
from .reading import ReactionNotAllowed, member_bookmarks, my_threads, set_bookmark, set_subscription, toggle_helpful
from .selectors import get_readable_category, get_readable_post, get_readable_thread

PAGE_SIZE = 30

SUBSCRIPTION_DONE = {
    Subscription.Level.WATCH: "You will get an email for every new post in {target}.",
    Subscription.Level.DAILY: "New posts in {target} will come in your daily digest.",
    Subscription.Level.WEEKLY: "New posts in {target} will come in your weekly digest.",
    Subscription.Level.MINE: "From {target} you will get, as they are posted, only posts in threads you started, "
                             "replied to or are mentioned in.",
    Subscription.Level.MUTE: "You will get no email from {target}.",
    "": "Email from {target} follows your usual mail setting again.",
}


def _choose(request, target_name: str, **target) -> None:
    level = request.POST.get("level", "")
    try:
        set_subscription(request.member, level=level, **target)
    except ValueError:
        # Only a hand-made request gets here; nothing changes.
        messages.error(request, "Choose one of the email options offered.")
    else:
        messages.success(request, SUBSCRIPTION_DONE[level].format(target=target_name))


@require_POST
def thread_subscription(request, thread_id):
    thread = get_readable_thread(request.user, thread_id)
    _choose(request, "this thread", thread=thread)
    return redirect(thread)


@require_POST
def category_subscription(request, slug):
    category = get_readable_category(request.user, slug)
    _choose(request, category.name, category=category)
    return redirect(category)


@require_POST
def bookmark(request, post_id):
    post = get_readable_post(request.user, post_id)
    set_bookmark(request.member, post, request.POST.get("bookmarked") == "1")
    return redirect("bookmarks" if request.POST.get("from") == "bookmarks" else post)


def bookmarks(request):
    page = Paginator(member_bookmarks(request.member), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "threads/my_bookmarks.html", {"page": page})


@require_POST
def helpful(request, post_id):
    post = get_readable_post(request.user, post_id)
    try:
        toggle_helpful(request.member, post)
    except ReactionNotAllowed as error:
        messages.error(request, str(error))
    return redirect(post)


def threads_of_mine(request):
    page = Paginator(my_threads(request.member), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "threads/my_threads.html", {"page": page})
