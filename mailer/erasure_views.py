"""Moderators' queue of erasure requests (/moderation/erasure/): carry one out, or decline it with a reason."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from community.erasure import decline_erasure, erasure_queue
from community.forms import ConfirmErasureForm, DeclineErasureForm
from community.mfa import moderator_required
from community.services import ModerationError

from .erasure import carry_out_erasure


def _queue(request, *, status=200, **context):
    waiting, decided = erasure_queue()
    return render(request, "mailer/erasure_queue.html", {
        "waiting": waiting, "decided": decided, "confirm_form": ConfirmErasureForm(),
        "decline_form": DeclineErasureForm(), "current": "erasure", **context,
    }, status=status)


@moderator_required
def queue(request):
    return _queue(request)


@moderator_required
@require_POST
def confirm(request, request_id):
    form = ConfirmErasureForm(request.POST)
    if not form.is_valid():
        return _queue(request, status=400, confirm_form=form, confirming=request_id)
    try:
        summary = carry_out_erasure(request_id, request.member)
    except ModerationError as error:
        messages.error(request, str(error))
        return redirect("erasure_queue")
    # Shown once, right away: nothing about the person is kept to show it again later.
    return render(request, "mailer/erasure_done.html", {"summary": summary, "current": "erasure"})


@moderator_required
@require_POST
def decline(request, request_id):
    form = DeclineErasureForm(request.POST)
    if not form.is_valid():
        return _queue(request, status=400, decline_form=form, declining=request_id)
    try:
        decline_erasure(request_id, request.member, form.cleaned_data["reason"])
    except ModerationError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Declined. They are emailed your reason; their account stays closed.")
    return redirect("erasure_queue")
