from django.shortcuts import redirect
from django.urls import reverse

from .access import member_of

# Everything else needs an approved member: deny by default.
PUBLIC_PREFIXES = (
    "/accounts/",
    "/application/",
    "/guidelines/",
    "/static/",
    "/mail/unsubscribe/",
    "/anymail/",
    "/healthz",
    "/favicon.ico",
    # Calendar and feed readers cannot sign in. Access is by the unguessable token in the URL, looked up to its
    # member and checked with community.access.member_of, so a suspended or lapsed member's feed stops working.
    "/feeds/private/",
)


class MembersOnlyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.member = member_of(request.user)
        if request.member is None and not request.path.startswith(PUBLIC_PREFIXES):
            if not request.user.is_authenticated:
                return redirect(f"{reverse('account_login')}?next={request.path}")
            return redirect("application_status")
        return self.get_response(request)
