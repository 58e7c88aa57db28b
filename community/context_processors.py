from django.conf import settings

from .membership import confirmation_prompt


def membership(request):
    return {
        "member": getattr(request, "member", None),
        "list_name": settings.LIST_NAME,
        "debug": settings.DEBUG,
        # The yearly confirmation link, when it is due (a banner on every page) or lapsed (the application page).
        "reverification_url": confirmation_prompt(getattr(request, "user", None)),
    }
