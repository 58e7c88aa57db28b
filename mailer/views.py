from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from community.mfa import moderator_required
from community.selectors import active_moderators
from threads.reading import set_subscription
from threads.selectors import get_readable_thread, readable_categories

from .bounces import remember_pause, resume_delivery
from .forms import MailSettingsForm
from .inbound import default_category
from .models import MailPreference
from .moderation import mail_overview, retry_failed_messages
from .preferences import (
    digest_times,
    member_for_unsubscribe_token,
    save_mail_settings,
    set_mail_mode,
    settings_for,
    withdraw_mail_links,
)
from .tokens import InvalidToken


# No login and no CSRF token: mail clients send RFC 8058 one-click POSTs ("List-Unsubscribe=One-Click")
# without cookies, and the signed token in the URL is what proves the request.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    try:
        member = member_for_unsubscribe_token(token)
    except InvalidToken as error:
        return render(request, "mailer/unsubscribe_invalid.html", {"reason": str(error)}, status=400)
    if request.method == "GET":
        return render(request, "mailer/unsubscribe.html", {"token": token, "subscriber": member})
    mode = request.POST.get("mode")
    preference = set_mail_mode(member, mode if mode in MailPreference.Mode.values else MailPreference.Mode.NONE)
    return render(request, "mailer/unsubscribe_done.html", {
        "token": token, "subscriber": member, "preference": preference, "Mode": MailPreference.Mode,
    })


def mail_settings(request):
    member = request.member
    current = settings_for(member)
    form = MailSettingsForm(request.POST or None, categories=current.categories,
                            initial={"mode": current.mode, "time_zone": current.time_zone})
    if form.is_valid():
        save_mail_settings(member, mode=form.cleaned_data["mode"], time_zone=form.cleaned_data["time_zone"],
                           category_levels=form.category_levels())
        messages.success(request, "Your email settings are saved.")
        return redirect("mail_settings")
    # The banner reads the pause from the cache; the database here is the truth, so the cache follows it.
    remember_pause(member.id, current.pause_reason if current.paused_at else None)
    return render(request, "mailer/settings.html", {
        "form": form, "current": current, "times": digest_times(member), "Mode": MailPreference.Mode,
    }, status=400 if form.errors else 200)


@require_POST
def forget_thread_choice(request, thread_id):
    thread = get_readable_thread(request.user, thread_id)
    set_subscription(request.member, level="", thread=thread)
    messages.success(request, f"Email from “{thread.title}” follows your usual setting again.")
    return redirect("mail_settings")


@require_POST
def withdraw_links(request):
    withdraw_mail_links(request.member)
    messages.success(request, "Done: the reply and unsubscribe links in emails you already have no longer work. "
                              "Emails from now on carry new ones.")
    return redirect("mail_settings")


@require_POST
def resume(request):
    resume_delivery(request.member)
    messages.success(request, "List email is on again. If it stops a second time, please ask a moderator.")
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(back)
    return redirect("mail_settings")


def mail_help(request):
    return render(request, "mailer/help.html", {
        "categories": readable_categories(request.user),
        "list_domain": settings.LIST_DOMAIN,
        "list_address": settings.LIST_ADDRESS,
        "default_category": default_category(),
        "moderators": active_moderators().order_by("full_name"),
        "times": digest_times(request.member),
        "attachment_max_mb": settings.ATTACHMENT_MAX_BYTES // (1024 * 1024),
    })


@moderator_required
def moderation_mail(request):
    return render(request, "mailer/moderation_mail.html", {"overview": mail_overview(), "current": "mail"})


@moderator_required
@require_POST
def retry_failed(request, outbound_id=None):
    count = retry_failed_messages(None if outbound_id is None else [outbound_id])
    if count:
        messages.success(request, f"{count} message{'s' if count != 1 else ''} queued to be sent again.")
    else:
        messages.info(request, "Nothing to send again: that message was already queued or sent.")
    return redirect("moderation_mail")
