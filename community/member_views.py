"""Pages of membership upkeep: the yearly confirmation, the member directory and profiles, leaving."""

from django.contrib import messages
from django.contrib.auth import logout
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from .access import require_member
from .member_forms import DirectoryFilterForm, LeaveForm, ProfileForm
from .membership import (
    InvalidConfirmation,
    assess_change,
    confirm_still_eligible,
    leave_community,
    member_for_confirmation,
    update_profile,
)
from .models import Member
from .selectors import directory_members

MEMBERS_PER_PAGE = 25


@require_http_methods(["GET", "POST"])
def confirm_membership(request, token):
    """Public, so the link works from any device. Only the POST confirms: mail scanners open links."""
    try:
        if request.method == "POST":
            member = confirm_still_eligible(token)
            return render(request, "community/reverify_done.html", {"confirmed": member})
        member = member_for_confirmation(token)
    except InvalidConfirmation as error:
        return render(request, "community/reverify_invalid.html", {"error": error}, status=400)
    return render(request, "community/reverify_confirm.html", {"confirming": member})


def directory(request):
    require_member(request.user)
    form = DirectoryFilterForm(request.GET or None)
    filters = form.filters()
    members = directory_members(**filters) if filters is not None else Member.objects.none()
    page = Paginator(members, MEMBERS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "community/directory.html", {"form": form, "page": page})


def profile(request, member_id):
    require_member(request.user)
    shown = get_object_or_404(directory_members(), pk=member_id)
    return render(request, "community/profile.html", {"shown": shown})


@require_http_methods(["GET", "POST"])
def edit_profile(request):
    # The form edits its own copy, so the page around it shows the member as saved until they confirm.
    member = Member.objects.select_related("organization", "user").get(pk=require_member(request.user).pk)
    form = ProfileForm(request.POST if request.method == "POST" else None, instance=member)
    preview = None
    if form.is_valid():
        if form.organization_changed and not form.change_confirmed:
            preview = assess_change(work_email=member.user.email, organization=form.cleaned_data["organization"])
        else:
            outcome = update_profile(member, **form.service_arguments())
            if outcome is not None and not outcome.still_member:
                messages.info(request, "Your profile is saved. A moderator will check your new organization.")
                return redirect("application_status")
            confirmed = " Your work email matches your new organization: nothing else to do." if outcome else ""
            messages.success(request, f"Your profile is saved.{confirmed}")
            return redirect("edit_profile")
    return render(request, "community/profile_edit.html", {
        "form": form, "preview": preview, "confirm_key": form.chosen_organization_key if preview else "",
    })


@require_http_methods(["GET", "POST"])
def leave(request):
    member = require_member(request.user)
    form = LeaveForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        leave_community(member)
        logout(request)
        messages.success(request, "You have left HealTalk. Thank you for the care you brought to it.")
        return redirect("account_login")
    return render(request, "community/member_leave.html", {"form": form})
