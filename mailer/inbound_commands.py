"""Mail that asks for something rather than posting: the List-Unsubscribe mailto, and a moderator's "approve" or
"reject <reason>" answered to the notice about an application or a held post. Each answer goes to the member's own
address, never to whoever sent the message."""

import re
from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse

from community.access import can_moderate
from community.models import Application, Member
from community.services import ModerationError, approve_application, reject_application
from threads.models import Post
from threads.moderation import ThreadModerationError, approve_held_post, reject_held_post

from .inbound import Outcome, Rejection, verified_addresses
from .inbound_text import reply_text
from .models import InboundMessage, MailPreference
from .outbound import absolute_url
from .preferences import current_token_generation, member_for_unsubscribe_token, set_mail_mode
from .tokens import InvalidToken, parse_moderation_address

Status = InboundMessage.Status

# Unsubscribe


def unsubscribe(inbound: InboundMessage, message, *, automated: bool) -> Outcome:
    """The token is the subject (mailer.outbound.list_headers); a mail client may put "Re:" before it."""
    member, error = None, "There was no unsubscribe code in the subject."
    for candidate in dict.fromkeys([inbound.subject.strip(), *inbound.subject.split()]):
        try:
            member = member_for_unsubscribe_token(candidate)
            break
        except InvalidToken as invalid:
            error = str(invalid)
    if member is None:
        if automated:
            return Outcome(Status.IGNORED, f"Automated unsubscribe request without a valid token: {error}")
        raise Rejection(f"{error} To stop list email, use the unsubscribe link in a recent message, or choose "
                        f"“no email” on {absolute_url(reverse('mail_settings'))}.", "Unsubscribe by email")
    already = MailPreference.objects.filter(member=member, mode=MailPreference.Mode.NONE).exists()
    set_mail_mode(member, MailPreference.Mode.NONE)
    if already:  # a second request changes nothing, and asks for no second confirmation
        return Outcome(Status.HANDLED, f"Unsubscribed member {member.pk} already.")
    return Outcome(
        Status.HANDLED, f"Unsubscribed member {member.pk}.", notice_to=member,
        notice_subject=f"You will no longer get {settings.LIST_NAME} by email",
        notice_text=(
            f"As asked by email to {inbound.recipient or 'our unsubscribe address'}, you will no longer get messages "
            f"or digests from {settings.LIST_NAME} by email. You can still read and post on the website. To get "
            f"email again, choose how on {absolute_url(reverse('mail_settings'))}."
        ),
    )


# Moderation

_WORDS_THAT_WORK = (
    "Reply with one of these words at the start of your answer:\n\n"
    "- approve\n"
    "- reject, followed by the reason, which is sent to the {whom} (for example: reject {example})"
)


def moderate(inbound: InboundMessage, message, address: str) -> Outcome:
    try:
        target = parse_moderation_address(address, current_token_generation)
    except InvalidToken as error:
        raise Rejection(f"{error} Please decide on the website, or answer a more recent notice.", address) from None
    moderator = Member.objects.select_related("user").get(pk=target.member_id)
    if inbound.sender not in verified_addresses(moderator):
        raise Rejection(
            "It came from an address other than the one the notice was sent to. Please answer from that address, "
            "or decide on the website.", f"Moderation address of member {moderator.pk}")
    if not can_moderate(moderator.user):
        raise Rejection("Only moderators decide on applications and held posts, and you are not a moderator at the "
                        "moment. Nothing was changed.", f"Member {moderator.pk}")
    command, reason = _command(reply_text(message))
    decide = _decide_application if target.kind == "application" else _decide_post
    answer = decide(target.object_id, moderator, command, reason)
    return Outcome(Status.HANDLED if answer.done else Status.REJECTED, answer.line, notice_to=moderator,
                   notice_subject=answer.subject, notice_text=answer.line)


def _command(words: str) -> tuple[str | None, str]:
    """("approve" | "reject" | None, the reason after "reject")."""
    match = re.match(r"\s*(approve|reject)\b[\s:,.!-]*(.*)", words, re.IGNORECASE | re.DOTALL)
    if match is None:
        return None, ""
    return match[1].lower(), match[2].strip()


@dataclass(frozen=True)
class _Answer:
    subject: str
    line: str  # what was done, or why nothing was
    done: bool = True


def _not_understood(whom: str, example: str, what: str) -> _Answer:
    return _Answer(f"Not understood: nothing was done about {what}",
                   f"Nothing was done about {what}. " + _WORDS_THAT_WORK.format(whom=whom, example=example),
                   done=False)


def _decide_application(application_id: int, moderator: Member, command: str | None, reason: str) -> _Answer:
    application = Application.objects.select_related("member", "organization").filter(pk=application_id).first()
    if application is None:
        return _Answer("Application not found", "This application is no longer on the website.", done=False)
    who = f"the application of {application.member.full_name} ({application.organization_display})"
    if command is None:
        return _not_understood("applicant", "we could not confirm your organization", who)
    if command == "reject" and not reason:
        return _Answer(f"Not rejected: {application.member.full_name}",
                       f"Nothing was done about {who}: write the reason after “reject”; the applicant reads it.",
                       done=False)
    try:
        if command == "approve":
            approve_application(application, moderator)
        else:
            reject_application(application, moderator, reason)
    except ModerationError:
        application.refresh_from_db()
        return _Answer(f"Already decided: {application.member.full_name}",
                       f"Nothing was changed: {who} was already decided ({application.get_status_display()}).",
                       done=False)
    if command == "approve":
        return _Answer(f"Approved: {application.member.full_name}", f"Approved {who}; they are told by email.")
    return _Answer(f"Rejected: {application.member.full_name}",
                   f"Rejected {who}, with your reason: “{reason}”. They are told by email.")


def _decide_post(post_id: int, moderator: Member, command: str | None, reason: str) -> _Answer:
    post = Post.objects.select_related("thread", "author").filter(pk=post_id).first()
    if post is None:
        return _Answer("Post not found", "This post is no longer on the website.", done=False)
    what = f"the post by {post.author.full_name} in “{post.thread.title}”"
    if command is None:
        return _not_understood("author", "please remove the client's name", what)
    if command == "reject" and not reason:
        return _Answer(f"Not rejected: {post.thread.title}",
                       f"Nothing was done about {what}: write the reason after “reject”; the author reads it.",
                       done=False)
    try:
        if command == "approve":
            approve_held_post(post, moderator)
        else:
            reject_held_post(post, moderator, reason)
    except ThreadModerationError as error:
        return _Answer(f"Already decided: {post.thread.title}", f"Nothing was changed about {what}: {error}",
                       done=False)
    if command == "approve":
        return _Answer(f"Published: {post.thread.title}", f"Published {what}: {absolute_url(post.get_absolute_url())}")
    return _Answer(f"Not published: {post.thread.title}",
                   f"Rejected {what}, with your reason: “{reason}”. The author is told by email.")
