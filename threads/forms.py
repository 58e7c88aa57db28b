from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat

from .attachments import ALLOWED, check_upload
from .models import Category
from .notes import COMMON_NOTES, OWN_WORDS, note_choice


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


class ContentNoteFields(forms.Form):
    """A note before the whole post: one of the common ones, or the author's own words. The form's
    cleaned_data["content_note"] is the note to store ("" for none)."""

    content_note_choice = forms.ChoiceField(
        label="Content note (optional)", required=False,
        choices=[("", "No content note"), *((note, note.capitalize()) for note in COMMON_NOTES),
                 (OWN_WORDS, "Something else, in my own words (below)")],
        help_text="Readers see the note first and open the post when they are ready; email puts the note before a "
                  "clear break. For only part of a post, write “::: note” and your words on a line before that "
                  "part and “:::” on a line after it.",
    )
    content_note_words = forms.CharField(label="Content note in your own words", required=False, max_length=200)

    def __init__(self, *args, content_note: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        choice, words = note_choice(content_note)
        self.fields["content_note_choice"].initial = choice
        self.fields["content_note_words"].initial = words

    def clean(self):
        cleaned = super().clean()
        choice, words = cleaned.get("content_note_choice", ""), cleaned.get("content_note_words", "").strip()
        if choice == OWN_WORDS and not words:
            self.add_error("content_note_words", "Write the content note, or choose one of the notes above.")
        cleaned["content_note"] = words if choice == OWN_WORDS else choice
        return cleaned


ANONYMOUS_HELP = ("Members see “a member” with your kind of work and region (set on your profile) instead of your "
                  "name, on the website and in email. Moderators can still see that you wrote it.")


class ReplyForm(ContentNoteFields):
    body = forms.CharField(
        label="Your reply",
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=50000,
        help_text="Markdown works: *italic*, **bold**, lists, > quotes. Mention a member with @first.last "
                  "(shown on their posts). Cite a library resource by pasting its link. Never include "
                  "client-identifying details.",
    )
    attachments = AttachmentsField(
        required=False,
        label="Attach files (optional)",
        help_text=f"Slides, PDFs, images, Office documents or text, up to "
                  f"{filesizeformat(settings.ATTACHMENT_MAX_BYTES)} each ({ALLOWED}). Files must be chosen "
                  "again if the form is shown with an error.",
    )
    anonymous = forms.BooleanField(label="Post anonymously", required=False, help_text=ANONYMOUS_HELP)
    field_order = ["body", "content_note_choice", "content_note_words", "anonymous", "attachments"]

    def __init__(self, *args, anonymity: bool = False, **kwargs):
        """`anonymity`: whether the thread's category allows anonymous posts (the checkbox is offered only then)."""
        super().__init__(*args, **kwargs)
        if not anonymity:
            del self.fields["anonymous"]


class ThreadForm(ReplyForm):
    title = forms.CharField(label="Title", max_length=200)
    category = forms.ModelChoiceField(queryset=Category.objects.none(), empty_label=None)
    field_order = ["category", "title", "body", "content_note_choice", "content_note_words", "anonymous"]

    def __init__(self, *args, categories, **kwargs):
        anonymous_in = [category.name for category in categories if category.allow_anonymous]
        super().__init__(*args, anonymity=bool(anonymous_in), **kwargs)
        self.fields["category"].queryset = categories
        self.fields["body"].label = "Your message"
        if anonymous_in:
            self.fields["anonymous"].help_text = f"Only in {', '.join(anonymous_in)}. {ANONYMOUS_HELP}"

    def clean(self):
        cleaned = super().clean()
        category = cleaned.get("category")
        if cleaned.get("anonymous") and category and not category.allow_anonymous:
            self.add_error("anonymous", f"Posts in “{category.name}” cannot be anonymous. Untick the box or "
                                        "choose another category.")
        return cleaned
