"""The forms of the resource library's submission and review (threads.resources): a member's submission or edit,
and a moderator's decision."""

import re

from django import forms
from django.conf import settings
from django.http import Http404
from django.template.defaultfilters import filesizeformat

from .attachments import ALLOWED
from .forms import AttachmentsField
from .guard import segments, summary
from .models import Resource, ResourceTopic, Webinar
from .selectors import get_readable_thread

# "123", "#123", or a thread's link, relative or absolute, possibly to one of its posts ("/threads/123/#post-9").
THREAD_REFERENCE = re.compile(r"^\s*#?(\d+)\s*$|/threads/(\d+)(?:/|$|\?|#)")


class ResourceForm(forms.Form):
    title = forms.CharField(label="Title", max_length=200,
                            help_text="As it appears on the guide, handout or recording.")
    description = forms.CharField(
        label="Description", max_length=20000, widget=forms.Textarea(attrs={"rows": 6}),
        help_text="What it is, who it helps and how you have used it. Markdown works: *italic*, **bold**, lists. "
                  "Never include anything that could identify a client.",
    )
    url = forms.URLField(label="Link (optional if you add files)", required=False, max_length=1000,
                         assume_scheme="https", help_text="The address where members can open it, starting https://")
    files = AttachmentsField(
        label="Files (optional if you give a link)", required=False,
        help_text=f"PDFs, slides, Office documents, images or text, up to "
                  f"{filesizeformat(settings.ATTACHMENT_MAX_BYTES)} each ({ALLOWED}). If the form comes back with a "
                  "message, choose the files again.",
    )
    topics = forms.ModelMultipleChoiceField(
        label="Topics", queryset=ResourceTopic.objects.all(), widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one topic, so members can find it."},
    )
    audiences = forms.MultipleChoiceField(
        label="Who is it for?", choices=Resource.Audience.choices, widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one group it would help."},
    )
    language = forms.CharField(label="Language", max_length=40, initial="English",
                               help_text="The language the resource is in, e.g. English, Spanish, Arabic.")
    webinar = forms.ModelChoiceField(label="Webinar it belongs to (optional)", required=False,
                                     queryset=Webinar.objects.order_by("-starts_at"), empty_label="None")
    thread = forms.CharField(label="Thread it belongs to (optional)", required=False, max_length=1000,
                             help_text="Paste the thread's link, or its number.")

    def __init__(self, *args, user, resource: Resource | None = None, moderator_edit: bool = False, **kwargs):
        """`resource`: the one being edited (its current values, and its files to keep or remove).
        `moderator_edit`: a moderator changing someone else's resource says why, for the audit log."""
        if resource is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "title": resource.title, "description": resource.description, "url": resource.url,
                "topics": list(resource.topics.all()), "audiences": resource.audiences,
                "language": resource.language, "webinar": resource.webinar_id,
                "thread": resource.thread.get_absolute_url() if resource.thread_id else "",
            }
        super().__init__(*args, **kwargs)
        self.user, self.resource = user, resource
        if resource is not None and resource.files.all():
            self.fields["remove_files"] = forms.ModelMultipleChoiceField(
                label="Remove files", required=False, queryset=resource.files.all(),
                widget=forms.CheckboxSelectMultiple, help_text="Tick a file to take it off this resource.",
            )
        if moderator_edit:
            self.fields["reason"] = forms.CharField(label="Reason for the change (kept in the audit log)",
                                                    required=False, max_length=500)

    def topic_groups(self) -> list[tuple[str, list]]:
        """The topic checkboxes in two groups, the five Complex Care domains first."""
        boxes = list(self["topics"])
        domains = [box for box in boxes if box.data["value"].instance.complex_care_domain]
        others = [box for box in boxes if not box.data["value"].instance.complex_care_domain]
        return [(label, group) for label, group in
                [("The five Complex Care domains", domains), ("Other topics", others)] if group]

    def clean_thread(self):
        reference = self.cleaned_data["thread"].strip()
        if not reference:
            return None
        match = THREAD_REFERENCE.search(reference)
        try:
            if match is None:
                raise Http404
            return get_readable_thread(self.user, int(match.group(1) or match.group(2)))
        except Http404:
            raise forms.ValidationError("There is no thread with that link or number that you can read. Copy the "
                                        "link from the thread's page, or leave this empty.") from None

    def clean(self):
        cleaned = super().clean()
        kept = self.resource is not None and self.resource.files.exclude(
            pk__in=[file.pk for file in cleaned.get("remove_files", [])]).exists()
        # A refused link or file already says what is wrong with it.
        refused = "url" in self.errors or "files" in self.errors
        if not cleaned.get("url") and not cleaned.get("files") and not kept and not refused:
            raise forms.ValidationError("Add a link or at least one file: the library needs something members "
                                        "can open.")
        return cleaned

    def service_fields(self) -> dict:
        """The cleaned values as threads.resources.submit_resource and update_resource take them."""
        data = self.cleaned_data
        return {"title": data["title"], "description": data["description"], "url": data["url"],
                "files": data["files"], "topics": data["topics"], "audiences": data["audiences"],
                "language": data["language"], "webinar": data["webinar"], "thread": data["thread"]}


class GuardFindings:
    """What the confidentiality guard found in a resource's title and description, for the form to show marked in
    the text (templates/threads/resources/_guard.html)."""

    def __init__(self, findings, text):
        self.summary, self.preview = summary(findings), segments(text, findings)


class ReviewForm(forms.Form):
    APPROVE, CHANGES, REJECT = "approve", "changes", "reject"
    decision = forms.ChoiceField(choices=[(APPROVE, "Approve"), (CHANGES, "Ask for changes"),
                                          (REJECT, "Do not accept")], widget=forms.HiddenInput)
    note = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))

    def clean(self):
        cleaned = super().clean()
        decision, note = cleaned.get("decision"), cleaned.get("note", "").strip()
        if decision == self.CHANGES and not note:
            self.add_error("note", "Say what should change: the member who submitted it reads this.")
        if decision == self.REJECT and not note:
            self.add_error("note", "Say why it is not accepted: the member who submitted it reads this.")
        return cleaned
