from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from community.mfa import moderator_required

from .models import Category
from .moderation import (
    ThreadModerationError,
    approve_held_post,
    hide_post,
    merge_subtree,
    move_thread,
    reject_held_post,
    set_locked,
    set_pinned,
    split_subtree,
    unhide_post,
)
from .selectors import get_readable_post, get_readable_thread, held_posts


class ReasonForm(forms.Form):
    reason = forms.CharField(label="Reason (kept in the audit log)", required=False,
                             widget=forms.Textarea(attrs={"rows": 2}))


class HideForm(forms.Form):
    reason = forms.CharField(label="Why is it hidden? The author sees this.", widget=forms.Textarea(attrs={"rows": 3}))


class RejectHeldForm(forms.Form):
    reason = forms.CharField(label="Why is it not published? The author is told.", max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 3}))


class MoveForm(ReasonForm):
    category = forms.ModelChoiceField(queryset=Category.objects.all(), empty_label=None)


class SplitForm(ReasonForm):
    NEW, MERGE = "new", "merge"
    destination = forms.ChoiceField(
        choices=[(NEW, "Into a new thread"), (MERGE, "Under a post in another thread")],
        widget=forms.RadioSelect, initial=NEW,
    )
    title = forms.CharField(label="Title of the new thread", max_length=200, required=False)
    category = forms.ModelChoiceField(label="Category of the new thread", queryset=Category.objects.all(),
                                      required=False)
    under = forms.IntegerField(label="Number of the post to put it under (from its link, #post-…)",
                               required=False, min_value=1)

    def clean(self):
        data = super().clean()
        if data.get("destination") == self.NEW and not (data.get("title") and data.get("category")):
            raise forms.ValidationError("A new thread needs a title and a category.")
        if data.get("destination") == self.MERGE and not data.get("under"):
            raise forms.ValidationError("Give the number of the post to put these replies under.")
        return data


def _thread_page(request, thread, **context):
    return render(request, "threads/moderate_thread.html", {
        "thread": thread, "reason_form": ReasonForm(), "move_form": MoveForm(initial={"category": thread.category}),
        **context,
    }, status=400 if context else 200)


@moderator_required
def moderate_thread(request, thread_id):
    return _thread_page(request, get_readable_thread(request.user, thread_id))


@require_POST
@moderator_required
def toggle_thread(request, thread_id, flag):
    thread = get_readable_thread(request.user, thread_id)
    form = ReasonForm(request.POST)
    form.is_valid()
    turn_on = request.POST.get("on") == "1"
    service = set_pinned if flag == "pinned" else set_locked
    service(thread, request.member, turn_on, form.cleaned_data.get("reason", ""))
    messages.success(request, {
        ("pinned", True): "The thread is pinned to the top of its category.",
        ("pinned", False): "The thread is no longer pinned.",
        ("locked", True): "The thread is closed to new replies.",
        ("locked", False): "The thread is open to replies again.",
    }[flag, turn_on])
    return redirect(thread)


@require_POST
@moderator_required
def move(request, thread_id):
    thread = get_readable_thread(request.user, thread_id)
    form = MoveForm(request.POST)
    if not form.is_valid():
        return _thread_page(request, thread, move_form=form)
    try:
        move_thread(thread, request.member, form.cleaned_data["category"], form.cleaned_data["reason"])
    except ThreadModerationError as error:
        form.add_error(None, str(error))
        return _thread_page(request, thread, move_form=form)
    messages.success(request, f"The thread is now in {form.cleaned_data['category'].name}.")
    return redirect(thread)


@moderator_required
def hide(request, post_id):
    post = get_readable_post(request.user, post_id)
    form = HideForm(request.POST or None)
    if form.is_valid():
        hide_post(post, request.member, form.cleaned_data["reason"])
        messages.success(request, "The post is hidden until a moderator shows it again.")
        return redirect(post)
    return render(request, "threads/moderate_hide.html", {"post": post, "form": form},
                  status=400 if request.method == "POST" else 200)


@require_POST
@moderator_required
def unhide(request, post_id):
    post = get_readable_post(request.user, post_id)
    form = ReasonForm(request.POST)
    form.is_valid()
    unhide_post(post, request.member, form.cleaned_data.get("reason", ""))
    messages.success(request, "The post is visible to everyone again.")
    return redirect(post)


def _held_queue(request, status=200, **context):
    return render(request, "threads/moderation_held_posts.html",
                  {"posts": held_posts(), "reject_form": RejectHeldForm(), **context}, status=status)


@moderator_required
def held_post_queue(request):
    return _held_queue(request)


@require_POST
@moderator_required
def approve_held(request, post_id):
    post = get_readable_post(request.user, post_id)
    try:
        approve_held_post(post, request.member)
    except ThreadModerationError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"The post by {post.author.full_name} is published and sent to the list.")
    return redirect("held_posts")


@require_POST
@moderator_required
def reject_held(request, post_id):
    post = get_readable_post(request.user, post_id)
    form = RejectHeldForm(request.POST)
    if not form.is_valid():
        return _held_queue(request, status=400, reject_form=form, rejecting=post.id)
    try:
        reject_held_post(post, request.member, form.cleaned_data["reason"])
    except ThreadModerationError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"The post by {post.author.full_name} was not published. They have been emailed "
                                  "your reason.")
    return redirect("held_posts")


def _split_or_merge(request, post, data):
    if data["destination"] == SplitForm.NEW:
        return split_subtree(post, request.member, title=data["title"], category=data["category"],
                             reason=data["reason"])
    try:
        under = get_readable_post(request.user, data["under"])
    except Http404:
        raise ThreadModerationError("There is no post with that number.") from None
    return merge_subtree(post, request.member, under=under, reason=data["reason"])


@moderator_required
def split(request, post_id):
    post = get_readable_post(request.user, post_id)
    form = SplitForm(request.POST or None, initial={"category": post.thread.category})
    if form.is_valid():
        try:
            thread = _split_or_merge(request, post, form.cleaned_data)
        except ThreadModerationError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"The replies are now in “{thread.title}”.")
            return redirect(f"{thread.get_absolute_url()}#post-{post.id}")
    return render(request, "threads/moderate_split.html", {"post": post, "form": form},
                  status=400 if request.method == "POST" else 200)
