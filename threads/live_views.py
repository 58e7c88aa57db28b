import sys

from django.http import Http404, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from community.access import can_post

from . import presence
from .guard_forms import GuardForm, guarded
from .live import latest_event_id
from .live_room import highlight_question, mark_answered, pinned_questions
from .models import Post
from .posts import FLAT, thread_page
from .reading import open_thread
from .selectors import get_readable_post, get_readable_thread
from .services import PostingNotAllowed, create_reply
from .views import posting_choices, reply_form, tell_if_held
from .webinars import NotAHost, is_host

# thread_page clamps the number to the last page: the room opens on the newest posts.
LAST_PAGE = sys.maxsize


def _room(request, thread_id):
    thread = get_readable_thread(request.user, thread_id)
    econsultation = getattr(thread, "econsultation", None)
    if econsultation is None:
        raise Http404
    return thread, econsultation


def _render_room(request, thread, econsultation, form, guard=None):
    page = thread_page(thread, FLAT, request.GET.get("page") or LAST_PAGE, request.user)
    return render(request, "threads/live_room.html", {
        "thread": thread,
        "ec": econsultation,
        "page": page,
        "posts": page.posts,
        "reading": open_thread(request.member, thread, page.posts),
        "pinned": pinned_questions(thread),
        "present": presence.present_members(thread.id),
        "is_host": is_host(request.member, econsultation),
        "live_after": latest_event_id(thread.id),
        "form": form,
        "guard": guard,
        "can_reply": can_post(request.user, thread),
    })


def live_room(request, thread_id):
    thread, econsultation = _room(request, thread_id)
    return _render_room(request, thread, econsultation, reply_form(request.member, thread))


@require_POST
def post_in_room(request, thread_id):
    """A post from the room answers the opening post, like a reply to the thread, and stays in the room."""
    thread, econsultation = _room(request, thread_id)
    form = reply_form(request.member, thread, request.POST, request.FILES)
    guard = GuardForm(request.POST)
    if form.is_valid():
        opening = thread.posts.order_by("created_at", "id").first()
        try:
            post, guard = guarded(guard, lambda confirmation: create_reply(
                author=request.member, parent=opening, body=form.cleaned_data["body"], source=Post.Source.LIVE,
                attachments=form.cleaned_data["attachments"], confirmation=confirmation, **posting_choices(form)))
        except PostingNotAllowed as error:
            form.add_error(None, str(error))
        else:
            if post is not None:
                tell_if_held(request, post)
                return redirect(f"{reverse('live_room', args=[thread.id])}#post-{post.id}")
    return _render_room(request, thread, econsultation, form, guard)


def _host_action(service):
    @require_POST
    def view(request, post_id):
        post = get_readable_post(request.user, post_id)
        try:
            service(host=request.member, post_id=post.id)
        except NotAHost as error:
            return HttpResponseForbidden(str(error))
        return redirect(f"{reverse('live_room', args=[post.thread_id])}#post-{post.id}")

    return view


highlight = _host_action(highlight_question)
answered = _host_action(mark_answered)
