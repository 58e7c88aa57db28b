"""The resource library's submission pages for members and its review pages for moderators (threads.resources)."""

from django.contrib import messages
from django.shortcuts import redirect, render

from community.mfa import moderator_required

from .resource_forms import GuardFindings, ResourceForm, ReviewForm
from .resources import (
    ResourceError,
    ResourceMayIdentifyClient,
    approve_resource,
    get_editable_resource,
    get_resource_for_review,
    may_edit_resource,
    reject_resource,
    request_resource_changes,
    resource_queue,
    resources_of,
    submit_resource,
    update_resource,
)


def _saved(form, save) -> tuple[object | None, GuardFindings | None]:
    """Runs `save` (a service call); on a refusal the form says why and keeps everything typed."""
    try:
        return save(), None
    except ResourceMayIdentifyClient as stop:
        return None, GuardFindings(stop.findings, stop.text)
    except ResourceError as error:
        form.add_error(None, str(error))
        return None, None


def submit(request):
    form = ResourceForm(request.POST or None, request.FILES or None, user=request.user)
    guard = None
    if form.is_valid():
        resource, guard = _saved(form, lambda: submit_resource(submitter=request.member, **form.service_fields()))
        if resource is not None:
            messages.success(request, f"Thank you. “{resource.title}” is waiting for a moderator's review; you "
                                      "will get an email when it has been looked at.")
            return redirect("my_resources")
    return render(request, "threads/resources/submit.html", {"form": form, "guard": guard},
                  status=400 if request.method == "POST" else 200)


def mine(request):
    return render(request, "threads/resources/mine.html", {"resources": resources_of(request.member)})


def edit(request, resource_id):
    resource = get_editable_resource(request.member, resource_id)
    if not may_edit_resource(request.member, resource):
        messages.info(request, f"“{resource.title}” can no longer be changed by you: "
                               f"it is “{resource.get_status_display()}”. A moderator can change it if needed.")
        return redirect("my_resources")
    moderator_edit = resource.submitted_by_id != request.member.id
    form = ResourceForm(request.POST or None, request.FILES or None, user=request.user, resource=resource,
                        moderator_edit=moderator_edit)
    guard = None
    if form.is_valid():
        edited, guard = _saved(form, lambda: update_resource(
            editor=request.member, resource=resource, remove_files=[f.pk for f in form.cleaned_data.get(
                "remove_files", [])], reason=form.cleaned_data.get("reason", ""), **form.service_fields()))
        if edited is not None:
            if moderator_edit:
                messages.success(request, f"“{edited.title}” is saved.")
                return redirect("review_resource", edited.id)
            messages.success(request, f"“{edited.title}” is saved and waiting for a moderator's review.")
            return redirect("my_resources")
    return render(request, "threads/resources/submit.html",
                  {"form": form, "guard": guard, "resource": resource, "moderator_edit": moderator_edit},
                  status=400 if request.method == "POST" else 200)


@moderator_required
def queue(request):
    return render(request, "threads/resources/queue.html", {"resources": resource_queue()})


DECISIONS = {
    ReviewForm.APPROVE: (approve_resource, "note", "“{title}” is in the library now. {who} will get an email."),
    ReviewForm.CHANGES: (request_resource_changes, "note",
                         "“{title}” is back with {who}, with what to change. They will get an email."),
    ReviewForm.REJECT: (reject_resource, "reason", "“{title}” was not accepted. {who} will get an email with your "
                                                   "reason."),
}


# The review page's three forms: decision, heading, the note's label, button, whether the note is required.
REVIEW_CHOICES = [
    (ReviewForm.APPROVE, "Approve", "A note for the member (optional)", "Approve and add to the library", False),
    (ReviewForm.CHANGES, "Ask for changes", "What should change?", "Ask for these changes", True),
    (ReviewForm.REJECT, "Do not accept", "Why is it not accepted?", "Do not accept", True),
]


@moderator_required
def review(request, resource_id):
    resource = get_resource_for_review(resource_id)
    form = ReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        service, note_name, done = DECISIONS[form.cleaned_data["decision"]]
        try:
            service(moderator=request.member, resource=resource, **{note_name: form.cleaned_data["note"]})
        except ResourceError as error:
            messages.error(request, str(error))
            return redirect("review_resource", resource.id)
        who = resource.submitted_by.full_name if resource.submitted_by else "The member who submitted it"
        messages.success(request, done.format(title=resource.title, who=who))
        return redirect("resource_queue")
    return render(request, "threads/resources/review.html", {
        "resource": resource, "form": form, "decision": form.data.get("decision") if form.is_bound else None,
        "decisions": REVIEW_CHOICES,
    }, status=400 if request.method == "POST" else 200)

