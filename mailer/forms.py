from django import forms

from threads.models import Category, Subscription

from .models import MailPreference
from .preferences import time_zone_choices

# "" follows the member's own mode; "only threads I take part in" is offered for categories (and here they all are).
CATEGORY_LEVELS = [("", "Use my setting"), *Subscription.Level.choices]


class MailSettingsForm(forms.Form):
    mode = forms.ChoiceField(
        choices=MailPreference.Mode.choices, widget=forms.RadioSelect,
        error_messages={"required": "Choose how often list email should come.",
                        "invalid_choice": "Choose one of the five ways to get list email."},
    )
    time_zone = forms.ChoiceField(
        label="Your time zone", required=False, choices=time_zone_choices,
        error_messages={"invalid_choice": "Choose a time zone from the list."},
    )

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
