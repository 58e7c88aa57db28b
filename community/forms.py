from allauth.account.forms import SignupForm
from django import forms
from django.db import transaction

from .models import EligibilityBasis, Member, Organization
from .services import submit_application


class ApplicationSignupForm(SignupForm):
    """Sign-up is an application: who you are and which eligible program you work at."""

    field_order = [
        "full_name", "email", "eligibility_category", "organization", "organization_name",
        "organization_website", "role_title", "statement", "password1", "password2", "accept_guidelines",
        "confidentiality_pledge",
    ]

    full_name = forms.CharField(label="Your full name", max_length=150)
    eligibility_category = forms.ChoiceField(
        label="Which describes your program?", choices=EligibilityBasis.choices, widget=forms.RadioSelect
    )
    organization = forms.ModelChoiceField(
        label="Organization",
        queryset=Organization.objects.filter(active=True),
        required=False,
        empty_label="My organization is not listed",
    )
    organization_name = forms.CharField(
        label="Organization name, if not listed", max_length=200, required=False
    )
    organization_website = forms.URLField(
        label="Its website, if not listed", required=False, assume_scheme="https",
        help_text="Helps a moderator confirm the program quickly.",
    )
    role_title = forms.CharField(label="Your role or title", max_length=150)
    statement = forms.CharField(
        label="How do you work with survivors of torture?",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="A sentence or two is enough. Please do not include any client information.",
    )
    accept_guidelines = forms.BooleanField(label="I have read the community guidelines and accept them.")
    confidentiality_pledge = forms.BooleanField(
        label=(
            "I will never post anything that could identify a client: no names, dates of birth, A-numbers, "
            "case or record numbers, addresses, phone numbers or photos."
        )
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].label = "Work email"
        self.fields["email"].help_text = "Use your work address: it helps us confirm where you work."

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("organization") and not cleaned.get("organization_name", "").strip():
            self.add_error("organization_name", "Choose your organization, or type its name if it is not listed.")
        return cleaned

    @transaction.atomic
    def save(self, request):
        user = super().save(request)
        data = self.cleaned_data
        submit_application(
            user=user,
            full_name=data["full_name"],
            eligibility_category=data["eligibility_category"],
            organization=data.get("organization"),
            organization_name=data.get("organization_name", "").strip(),
            organization_website=data.get("organization_website", ""),
            role_title=data["role_title"],
            statement=data["statement"],
        )
        return user


class RejectForm(forms.Form):
    reason = forms.CharField(
        label="Reason (sent to the applicant)", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )


class InfoRequestForm(forms.Form):
    question = forms.CharField(
        label="Your question (emailed to the applicant)", widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )


class InfoAnswerForm(forms.Form):
    answer = forms.CharField(
        label="Your answer", widget=forms.Textarea(attrs={"rows": 5}), max_length=4000,
        help_text="Please do not include any client information.",
    )


class MemberActionForm(forms.Form):
    reason = forms.CharField(
        label="Reason (kept in the audit log)", widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=Member.Role.choices)
    reason = forms.CharField(label="Reason (optional)", required=False, max_length=2000)


class MemberFilterForm(forms.Form):
    q = forms.CharField(label="Name, email, organization or role", required=False, max_length=200)
    status = forms.ChoiceField(
        label="Status", required=False, choices=[("", "Any status"), *Member.Status.choices]
    )


class DeclineErasureForm(forms.Form):
    reason = forms.CharField(
        label="Why not (emailed to them, and kept in the audit log)", widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
    )


class ConfirmErasureForm(forms.Form):
    confirm = forms.BooleanField(
        label="I have read what goes and what stays. Erase this account now: it cannot be undone.",
        error_messages={"required": "Tick the box to confirm the erasure."},
    )
