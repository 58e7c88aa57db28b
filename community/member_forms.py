from django import forms
from django.db.models import Q

from .membership import PROFILE_FIELDS
from .models import EligibilityBasis, Member, Organization
from .selectors import directory_organizations, directory_states

UNLISTED = "unlisted"


class ProfileForm(forms.ModelForm):
    """What a member tells others about themselves. A new organization is checked again before it counts: the
    page shows what will happen and asks the member to confirm (`confirm_change` names the organization
    they confirmed, so choosing yet another one asks again)."""

    organization_name = forms.CharField(label="Organization name, if not listed", max_length=200, required=False)
    organization_website = forms.URLField(
        label="Its website, if not listed", required=False, assume_scheme="https",
        help_text="Helps a moderator confirm the program quickly.",
    )
    eligibility_category = forms.ChoiceField(
        label="Which describes that program?", choices=[("", "—"), *EligibilityBasis.choices], required=False,
    )
    confirm_change = forms.CharField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = Member
        fields = ["full_name", "role_title", "staff_role", "organization", "bio", "areas_of_practice",
                  "show_organization", "show_role", "show_bio", "show_email", "expand_content_notes"]
        labels = {
            "full_name": "Your full name",
            "role_title": "Your role or title",
            "staff_role": "Your kind of work",
            "bio": "A short bio",
            "areas_of_practice": "Areas of practice",
        }
        help_texts = {
            "full_name": "Always shown: members need to know who they are talking with.",
            "areas_of_practice": "For example: trauma-focused therapy, asylum evaluations, case management.",
            "show_organization": "Members see where you work and can find you by it in the directory.",
            "show_role": "Members see your role or title next to your name.",
            "show_bio": "Members see your bio and areas of practice, and can find you by your areas.",
            "show_email": "Members can see your email address and write to you directly. Off unless you turn it on.",
            "staff_role": "Used only for posts you make anonymously, which members see as “a member (clinical staff, "
                          "Midwest)”: this and your organization's region. Leave it empty for plain “a member”.",
            "expand_content_notes": "Posts and parts of posts behind a content note (for example “sexual violence”) "
                                    "are shown open, without a click. Off: they stay closed until you open them.",
        }
        widgets = {"bio": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Validation copies the new values onto the instance; remember where the member works now.
        self.current_organization_id = self.instance.organization_id
        organization = self.fields["organization"]
        # The member's own organization stays selectable even if it was since marked inactive.
        organization.queryset = Organization.objects.filter(Q(active=True) | Q(pk=self.current_organization_id))
        organization.required = False
        organization.empty_label = "My organization is not listed"
        organization.help_text = (
            "If you change it, we check again that you work at an eligible program. "
            "You will see what happens before anything is saved."
        )

    @property
    def chosen_organization_key(self) -> str:
        organization = self.cleaned_data.get("organization")
        return str(organization.pk) if organization else UNLISTED

    @property
    def organization_changed(self) -> bool:
        organization = self.cleaned_data.get("organization")
        return (organization.pk if organization else None) != self.current_organization_id

    @property
    def change_confirmed(self) -> bool:
        return self.cleaned_data.get("confirm_change") == self.chosen_organization_key

    def clean(self):
        cleaned = super().clean()
        if self.organization_changed and not cleaned.get("organization"):
            if not cleaned.get("organization_name", "").strip():
                self.add_error("organization_name", "Type the name of your new organization.")
            if not cleaned.get("eligibility_category"):
                self.add_error("eligibility_category", "Choose what describes your new organization's program.")
        return cleaned

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "organization": data["organization"],
            "organization_name": data["organization_name"].strip(),
            "organization_website": data["organization_website"],
            "eligibility_category": data["eligibility_category"],
            **{name: data[name] for name in PROFILE_FIELDS},
        }


class LeaveForm(forms.Form):
    confirm = forms.BooleanField(
        label="I understand. I want to leave HealTalk and no longer be able to sign in.",
        error_messages={"required": "Tick the box to confirm that you want to leave."},
    )


class DirectoryFilterForm(forms.Form):
    q = forms.CharField(label="Search by name, organization or area of practice", required=False, max_length=100)
    organization = forms.ModelChoiceField(
        label="Organization", queryset=directory_organizations(), required=False, empty_label="Any organization"
    )
    state = forms.ChoiceField(label="State", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["state"].choices = [("", "Any state"), *((state, state) for state in directory_states())]

    def filters(self) -> dict | None:
        """What to look for; None when a filter names something no one shows (nothing can match it)."""
        if not self.is_bound:
            return {}
        if not self.is_valid():
            return None
        data = self.cleaned_data
        return {"query": data["q"].strip(), "organization": data["organization"], "state": data["state"]}


class ErasureRequestForm(forms.Form):
    note = forms.CharField(
        label="Anything the moderators should know (optional)", required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For example, a post you want taken down rather than kept. It is deleted once you are erased.",
    )
    confirm = forms.BooleanField(
        label="I understand. Close my account now and erase it once a moderator confirms. This cannot be undone.",
        error_messages={"required": "Tick the box to confirm that you want to be erased."},
    )


class ErasureLinkForm(forms.Form):
    email = forms.EmailField(label="An email address of your HealTalk account", max_length=254)
