"""Erasing a member who asked for it: the one service, carry_out_erasure, called when a moderator confirms.

It lives in mailer because it touches all three apps (dependencies point mailer → threads → community) and runs in
one transaction: mail first (erase_mail_data, below), then threads.erasure.erase_thread_data (posts move to the
"Former member" placeholder, quotes and mentions lose the name), then community.erasure.erase_account (the account
itself, last, once nothing points at it) and community.erasure.record_erasure. Anything failing undoes it all.

List mail they sent is no longer attributed: the stored copies of their own emails are emptied (a raw email carries
signatures, phone numbers and headers no scrubbing finds reliably; their posts keep the words); originals of their
posts imported from the Google Group, and other people's emails that quote them, have their names and addresses
replaced in every header and text part.
"""

import email
from dataclasses import dataclass, replace
from email import policy
from email.errors import MessageError
from functools import partial

from django.db import transaction
from django.db.models import Q

from community.erasure import Redactor, erase_account, lock_for_erasure, record_erasure, redactor_for
from community.models import Member
from community.placeholders import FORMER_MEMBER_EMAIL
from threads.erasure import erase_thread_data, mention_handles

from .models import (
    CapturedEmail,
    DeliveryEvent,
    DigestLog,
    ImportedMessage,
    InboundMessage,
    ListInvitation,
    MailPreference,
    OutboundMessage,
    SentNotice,
)


@dataclass(frozen=True)
class ErasureSummary:
    """For the moderator: what went, and what stays without naming them (label → how many)."""

    removed: dict[str, int]
    kept: dict[str, int]


def carry_out_erasure(request_id: int, moderator: Member) -> ErasureSummary:
    with transaction.atomic():
        request = lock_for_erasure(request_id, moderator)
        member = request.member
        address = member.user.email
        redactor = _redactor(member)
        mail_removed, mail_kept = erase_mail_data(member, redactor)
        thread_removed, thread_kept = erase_thread_data(member, redactor)
        account_removed, account_kept = erase_account(member, redactor)
        record_erasure(request, moderator)
        # Their address is gone from the database by now; the confirmation carries it in the task itself.
        transaction.on_commit(partial(_enqueue_erasure_done, address))
    return ErasureSummary(removed={**account_removed, **mail_removed, **thread_removed},
                          kept={**thread_kept, **mail_kept, **account_kept})


def _enqueue_erasure_done(address: str) -> None:
    from . import tasks  # tasks imports the modules that import this one

    tasks.send_erasure_done.delay(address)


def _redactor(member: Member) -> Redactor:
    base = redactor_for(member, handles=mention_handles(member))
    # The name the Google Group archive gave them, when it is a full name (a single word would take out every
    # other Dana as well).
    archive_names = {
        name.strip() for name in ListInvitation.objects.filter(_address_in("email", base.addresses)
                                                               | Q(claimed_by=member)).values_list("name", flat=True)
        if len(name.split()) >= 2
    }
    return replace(base, names=tuple(sorted({*base.names, *archive_names})))


def _address_in(field: str, addresses) -> Q:
    query = Q(pk__in=[])
    for address in addresses:
        query |= Q(**{f"{field}__iexact": address})
    return query


def scrub_message(raw: str, redactor: Redactor) -> str:
    """The email with the person taken out of every header and text part (decoded first, so encoded names and
    quoted-printable or base64 text are found too); attachments are left as they are."""
    scrub = partial(redactor.scrub, address=FORMER_MEMBER_EMAIL)
    try:
        message = email.message_from_string(raw, policy=policy.default)
        for name in {name for name, value in message.items() if scrub(str(value)) != str(value)}:
            values = [scrub(str(value)) for value in message.get_all(name)]
            del message[name]
            for value in values:
                message[name] = value
        for part in message.walk():
            if part.is_multipart() or part.get_content_maintype() != "text":
                continue
            text = part.get_content()
            if scrub(text) != text:
                part.set_content(scrub(text), subtype=part.get_content_subtype())
        return message.as_string()
    except (LookupError, ValueError, TypeError, MessageError):
        # A message the email package cannot rewrite (unknown charset, broken structure): its text as stored.
        return scrub(raw)


def erase_mail_data(member: Member, redactor: Redactor) -> tuple[dict[str, int], dict[str, int]]:
    """Returns (what was removed, what stays but no longer names them)."""
    own = list(InboundMessage.objects.filter(_address_in("sender", redactor.addresses) | Q(post__author=member))
               .only("id", "subject", "note", "status"))
    for inbound in own:
        inbound.raw, inbound.sender = "", ""
        inbound.subject, inbound.note = redactor.scrub(inbound.subject), redactor.scrub(inbound.note)
        if inbound.status == InboundMessage.Status.RECEIVED:  # nothing left to process
            inbound.status, inbound.note = InboundMessage.Status.IGNORED, "The sender was erased before it was read."
    InboundMessage.objects.bulk_update(own, ["raw", "sender", "subject", "note", "status"], batch_size=200)

    # Replies to their posts and posts naming them, whatever their encoding; any other email that has one of their
    # names or addresses in its stored text.
    quotes_them = Q(post__parent__author=member) | Q(post__mentions__member=member)
    quoting = list(InboundMessage.objects.exclude(pk__in=[inbound.pk for inbound in own])
                   .filter(quotes_them | redactor.mentioned_in("raw") | redactor.mentioned_in("subject")
                           | redactor.mentioned_in("note"))
                   .distinct().only("id", "raw", "subject", "note"))
    for inbound in quoting:
        inbound.raw = scrub_message(inbound.raw, redactor)
        inbound.subject, inbound.note = redactor.scrub(inbound.subject), redactor.scrub(inbound.note)
    InboundMessage.objects.bulk_update(quoting, ["raw", "subject", "note"], batch_size=200)

    originals = list(ImportedMessage.objects.filter(Q(post__author=member) | quotes_them
                                                    | redactor.mentioned_in("raw"))
                     .distinct().only("id", "raw", "post_id"))
    for original in originals:
        original.raw = scrub_message(original.raw, redactor)
    ImportedMessage.objects.bulk_update(originals, ["raw"], batch_size=200)

    removed = {
        "list mail sent to them (delivery records)": OutboundMessage.objects.filter(member=member).delete()[0],
        "digests sent to them (records)": DigestLog.objects.filter(member=member).delete()[0],
        "other notices sent to them (records)": SentNotice.objects.filter(member=member).delete()[0],
        "mail settings": MailPreference.objects.filter(member=member).delete()[0],
        "bounce and delivery reports about their address": DeliveryEvent.objects.filter(
            Q(member=member) | _address_in("recipient", redactor.addresses)).delete()[0],
        "Google Group invitations and member-list entries": ListInvitation.objects.filter(
            _address_in("email", redactor.addresses) | Q(claimed_by=member)).delete()[0],
        "captured development mail to them": CapturedEmail.objects.filter(
            _contains_any("recipients", redactor.addresses)).delete()[0],
    }
    kept = {
        "emails they sent to the list, emptied (sender and text)": len(own),
        "emails from others that quoted them, name taken out": len(quoting),
        "Google Group originals, name and address taken out": len(originals),
    }
    return removed, kept


def _contains_any(field: str, values) -> Q:
    query = Q(pk__in=[])
    for value in values:
        query |= Q(**{f"{field}__icontains": value})
    return query
