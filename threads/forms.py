from django import forms

from .models import Category


class ReplyForm(forms.Form):
    body = forms.CharField(
        label="Your reply",
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=50000,
        help_text="Markdown works: *italic*, **bold**, lists, > quotes. Never include client-identifying details.",
    )


class ThreadForm(ReplyForm):
    title = forms.CharField(label="Title", max_length=200)
    category = forms.ModelChoiceField(queryset=Category.objects.none(), empty_label=None)
    field_order = ["category", "title", "body"]

    def __init__(self, *args, categories, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = categories
        self.fields["body"].label = "Your message"
