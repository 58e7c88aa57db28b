"""Moderators' page of the resource library's broken links (threads.link_check)."""

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from community.mfa import moderator_required

from .link_check import broken_resources, check_resource_link_now, mark_link_working
from .models import Resource


class MarkWorkingForm(forms.Form):
    reason = forms.CharField(label="How do you know it works? (kept in the audit log)", required=False,
                             max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


def _library_resource(resource_id: int) -> Resource:
    return get_object_or_404(Resource.objects.defer("search_vector").exclude(url=""), pk=resource_id,
                             status=Resource.Status.APPROVED)


def _page(request, status=200, **context):
    return render(request, "threads/moderation_broken_links.html",
                  {"resources": broken_resources(), "form": MarkWorkingForm(), **context}, status=status)


@moderator_required
def broken_links(request):
    return _page(request)


@require_POST
@moderator_required
def check_link_now(request, resource_id):
    resource = check_resource_link_now(_library_resource(resource_id))
    if resource.link_error:
        messages.error(request, f"The link of “{resource.title}” still fails: {resource.link_error}.")
    else:
        messages.success(request, f"The link of “{resource.title}” works: it is no longer flagged.")
    return redirect("broken_links")


@require_POST
@moderator_required
def mark_working(request, resource_id):
    resource = _library_resource(resource_id)
    form = MarkWorkingForm(request.POST)
    if not form.is_valid():
        return _page(request, status=400, form=form, marking=resource.id)
    mark_link_working(resource, request.member, form.cleaned_data["reason"])
    messages.success(request, f"The link of “{resource.title}” is marked as working. The weekly check will flag it "
                              "again only if it fails twice in a row.")
    return redirect("broken_links")
