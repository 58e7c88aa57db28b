from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat

from .attachments import ALLOWED, check_upload
from .models import Category


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        uploads = [upload for upload in (data or []) if upload]
        errors = []
        for upload in uploads:
            super().clean(upload, initial)
            try:
                check_upload(upload)
            except ValidationError as error:
                errors.extend(error.messages)
        if errors:
            raise ValidationError(errors)
        return uploads


class ReplyForm(forms.Form):
    body = forms.CharField(
        label="Your reply",
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=50000,
        help_text="Markdown works: *italic*, **bold**, lists, > quotes. Mention a member with @first.last "
                  "(shown on their posts). Never include client-identifying details.",
    )
    attachments = AttachmentsField(
        required=False,
        label="Attach files (optional)",
        help_text=f"Slides, PDFs, images, Office documents or text, up to "
                  f"{filesizeformat(settings.ATTACHMENT_MAX_BYTES)} each ({ALLOWED}). Files must be chosen "
                  "again if the form is shown with an error.",
    )


class ThreadForm(ReplyForm):
    title = forms.CharField(label="Title", max_length=200)
    category = forms.ModelChoiceField(queryset=Category.objects.none(), empty_label=None)
    field_order = ["category", "title", "body"]

    def __init__(self, *args, categories, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = categories
        self.fields["body"].label = "Your message"
