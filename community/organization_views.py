"""The organization directory, for moderators: find, add and edit the programs whose staff may join."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render

from .mfa import moderator_required
from .models import EligibilityBasis, Organization
from .organizations import (
    FIELDS,
    claimed_problem,
    create_organization,
    domain_problem,
    domains_claimed_elsewhere,
    parse_domains,
    search_organizations,
    update_organization,
)

PAGE_SIZE = 50
ACTIVE_CHOICES = {"yes": True, "no": False}


class OrganizationFilterForm(forms.Form):
    q = forms.CharField(label="Name, city or state", required=False, max_length=200)
    basis = forms.ChoiceField(
        label="Eligibility basis", required=False, choices=[("", "Any basis"), *EligibilityBasis.choices]
    )
    active = forms.ChoiceField(
        label="Active", required=False,
        choices=[("", "Active and inactive"), ("yes", "Active only"), ("no", "Inactive only")],
    )


class OrganizationForm(forms.ModelForm):
    website = forms.URLField(label="Website", required=False, assume_scheme="https")
    email_domains = forms.CharField(
        label="Verified email domains", required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line, for example cascade.example.org. A work email at one of these domains, or at "
                  "a subdomain of one, counts as verified.",
    )

    class Meta:
        model = Organization
        fields = FIELDS
        labels = {
            "active": "Active: its staff can choose it when they apply",
            "auto_approve_verified_domains": "Approve applicants with a verified work email without a moderator",
        }
        help_texts = {
            "auto_approve_verified_domains": "Only once they have confirmed the address by email. Free-mail "
                                             "addresses (gmail.com, outlook.com …) are never approved this way.",
            "notes": "Only moderators see these.",
        }
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial["email_domains"] = "\n".join(self.instance.email_domains)

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        other = Organization.objects.filter(name__iexact=name).exclude(pk=self.instance.pk).first()
        if other:
            raise ValidationError(f"{other.name} is already in the directory.")
        return name

    def clean_email_domains(self):
        domains = parse_domains(self.cleaned_data["email_domains"])
        problems = [problem for problem in map(domain_problem, domains) if problem]
        problems += [
            claimed_problem(domain, other)
            for domain, other in domains_claimed_elsewhere(domains, self.instance.pk).items()
        ]
        if problems:
            raise ValidationError(problems)
        return domains

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("auto_approve_verified_domains") and not cleaned.get("email_domains"):
            self.add_error("auto_approve_verified_domains", "Add a verified email domain first.")
        return cleaned


@moderator_required
def organization_list(request):
    form = OrganizationFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    organizations = search_organizations(
        query=filters.get("q", ""), basis=filters.get("basis", ""), active=ACTIVE_CHOICES.get(filters.get("active"))
    )
    page = Paginator(organizations, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "community/organization_list.html", {
        "form": form, "page": page, "query": query.urlencode(), "filtered": any(filters.values()),
    })


@moderator_required
def organization_create(request):
    form = OrganizationForm(request.POST or None)
    if form.is_valid():
        organization = create_organization(actor=request.member, **form.cleaned_data)
        messages.success(request, f"{organization} is now in the directory.")
        return redirect("organization_list")
    return render(request, "community/organization_form.html", {"form": form}, status=400 if form.errors else 200)


@moderator_required
def organization_edit(request, organization_id):
    organization = get_object_or_404(Organization, pk=organization_id)
    stored_name = organization.name  # validating the form writes what was typed onto the instance
    form = OrganizationForm(request.POST or None, instance=organization)
    if form.is_valid():
        changes = update_organization(organization, actor=request.member, **form.cleaned_data)
        if changes:
            messages.success(request, f"Saved {form.cleaned_data['name']}: {'; '.join(changes)}.")
        else:
            messages.info(request, "Nothing was changed.")
        return redirect("organization_list")
    return render(
        request, "community/organization_form.html", {"form": form, "organization": organization, "title": stored_name},
        status=400 if form.errors else 200,
    )
