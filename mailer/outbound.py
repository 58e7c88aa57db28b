"""Outbound list mail: fan-out of a post to the members who get it as it is posted, and its delivery.

A post is rendered once per worker process and reused for every recipient; only the reply address and
the unsubscribe link are spliced in per member.
"""

import secrets
import smtplib
from dataclasses import dataclass
from email.utils import formataddr
from functools import lru_cache

from anymail.exceptions import AnymailRecipientsRefused
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import F
from django.template.defaultfilters import filesizeformat
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from community.models import Member
from threads.anonymity import byline
from threads.models import Post
from threads.notes import post_text

from . import selectors
from .bounces import record_refusal
from .models import OutboundMessage
from .tokens import make_bounce_address, make_reply_address, make_unsubscribe_token


class TransientSendError(Exception):
    """Sending failed in a way a later attempt may not; the task retries with backoff."""


class Stencil:
    """Text and HTML rendered once for many recipients, with named slots filled in per recipient.

    A slot renders as a mark carrying a random nonce, so nothing a member wrote can collide with it.
    """

    def __init__(self, names):
        nonce = secrets.token_hex(8)
        self.marks = {name: f"[[{name}.{nonce}]]" for name in names}
        self.text = self.html = ""

    def render(self, template: str, context: dict) -> "Stencil":
        self.text = render_to_string(f"{template}.txt", context)
        self.html = render_to_string(f"{template}.html", context)
        return self

    def fill(self, values: dict[str, str]) -> tuple[str, str]:
        text, html = self.text, self.html
        for name, mark in self.marks.items():
            text = text.replace(mark, values[name])
            html = html.replace(mark, escape(values[name]))
        return text, html


def absolute_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def token_generation(member: Member) -> int:
    preference = getattr(member, "mail_preference", None)
    return preference.token_generation if preference else 0


def unsubscribe_token(member: Member) -> str:
    return make_unsubscribe_token(member_id=member.id, generation=token_generation(member))


def unsubscribe_url(token: str) -> str:
    return absolute_url(reverse("unsubscribe", args=[token]))


def footer_links() -> dict[str, str]:
    """The pages every list message links to, the same for everyone."""
    return {"settings_url": absolute_url(reverse("mail_settings")), "help_url": absolute_url(reverse("mail_help"))}


def attachment_links(post: Post) -> list[dict]:
    """Attachments travel as links to the download page, which checks the reader may see the post: a file in the
    message would reach whoever the email is forwarded to, and would make list mail heavy."""
    return [{"name": attachment.original_name, "size": filesizeformat(attachment.size),
             "url": absolute_url(reverse("attachment", args=[attachment.id, attachment.original_name]))}
            for attachment in post.attachments.all()]


def list_headers(archive_url: str, unsubscribe_url: str, token: str) -> dict[str, str]:
    """What every list message carries, so mail clients offer unsubscribe and filters recognise the list.
    No Auto-Submitted: a member's post is not automatic mail, and vacation responders and filters that drop
    auto-submitted mail would treat list traffic as machine noise (RFC 3834 leaves lists to Precedence)."""
    return {
        "List-Id": f"{settings.LIST_NAME} <{settings.LIST_ID}>",
        "List-Post": f"<mailto:{settings.LIST_ADDRESS}>",
        "List-Archive": f"<{archive_url}>",
        "List-Help": f"<{footer_links()['help_url']}>",
        "List-Unsubscribe": f"<{unsubscribe_url}>, <mailto:unsubscribe@{settings.LIST_DOMAIN}?subject={token}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "Precedence": "list",
        "X-Auto-Response-Suppress": "OOF, AutoReply",
        "Sender": settings.LIST_ADDRESS,
    }


def list_message(*, member: Member, from_header: str, subject: str, text: str, html: str, headers: dict[str, str],
                 reply_to: str | None = None) -> EmailMultiAlternatives:
    """One list message to one member. Its envelope sender is the member's own bounce address (VERP), so a
    bounce names whom it is about; the From header stays the list's. Django's SMTP backend and anymail both
    take `from_email` as the envelope sender when a From header is given."""
    from_email, headers = from_header, dict(headers)
    if settings.LIST_VERP:
        from_email = make_bounce_address(member_id=member.id, generation=token_generation(member))
        headers["From"] = from_header
    message = EmailMultiAlternatives(subject=subject, body=text, from_email=from_email, to=[member.email],
                                     reply_to=[reply_to] if reply_to else None, headers=headers)
    message.attach_alternative(html, "text/html")
    return message


def subject_for(post: Post) -> str:
    subject = f"[{settings.LIST_NAME}] {post.thread.title}"
    return f"Re: {subject}" if post.parent_id else subject


@dataclass(frozen=True)
class PostMail:
    subject: str
    from_header: str
    thread_url: str
    headers: dict[str, str]
    body: Stencil


def post_mail(post_id: int) -> PostMail:
    # An edit changes edited_at, so the rendering is cached per version: messages delivered after an edit carry
    # the new text (edits happen in the web process, so no signal could clear this worker's cache).
    return _post_mail(post_id, selectors.post_edited_at(post_id))


@lru_cache(maxsize=64)
def _post_mail(post_id: int, edited_at) -> PostMail:
    post = selectors.post_for_mail(post_id)
    thread_url = absolute_url(post.thread.get_absolute_url())
    headers = {"Message-ID": post.message_id}
    ancestors = selectors.ancestor_message_ids(post)
    if ancestors:
        headers["In-Reply-To"] = ancestors[-1]
        headers["References"] = " ".join(ancestors)
    body = Stencil(["unsubscribe_url"])
    web_only = post.thread.category.web_only
    body.render("mailer/email/post", {
        "post": post, "thread": post.thread, "post_url": absolute_url(post.get_absolute_url()),
        "thread_url": thread_url, "slot": body.marks, "list_name": settings.LIST_NAME, **footer_links(),
        "byline": byline(post), "web_only": web_only,
        # A web-only category's posts travel as title, author and link: no body, excerpt or attachment links.
        **({} if web_only else {"text": post_text(post), "attachments": attachment_links(post)}),
    })
    return PostMail(
        subject=subject_for(post),
        # The list sends in the author's name from its own address: mail that claims to come from the
        # author's domain would fail their DMARC policy at every recipient. An anonymous post names nobody.
        from_header=formataddr((f"{'A member' if post.anonymous else post.author.full_name} via {settings.LIST_NAME}",
                                settings.LIST_ADDRESS)),
        thread_url=thread_url,
        headers=headers,
        body=body,
    )


def build_post_message(post_id: int, member: Member) -> EmailMultiAlternatives:
    mail = post_mail(post_id)
    token = unsubscribe_token(member)
    unsubscribe = unsubscribe_url(token)
    text, html = mail.body.fill({"unsubscribe_url": unsubscribe})
    return list_message(
        member=member, from_header=mail.from_header, subject=mail.subject, text=text, html=html,
        headers={**mail.headers, **list_headers(mail.thread_url, unsubscribe, token)},
        reply_to=make_reply_address(post_id=post_id, member_id=member.id, generation=token_generation(member)),
    )


def fan_out_post(post_id: int) -> None:
    from . import tasks  # tasks imports this module

    post = Post.objects.filter(pk=post_id).first()
    if post is None:
        return
    OutboundMessage.objects.bulk_create(
        [OutboundMessage(post_id=post_id, member_id=member_id)
         for member_id in selectors.each_message_recipient_ids(post)],
        ignore_conflicts=True,  # a duplicated fan-out task finds the rows already there
    )
    for outbound_id in selectors.pending_outbound_ids(post_id):
        tasks.deliver_outbound.delay(outbound_id)


def refusal(error: Exception) -> str:
    """Why the receiving side refused this message for good ("" when a later attempt may succeed): a 5xx answer
    to the recipient or to the message, or an ESP that rejected the address. Another try would only be refused
    again, and some providers count repeated attempts against our reputation."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        answers = list(error.recipients.values())
        if answers and all(code >= 500 for code, _ in answers):
            return "; ".join(f"{code} {_text(answer)}" for code, answer in answers)
    elif isinstance(error, smtplib.SMTPDataError) and error.smtp_code >= 500:
        return f"{error.smtp_code} {_text(error.smtp_error)}"
    elif isinstance(error, AnymailRecipientsRefused):
        return str(error)
    return ""


def refuses_the_address(error: Exception) -> bool:
    """A refusal that is about the recipient's address, not about us or the message: an ESP that will not send
    to it (invalid, or suppressed after bounces), or every recipient answered 5.1.x (no such mailbox or domain)
    or 5.2.1 (mailbox disabled). "550 5.7.1 Relaying denied" or a spam verdict must not pause anyone: a
    misconfigured relay would otherwise pause the whole list."""
    if isinstance(error, AnymailRecipientsRefused):
        return True
    if not isinstance(error, smtplib.SMTPRecipientsRefused) or not error.recipients:
        return False
    return all(code >= 500 and _text(answer).lstrip().startswith(("5.1.", "5.2.1"))
               for code, answer in error.recipients.values())


def pause_if_address_refused(member_id: int, address: str, error: Exception) -> None:
    """For every sender of list mail (posts and digests): the member's list mail pauses as for a hard bounce."""
    if refuses_the_address(error):
        record_refusal(member_id, address, refusal(error))


def _text(answer) -> str:
    return answer.decode(errors="replace") if isinstance(answer, bytes) else str(answer)


def deliver_outbound(outbound_id: int) -> None:
    """Send one row at most once: the row stays locked while its message is handed to the mail server,
    so a duplicated task waits, then finds it sent.

    One window remains, as in every mail system that records what it sent: after the mail server has taken the
    message (its 250 at the end of DATA) and before our commit. A worker killed there leaves the row pending, and
    the task's redelivery sends the message a second time. A death before the 250 is retried (the server did not
    take the message); after the commit, the row is sent and skipped (tests/mailer/test_worker.py)."""
    error = None
    with transaction.atomic():
        row = selectors.lock_pending_outbound(outbound_id)
        if row is None:
            return
        # Membership and preferences can change between fan-out and delivery (a suspension, an
        # unsubscribe click); list mail must never reach someone who may no longer read it.
        if not selectors.still_wants_post(row.member_id, row.post_id):
            OutboundMessage.objects.filter(pk=row.pk).update(status=OutboundMessage.Status.SKIPPED)
            return
        message = build_post_message(row.post_id, row.member)
        try:
            with get_connection() as connection:
                connection.send_messages([message])
        except Exception as exc:  # noqa: BLE001  (SMTP, network and ESP errors alike: retried, then FAILED)
            reason = refusal(exc)
            changes = {"attempts": F("attempts") + 1, "last_error": f"{type(exc).__name__}: {exc}"}
            if reason:
                changes.update(status=OutboundMessage.Status.FAILED, last_error=f"Refused for good: {reason}")
                pause_if_address_refused(row.member_id, row.member.email, exc)
            else:
                error = exc
            OutboundMessage.objects.filter(pk=row.pk).update(**changes)
        else:
            OutboundMessage.objects.filter(pk=row.pk).update(
                status=OutboundMessage.Status.SENT, attempts=F("attempts") + 1, sent_at=timezone.now()
            )
    if error is not None:
        raise TransientSendError(str(error)) from error


def mark_failed(outbound_id: int) -> None:
    OutboundMessage.objects.filter(pk=outbound_id, status=OutboundMessage.Status.PENDING).update(
        status=OutboundMessage.Status.FAILED
    )
