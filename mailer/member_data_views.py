"""A member downloads their own data (mailer.member_data); members only, like every page outside the public
prefixes (community.middleware), and only ever their own."""

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .member_data import archive_name, member_archive


@require_GET
def my_data(request):
    return render(request, "mailer/my_data.html", {"inbound_days": settings.RETENTION_INBOUND_DAYS})


@require_GET
def download(request):
    response = HttpResponse(member_archive(request.member), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{archive_name(request.member)}"'
    response["Cache-Control"] = "private, no-store"
    return response
