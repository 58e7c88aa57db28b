from django import forms
from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from .attachments import get_readable_attachment, is_inline
from .forms import ContentNoteFields
from .guard_checks import held_by_guard, opens_unpublished_thread
from .guard_forms import GuardForm, guarded
from .posts import (
    PostChangeNotAllowed,
    chosen_view,
    delete_post,
    edit_history,
    edit_post,
    may_delete,
    may_edit,
    may_restore,
    may_see_body,
    post_location,
    restore_post,
)
from .selectors import get_readable_post


class EditForm(ContentNoteFields):
    title = forms.CharField(label="Title", max_length=200,
                            help_text="The thread's title: for a message you emailed, its subject.")
    body = forms.CharField(label="Your post", widget=forms.Textarea(attrs={"rows": 10}), max_length=50000)
    reason = forms.CharField(label="Reason (recorded in the audit log)", required=False, max_length=500)
    field_order = ["title", "body", "content_note_choice", "content_note_words", "reason"]


class ReasonForm(forms.Form):
    reason = forms.CharField(label="Reason (recorded in the audit log)", required=False, max_length=500)


def permalink(request, post_id):
    """A post's lasting address (in emails and "Reply" redirects): the thread page that shows it."""
    post = get_readable_post(request.user, post_id)
    return redirect(post_location(post, chosen_view(request), request.user))


def edit(request, post_id):
    """Also where the author of an emailed post the confidentiality guard held edits it and publishes it, or
    confirms it (the link in the guard's answer to their email)."""
    post = get_readable_post(request.user, post_id)
    if not may_edit(request.user, post):
        raise Http404
    acting_as_moderator = post.author_id != request.member.id
    held_check = held_by_guard(post)
    form = EditForm(request.POST or None, initial={"body": post.body, "title": post.thread.title},
                    content_note=post.content_note)
    if not acting_as_moderator:
        del form.fields["reason"]
    if not opens_unpublished_thread(post):
        del form.fields["title"]
    guard = GuardForm(request.POST) if request.POST else (
        GuardForm.for_held_post(post, held_check) if held_check else GuardForm())
    if form.is_valid():
        try:
            edited, guard = guarded(guard, lambda confirmation: edit_post(
                editor=request.member, post_id=post.id, body=form.cleaned_data["body"],
                reason=form.cleaned_data.get("reason", ""), content_note=form.cleaned_data["content_note"],
                title=form.cleaned_data.get("title"), confirmation=confirmation))
        except PostChangeNotAllowed as error:
            form.add_error(None, str(error))
        else:
            if edited is not None:
                if held_check is not None:
                    messages.success(request, "Your post is waiting for a moderator now." if edited.held_at
                                     else "Your post is published and sent to the list.")
                return redirect(post_location(post, chosen_view(request), request.user))
    return render(request, "threads/post_edit.html",
                  {"form": form, "post": post, "guard": guard, "held": held_check is not None})


def history(request, post_id):
    post = get_readable_post(request.user, post_id)
    if not may_see_body(request.user, post):
        raise Http404
    return render(request, "threads/post_history.html", {"post": post, "versions": edit_history(post)})


def delete(request, post_id):
    """GET asks for confirmation; POST deletes."""
    post = get_readable_post(request.user, post_id)
    if not may_delete(request.user, post):
        raise Http404
    acting_as_moderator = post.author_id != request.member.id
    form = ReasonForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            delete_post(actor=request.member, post_id=post.id, reason=form.cleaned_data["reason"])
        except PostChangeNotAllowed as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "The post was deleted.")
            return redirect(post_location(post, chosen_view(request), request.user))
    return render(request, "threads/post_delete.html",
                  {"form": form, "post": post, "acting_as_moderator": acting_as_moderator})


@require_POST
def restore(request, post_id):
    post = get_readable_post(request.user, post_id)
    if not may_restore(request.user, post):
        raise Http404
    form = ReasonForm(request.POST)
    form.is_valid()
    try:
        restore_post(moderator=request.member, post_id=post.id, reason=form.cleaned_data.get("reason", ""))
    except PostChangeNotAllowed as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "The post was restored.")
    return redirect(post_location(post, chosen_view(request), request.user))


def download_attachment(request, attachment_id, name):
    attachment = get_readable_attachment(request.user, attachment_id)
    if name != attachment.original_name:
        raise Http404
    response = FileResponse(
        attachment.file.open("rb"), as_attachment=not is_inline(attachment), filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-cache"
    return response
