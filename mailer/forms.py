from django import forms

from threads.models import Category, Subscription

from .models import MailPreference
from .preferences import time_zone_choices

# "" follows the member's own mode; "only threads I take part in" is offered for categories (and here they all are).
CATEGORY_LEVELS = [("", "Use my setting"), *Subscription.Level.choices]


class DeliveryForm(forms.Form):
    """How often and in which time zone: the Start here page asks only this; the settings page asks more."""

    mode = forms.ChoiceField(
        choices=MailPreference.Mode.choices, widget=forms.RadioSelect,
        error_messages={"required": "Choose how often list email should come.",
                        "invalid_choice": "Choose one of the five ways to get list email."},
    )
    time_zone = forms.ChoiceField(
        label="Your time zone", required=False, choices=time_zone_choices,
        error_messages={"invalid_choice": "Choose a time zone from the list."},
    )


class MailSettingsForm(DeliveryForm):
    def __init__(self, *args, categories: list[Category], **kwargs):
        super().__init__(*args, **kwargs)
        self.categories = categories
        for category in categories:
            self.fields[self._name(category)] = forms.ChoiceField(
                label=category.name, required=False, choices=CATEGORY_LEVELS, initial=category.level,
                error_messages={"invalid_choice": "Choose one of the options for this category."},
            )

    @staticmethod
    def _name(category: Category) -> str:
        return f"category_{category.id}"

    def category_fields(self):
        """(category, bound field) for each category, in the order of the forum."""
        return [(category, self[self._name(category)]) for category in self.categories]

    def category_levels(self) -> dict[Category, str]:
        return {category: self.cleaned_data[self._name(category)] for category in self.categories}


class CommunityTextsForm(forms.Form):
    """The three texts moderators keep (mailer.onboarding), in the order Start here shows them."""

    welcome = forms.CharField(
        label="Welcome, at the top of Start here", max_length=20_000, widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": "Write a few words of welcome: the top of Start here cannot be empty."},
    )
    pledge = forms.CharField(
        label="The confidentiality pledge members agree to", max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 10}),
        error_messages={"required": "Write the pledge: members are asked to agree to it."},
    )
    guidelines = forms.CharField(
        label="The community guidelines (Start here and the guidelines page)", max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 14}),
        error_messages={"required": "Write the guidelines: applicants and members read them."},
    )
