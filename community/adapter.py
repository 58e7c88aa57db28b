from allauth.account.adapter import DefaultAccountAdapter
from django.urls import reverse

from .access import member_of


class AccountAdapter(DefaultAccountAdapter):
    def get_login_redirect_url(self, request):
        if member_of(request.user) is None:
            return reverse("application_status")
        return super().get_login_redirect_url(request)

    def get_signup_redirect_url(self, request):
        return reverse("application_status")
