from allauth.account.adapter import DefaultAccountAdapter
from django.urls import reverse

from .access import member_of


class AccountAdapter(DefaultAccountAdapter):
    def get_login_redirect_url(self, request):
        member = member_of(request.user)
        if member is None:
            return reverse("application_status")
        if member.welcomed_at is None:
            # A newly approved member's first sign-in opens Start here (mailer.onboarding), until they finish it.
            return reverse("start_here")
        return super().get_login_redirect_url(request)

    def get_signup_redirect_url(self, request):
        return reverse("application_status")
