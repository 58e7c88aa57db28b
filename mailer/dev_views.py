"""Development mailbox at /dev/mail/: what the site would have sent, and a way to answer a message as its
recipient would, through the same inbound path as real mail."""

import email
from email import policy
from email.message import EmailMessage as MimeMessage
from email.utils import formatdate, getaddresses, make_msgid, parseaddr

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from community.access import can_moderate

from .inbound import receive_raw
from .models import CapturedEmail


class ReplyForm(forms.Form):
    body = forms.CharField(label="Your reply", widget=forms.Textarea(attrs={"rows": 8}))


def _require_mail_reader(request) -> None:
    if not (request.user.is_staff or can_moderate(request.user)):
        raise Http404


def _parse(captured: CapturedEmail) -> MimeMessage:
    # Captured mail may carry 8-bit UTF-8 bodies; parsing the bytes decodes them by their declared charset.
    return email.message_from_bytes(captured.raw.encode("utf-8"), policy=policy.default)


def _body(message: MimeMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    return part.get_content() if part is not None else ""


def build_reply(captured: CapturedEmail, body: str) -> tuple[bytes, str]:
    """An RFC 822 reply from the captured message's first recipient, as a mail client would write it;
    returns the message and the address it goes to."""
    original = _parse(captured)
    to_address = parseaddr(str(original.get("Reply-To") or original.get("From") or ""))[1]
    subject = str(original.get("Subject", ""))
    quoted = "\n".join(f"> {line}" if line else ">" for line in _body(original, "plain").splitlines())
    reply = MimeMessage(policy=policy.default)
    reply["From"] = getaddresses([captured.recipients])[0][1]
    reply["To"] = to_address
    reply["Subject"] = subject if subject.lower().startswith("re:") else f"Re: {subject}"
    reply["Date"] = formatdate(localtime=True)
    reply["Message-ID"] = make_msgid(domain="dev-mailbox.invalid")
    original_id = str(original.get("Message-ID", "")).strip()
    if original_id:
        reply["In-Reply-To"] = original_id
        reply["References"] = f"{original.get('References', '')} {original_id}".strip()
    reply.set_content(f"{body}\n\nOn {original.get('Date', captured.created_at)}, {original.get('From', '')} wrote:\n"
                      f"{quoted}\n")
    return reply.as_bytes(), to_address


def mailbox(request):
    _require_mail_reader(request)
    return render(request, "mailer/dev_mailbox.html", {"emails": CapturedEmail.objects.defer("raw")[:200]})


def _render_detail(request, captured: CapturedEmail, form: ReplyForm):
    message = _parse(captured)
    return render(request, "mailer/dev_mail_detail.html", {
        "captured": captured,
        "headers": [(name, str(value)) for name, value in message.items()],
        "text": _body(message, "plain"),
        "html": _body(message, "html"),
        "form": form,
    })


def detail(request, email_id):
    _require_mail_reader(request)
    return _render_detail(request, get_object_or_404(CapturedEmail, pk=email_id), ReplyForm())


@require_POST
def reply(request, email_id):
    _require_mail_reader(request)
    captured = get_object_or_404(CapturedEmail, pk=email_id)
    form = ReplyForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, captured, form)
    raw, to_address = build_reply(captured, form.cleaned_data["body"])
    inbound = receive_raw(raw, envelope_recipient=to_address)
    messages.success(
        request,
        f"Your reply went to {to_address} as inbound message {inbound.id}, the same way real mail arrives. "
        "If it is refused, the explanation will appear in this mailbox.",
    )
    return redirect("dev_mail_detail", email_id=captured.id)
