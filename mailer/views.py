from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from .models import MailPreference
from .preferences import member_for_unsubscribe_token, set_mail_mode
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
