"""The confidentiality guard on the web: the part of a posting form that answers a stop (threads/_guard_check.html),
and the one helper every posting view calls (new thread, reply, live room, question, edit)."""

from collections.abc import Callable
from typing import TypeVar

from django import forms

from .guard import NeedsConfirmation, segments, summary
from .guard_checks import Confirmation, checked_text, findings_of, text_digest
from .models import GuardCheck, Post

T = TypeVar("T")


class GuardForm(forms.Form):
    """Hidden until the guard stops a post; then it shows what was found in the author's text and asks: edit, or
    tick "This is not client information" and say why."""

    prefix = "guard"
    check = forms.IntegerField(required=False, widget=forms.HiddenInput)
    checked = forms.CharField(required=False, widget=forms.HiddenInput, max_length=64)
    confirmed = forms.BooleanField(required=False, label="This is not client information")
    reason = forms.CharField(
        required=False, max_length=1000, label="Why not? (required when you tick the box)",
        help_text="For example: “an example I made up”, “the hotline's number”, “my own details”. The moderators "
                  "see your reason and what kind of thing was found, not your text.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, findings=(), text="", changed=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.findings, self.preview = list(findings), segments(text, list(findings))
        self.summary = summary(self.findings) if self.findings else ""
        self.changed = changed  # the author ticked the box, then changed the text: it was checked again

    def confirmation(self) -> Confirmation | None:
        """The author's answer to the stop this form showed, for the service; None before any stop."""
        if not self.is_bound or not self.is_valid() or self.cleaned_data["check"] is None:
            return None
        data = self.cleaned_data
        return Confirmation(check_id=data["check"], reason=data["reason"] if data["confirmed"] else "",
                            checked=data["checked"])

    @classmethod
    def after_stop(cls, stop: NeedsConfirmation, answered: "GuardForm") -> "GuardForm":
        """What the author sees after the service stopped their post: the findings marked in their text, their
        reason kept, and the box still ticked only if it answered this very text; half an answer (a tick without
        a reason, a reason without a tick) says what is missing, so nobody goes round in circles."""
        earlier = answered.cleaned_data if answered.is_bound and answered.is_valid() else {}
        same_text = earlier.get("checked") == text_digest(stop.text)
        ticked, reason = bool(earlier.get("confirmed")), earlier.get("reason", "")
        data = {"guard-check": stop.check_id, "guard-checked": text_digest(stop.text), "guard-reason": reason}
        if ticked and same_text:
            data["guard-confirmed"] = "on"
        form = cls(data=data, findings=stop.findings, text=stop.text, changed=ticked and not same_text)
        if same_text and ticked and not reason.strip():
            form.full_clean()
            form.add_error("reason", "Say in a few words why this is not client information: the moderators "
                                     "read it.")
        elif same_text and reason.strip() and not ticked:
            form.full_clean()
            form.add_error("confirmed", "Tick this box as well to post it with your reason, or edit the text.")
        return form

    @classmethod
    def for_held_post(cls, post: Post, check: GuardCheck) -> "GuardForm":
        """The edit page of an emailed post the guard held: what it found, before the author does anything."""
        text = checked_text(post)
        return cls(data={"guard-check": check.id, "guard-checked": text_digest(text)},
                   findings=findings_of(check), text=text)


def guarded(guard_form: GuardForm, post: Callable[[Confirmation | None], T]) -> tuple[T | None, GuardForm]:
    """Runs `post` (a service call) with the author's answer to an earlier stop. When the guard stops it: None,
    and the guard form to show with the rest of the form as it was typed."""
    try:
        return post(guard_form.confirmation()), guard_form
    except NeedsConfirmation as stop:
        return None, GuardForm.after_stop(stop, guard_form)
