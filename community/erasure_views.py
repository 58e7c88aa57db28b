"""A member asks to be erased. Under /application/ (a public prefix of community.middleware), because those who ask
are mostly no longer members: a lapsed or pending account signs in and sees the form; a departed one cannot sign
in (its account is inactive) and gets the form through a link sent to one of its addresses."""

from django.contrib.auth import logout
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from .erasure import InvalidErasureLink, member_for_erasure_link, offer_erasure_link, open_request, request_erasure
from .member_forms import ErasureLinkForm, ErasureRequestForm
from .models import Member


def _signed_in_member(user) -> Member | None:
    if not user.is_authenticated:
        return None
    return Member.objects.filter(user=user).exclude(status=Member.Status.PLACEHOLDER).first()


def _ask(request, asker: Member, *, signed_in: bool):
    waiting = open_request(asker)
    form = ErasureRequestForm(request.POST if request.method == "POST" else None)
    if waiting is None and form.is_valid():
        request_erasure(asker, note=form.cleaned_data["note"])
        if signed_in:
            logout(request)
        return redirect("erasure_requested")
    return render(request, "community/erasure_request.html", {
        "form": form, "waiting": waiting, "asker": asker, "can_download": signed_in and asker.is_active_member,
    }, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def ask(request):
    asker = _signed_in_member(request.user)
    if asker is not None:
        return _ask(request, asker, signed_in=True)
    form = ErasureLinkForm(request.POST or None)
    if form.is_valid():
        offer_erasure_link(form.cleaned_data["email"])
        return redirect("erasure_link_sent")
    return render(request, "community/erasure_link_form.html", {"form": form}, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def ask_with_link(request, token):
    try:
        asker = member_for_erasure_link(token)
    except InvalidErasureLink as error:
        return render(request, "community/erasure_link_form.html", {"form": ErasureLinkForm(), "error": error},
                      status=400)
    return _ask(request, asker, signed_in=getattr(request.user, "pk", None) == asker.user_id)


def link_sent(request):
    return render(request, "community/erasure_link_sent.html")


def requested(request):
    return render(request, "community/erasure_requested.html")
