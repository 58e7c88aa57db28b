from django.conf import settings


def membership(request):
    return {
        "member": getattr(request, "member", None),
        "list_name": settings.LIST_NAME,
        "debug": settings.DEBUG,
    }
