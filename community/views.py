from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from .access import member_of
from .eligibility import DOMAIN_VERIFIED
from .forms import InfoAnswerForm, InfoRequestForm, MemberActionForm, MemberFilterForm, RejectForm, RoleForm
from .mfa import moderator_required
from .models import Application, Member
from .selectors import (
    STALE_AFTER,
    applications_awaiting_applicant,
    audit_actions,
    audit_log,
    latest_application,
    member_for_moderation,
    members_for_moderation,
    pending_applications,
)
from .services import (
    ModerationError,
    answer_information_request,
    approve_application,
    bulk_approve_applications,
    change_role,
    hold_posts,
    reactivate_member,
    reject_application,
    release_posts,
    remove_member,
    request_more_information,
    suspend_member,
)
from .templatetags.moderation import action_label

PAGE_SIZE = 50

def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


@login_required
def application_status(request):
    if approved := member_of(request.user):
        # An applicant waiting on this page when they are approved is welcomed like at a first sign-in.
        return redirect("home" if approved.welcomed_at else "start_here")
    member = Member.objects.filter(user=request.user).first()
    application = latest_application(member)
    form = InfoAnswerForm(request.POST or None)
    if request.method == "POST" and application and form.is_valid():
        try:
            answer_information_request(application, form.cleaned_data["answer"])
        except ModerationError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, "Thank you. Your answer is with the moderators.")
        return redirect("application_status")
    return render(
        request,
        "community/application_status.html",
        {"applicant": member, "application": application, "answer_form": form},
        status=400 if request.method == "POST" else 200,
    )


def _render_queue(request, *, status=200, **forms):
    now = timezone.now()
    applications = list(pending_applications())
    for application in applications:
        application.days_waiting = (now - application.waiting_since).days
        application.is_stale = application.waiting_since < now - STALE_AFTER
        application.domain_verified = application.eligibility_result == DOMAIN_VERIFIED
    context = {
        "applications": applications,
        "awaiting_applicant": applications_awaiting_applicant(),
        "stale_count": sum(application.is_stale for application in applications),
        "bulk_approvable": any(application.domain_verified for application in applications),
        "reject_form": RejectForm(),
        "info_form": InfoRequestForm(),
        **forms,
    }
    return render(request, "community/moderation_queue.html", context, status=status)


@moderator_required
def moderation_queue(request):
    return _render_queue(request)


@require_POST
@moderator_required
def approve(request, application_id):
    application = get_object_or_404(Application, pk=application_id)
    try:
        approve_application(application, request.member)
    except ModerationError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"{application.member} is now a member. They have been emailed.")
    return redirect("moderation_queue")


def _act_on_application(request, application_id, form_class, *, form_name, open_name, act, done):
    """A form on a queue row: invalid, the queue comes back with that row's form open and what was typed."""
    application = get_object_or_404(Application, pk=application_id)
    form = form_class(request.POST)
    if not form.is_valid():
        return _render_queue(request, status=400, **{form_name: form, open_name: application.id})
    try:
        act(application, form.cleaned_data)
    except ModerationError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, done.format(member=application.member))
    return redirect("moderation_queue")


@require_POST
@moderator_required
def reject(request, application_id):
    return _act_on_application(
        request, application_id, RejectForm, form_name="reject_form", open_name="rejecting",
        act=lambda application, data: reject_application(application, request.member, data["reason"]),
        done="The application of {member} was declined. They have been emailed.",
    )


@require_POST
@moderator_required
def request_info(request, application_id):
    return _act_on_application(
        request, application_id, InfoRequestForm, form_name="info_form", open_name="asking",
        act=lambda application, data: request_more_information(application, request.member, data["question"]),
        done="Your question was emailed to {member}. The application comes back here when they answer.",
    )


@require_POST
@moderator_required
def bulk_approve(request):
    ids = [int(value) for value in request.POST.getlist("application") if value.isdigit()]
    if not ids:
        messages.error(request, "Tick the applications to approve first.")
        return redirect("moderation_queue")
    result = bulk_approve_applications(ids, request.member)
    if result.approved:
        names = ", ".join(str(application.member) for application in result.approved)
        messages.success(request, f"Approved {len(result.approved)}: {names}. They have been emailed.")
    if result.refused:
        refused = "; ".join(f"{application.member} ({why})" for application, why in result.refused)
        messages.error(request, f"Not approved: {refused}. Open each one and decide it on its own.")
    return redirect("moderation_queue")


@moderator_required
def members(request):
    form = MemberFilterForm(request.GET or None)
    search, status = ("", "")
    if form.is_valid():
        search, status = form.cleaned_data["q"].strip(), form.cleaned_data["status"]
    page = Paginator(members_for_moderation(search=search, status=status), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request, "community/moderation_members.html",
        {"form": form, "page": page, "query": query.urlencode(), "filtered": bool(search or status)},
    )


def _render_member(request, member_id, *, status=200, **forms):
    try:
        member = member_for_moderation(member_id)
    except Member.DoesNotExist as missing:
        raise Http404 from missing
    context = {
        "subject": member,
        "action_form": MemberActionForm(),
        "role_form": RoleForm(initial={"role": member.role}),
        "is_self": member.pk == request.member.pk,
        **forms,
    }
    return render(request, "community/moderation_member.html", context, status=status)


@moderator_required
def member_detail(request, member_id):
    return _render_member(request, member_id)


MEMBER_ACTIONS = {
    "suspend": (suspend_member, "{member} is suspended: they cannot read or post until reactivated."),
    "reactivate": (reactivate_member, "{member} is a member again."),
    "remove": (remove_member, "{member} is removed: they cannot sign in. Their posts stay."),
    "hold_posts": (hold_posts, "From now on each post by {member} waits for a moderator's approval."),
    "release_posts": (release_posts, "From now on posts by {member} are published at once. Posts already "
                                     "waiting stay in the held-posts queue."),
}


@require_POST
@moderator_required
def member_action(request, member_id, action):
    member = get_object_or_404(Member, pk=member_id)
    form = MemberActionForm(request.POST)
    if not form.is_valid():
        return _render_member(request, member_id, status=400, action_form=form, acting=action)
    service, done = MEMBER_ACTIONS[action]
    try:
        service(member, request.member, form.cleaned_data["reason"])
    except ModerationError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, done.format(member=member))
    return redirect("moderation_member", member_id=member.id)


@require_POST
@moderator_required
def member_role(request, member_id):
    member = get_object_or_404(Member, pk=member_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        return _render_member(request, member_id, status=400, role_form=form)
    try:
        member = change_role(member, request.member, form.cleaned_data["role"], form.cleaned_data["reason"])
    except ModerationError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"{member} is now a {member.get_role_display().lower()}.")
    return redirect("moderation_member", member_id=member.id)


@moderator_required
def audit(request):
    action = request.GET.get("action", "")
    page = Paginator(audit_log(action=action), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request, "community/moderation_audit.html",
        {
            "page": page, "action": action, "filter_query": urlencode({"action": action}) if action else "",
            "actions": [(value, action_label(value)) for value in audit_actions()],
        },
    )
