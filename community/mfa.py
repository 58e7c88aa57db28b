"""Moderator pages need a second factor: a stolen moderator password must not open the member list."""

from functools import wraps

from allauth.mfa.models import Authenticator
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect

from .access import can_moderate


def has_totp(user) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def moderator_required(view):
    """403 for anyone who cannot moderate; a moderator without TOTP is sent to set it up first.

    allauth shows the recovery codes right after TOTP is activated (it generates them on activation).
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not can_moderate(request.user):
            raise PermissionDenied
        if not has_totp(request.user):
            messages.info(
                request,
                "Moderator pages show applicants' and members' details, so they need two-step sign-in. "
                "Set it up now with an authenticator app; you will then be shown recovery codes to keep "
                "somewhere safe.",
            )
            return redirect("mfa_activate_totp")
        return view(request, *args, **kwargs)

    return wrapper
