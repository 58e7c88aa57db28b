from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from community.access import can_moderate
from community.mfa import moderator_required
from threads.markdown import render_markdown

from .forms import CommunityTextsForm, DeliveryForm
from .models import MailPreference
from .onboarding import (
    agree_to_pledge,
    community_texts,
    finish_welcome,
    introductions,
    posts_per_week,
    save_community_texts,
    starter_list,
)
from .preferences import digest_times, save_mail_settings


def start_here(request):
    """The first-visit page; its email choice is the one form posted here, so a mistake keeps what was chosen."""
    member = request.member
    preference = MailPreference.objects.filter(member=member).first() or MailPreference(member=member)
    form = DeliveryForm(request.POST or None, initial={"mode": preference.mode, "time_zone": member.time_zone})
    if form.is_valid():
        # Categories are left as they are: choosing per category is on the mail settings page.
        save_mail_settings(member, mode=form.cleaned_data["mode"], time_zone=form.cleaned_data["time_zone"],
                           category_levels={})
        return redirect(f"{reverse('start_here')}?saved=email#email")
    return render(request, "mailer/onboarding/start.html", {
        "texts": community_texts(),
        "form": form,
        "preference": preference,
        "saved_email": request.GET.get("saved") == "email" and not form.errors,
        "times": digest_times(member),
        "each_per_week": posts_per_week(),
        "Mode": MailPreference.Mode,
        "introductions": introductions(),
        "starter": starter_list(member),
    }, status=400 if form.errors else 200)


@require_POST
def agree(request):
    agree_to_pledge(request.member)
    return redirect(f"{reverse('start_here')}#pledge")


@require_POST
def done(request):
    finish_welcome(request.member)
    messages.success(request, "Welcome. “Start here” stays in the menu whenever you want to come back to it.")
    return redirect("home")


def guidelines(request):
    """Public: applicants read the guidelines before they apply (community.middleware.PUBLIC_PREFIXES)."""
    return render(request, "mailer/onboarding/guidelines.html", {
        "guidelines": community_texts()["guidelines"], "can_edit": can_moderate(request.user),
    })


@moderator_required
def edit_start_here(request):
    texts = community_texts()
    form = CommunityTextsForm(request.POST or None, initial={key: text.body for key, text in texts.items()})
    preview = None
    if form.is_valid():
        if request.POST.get("action") == "preview":
            preview = {key: render_markdown(body) for key, body in form.cleaned_data.items()}
        else:
            changed = save_community_texts(moderator=request.member, bodies=form.cleaned_data)
            messages.success(request, "Saved. Start here and the guidelines page show the new words now."
                             if changed else "Nothing had changed, so nothing was saved.")
            return redirect("edit_start_here")
    parts = [(form[key], texts[key], preview[key] if preview else None) for key in form.fields]
    return render(request, "mailer/onboarding/edit.html", {
        "form": form, "parts": parts, "current": "start_here",
        # Without the category new members are not invited to introduce themselves: say so where moderators look.
        "introductions_missing": introductions() is None, "introductions_slug": settings.INTRODUCTIONS_CATEGORY_SLUG,
    }, status=400 if form.errors else 200)
