from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render

from community.access import can_post

from .anonymity import anonymous_by_default
from .forms import ReplyForm, ThreadForm
from .guard_forms import GuardForm, guarded
from .live import latest_event_id
from .models import Category
from .posts import chosen_view, post_location, quote_body, thread_page
from .reading import category_subscription_level, open_thread
from .selectors import (
    category_threads,
    get_readable_category,
    get_readable_post,
    get_readable_thread,
    readable_categories,
    recent_threads,
    upcoming_econsultations,
)
from .services import PostingNotAllowed, create_reply, create_thread


def tell_if_held(request, created) -> None:
    """`created` is the new post, or the new thread (held with its opening post)."""
    if created.held_at:
        messages.info(request, "Your post is waiting for a moderator. Only you and the moderators can see it "
                               "until a moderator approves it; then it is published and emailed to the list.")


def reply_form(member, thread, *args, initial=None, **kwargs) -> ReplyForm:
    """The reply form for this thread: "post anonymously" where its category allows it, ticked for a member who
    already posted anonymously in it (threads.anonymity.anonymous_by_default)."""
    initial = dict(initial or {})
    allowed = thread.category.allow_anonymous
    if allowed:
        initial.setdefault("anonymous", anonymous_by_default(member, thread))
    return ReplyForm(*args, anonymity=allowed, initial=initial, **kwargs)


def posting_choices(form) -> dict:
    return {"content_note": form.cleaned_data["content_note"], "anonymous": form.cleaned_data.get("anonymous", False)}


def home(request):
    return render(request, "threads/home.html", {
        "categories": readable_categories(request.user),
        "threads": recent_threads(request.member),
        "econsultations": upcoming_econsultations(),
    })


THREADS_PER_PAGE = 30


def category(request, slug):
    category = get_readable_category(request.user, slug)
    page = Paginator(category_threads(category, request.member), THREADS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "threads/category.html", {
        "category": category,
        "threads": page.object_list,
        "page": page,
        "can_start": can_post(request.user, category),
        "subscription": category_subscription_level(request.member, category),
    })


def _postable_categories(user):
    return Category.objects.filter(pk__in=[c.pk for c in readable_categories(user) if can_post(user, c)])


def new_thread(request):
    categories = _postable_categories(request.user)
    initial = {"category": categories.filter(slug=request.GET.get("category")).first()}
    form = ThreadForm(request.POST or None, request.FILES or None, categories=categories, initial=initial)
    guard = GuardForm(request.POST or None)
    if form.is_valid():
        try:
            thread, guard = guarded(guard, lambda confirmation: create_thread(
                author=request.member, category=form.cleaned_data["category"],
                title=form.cleaned_data["title"], body=form.cleaned_data["body"],
                attachments=form.cleaned_data["attachments"], confirmation=confirmation, **posting_choices(form),
            ))
        except PostingNotAllowed as error:
            form.add_error(None, str(error))
        else:
            if thread is not None:
                tell_if_held(request, thread)
                return redirect(thread)
    return render(request, "threads/new_thread.html", {"form": form, "guard": guard})


def thread(request, thread_id):
    thread = get_readable_thread(request.user, thread_id)
    page = thread_page(thread, chosen_view(request), request.GET.get("page", 1), request.user)
    posts = page.posts
    return render(request, "threads/thread.html", {
        "thread": thread,
        "page": page,
        "posts": posts,
        "reading": open_thread(request.member, thread, posts),
        "live_after": latest_event_id(thread.id),
        "form": reply_form(request.member, thread),
        "can_reply": can_post(request.user, thread),
    })


def reply(request, post_id):
    parent = get_readable_post(request.user, post_id)
    initial = {"body": quote_body(parent)} if request.GET.get("quote") else {}
    form = reply_form(request.member, parent.thread, request.POST or None, request.FILES or None, initial=initial)
    guard = GuardForm(request.POST or None)
    if form.is_valid():
        try:
            post, guard = guarded(guard, lambda confirmation: create_reply(
                author=request.member, parent=parent, body=form.cleaned_data["body"],
                attachments=form.cleaned_data["attachments"], confirmation=confirmation, **posting_choices(form)))
        except PostingNotAllowed as error:
            form.add_error(None, str(error))
        else:
            if post is not None:
                tell_if_held(request, post)
                return redirect(post_location(post, chosen_view(request), request.user))
    return render(request, "threads/reply.html", {"form": form, "parent": parent, "guard": guard})
