from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from .access import can_moderate, member_of
from .forms import RejectForm
from .models import Application, Member
from .selectors import latest_application, pending_applications
from .services import DecisionError, approve_application, reject_application


def guidelines(request):
    return render(request, "community/guidelines.html")


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


@login_required
def application_status(request):
    if member_of(request.user):
        return redirect("home")
    member = Member.objects.filter(user=request.user).first()
    return render(
        request,
        "community/application_status.html",
        {"applicant": member, "application": latest_application(member)},
    )


def _moderator(request) -> Member:
    if not can_moderate(request.user):
        raise PermissionDenied
    return request.member


def moderation_queue(request):
    _moderator(request)
    return render(
        request,
        "community/moderation_queue.html",
        {"applications": pending_applications(), "reject_form": RejectForm()},
    )


@require_POST
def approve(request, application_id):
    moderator = _moderator(request)
    application = get_object_or_404(Application, pk=application_id)
    try:
        approve_application(application, moderator)
    except DecisionError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"{application.member} is now a member. They have been emailed.")
    return redirect("moderation_queue")


@require_POST
def reject(request, application_id):
    moderator = _moderator(request)
    application = get_object_or_404(Application, pk=application_id)
    form = RejectForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "community/moderation_queue.html",
            {"applications": pending_applications(), "reject_form": form, "rejecting": application.id},
            status=400,
        )
    try:
        reject_application(application, moderator, form.cleaned_data["reason"])
    except DecisionError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"The application of {application.member} was declined. They have been emailed.")
    return redirect("moderation_queue")
