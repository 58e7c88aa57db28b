"""Account and membership notices: short emails to one person, or to the moderators, in text and HTML.

Each notice loads what it needs by id and checks it still applies when it runs, since a task may run late.
"""

from email.utils import make_msgid

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from community.access import can_read
from community.eligibility import DOMAIN_VERIFIED, email_domain, is_free_mail
from community.erasure import LINK_MAX_AGE, erasure_link_path
from community.membership import confirmation_path, is_due, pauses_on
from community.models import Application, ErasureRequest, Member
from community.selectors import active_moderators, stale_applications
from threads.anonymity import byline
from threads.models import EConsultation, GuardCheck, Post
from threads.notes import post_text

from . import list_import, onboarding, selectors
from .models import MailPreference, SentNotice
from .outbound import absolute_url, token_generation
from .tokens import make_moderation_address


def notice_message(*, to: str, subject: str, template: str, context: dict,
                   reply_to: list[str] | None = None) -> EmailMultiAlternatives:
    """A notice to one person, in text and HTML from `template`.txt/.html, marked as sent by a machine."""
    context = {"site_url": settings.SITE_URL, **context}
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"{template}.txt", context),
        to=[to],
        reply_to=reply_to,
        headers={"Message-ID": make_msgid(domain=settings.LIST_DOMAIN), "Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    return message


def send_once(*, kind: str, object_id: int, recipients, build) -> None:
    """Send build(member) to each of `recipients` who has not had this notice (kind, object_id) yet, each in a
    transaction holding their SentNotice row: a retry after a partial failure sends to the rest only."""
    with get_connection() as connection:
        for member in recipients:
            with transaction.atomic():
                _, created = SentNotice.objects.get_or_create(kind=kind, object_id=object_id, member=member)
                if not created:  # sent before, or by a concurrent run
                    continue
                # A failed send raises, rolling the row back, and the task retries the rest.
                connection.send_messages([build(member)])


def _answer_address(moderator: Member, decides: tuple[str, int] | None) -> list[str] | None:
    """The moderator's own signed address for answering "approve" or "reject <reason>" by email
    (mailer.inbound), when the notice is about something they can decide: ("application" | "post", its id)."""
    if decides is None:
        return None
    kind, object_id = decides
    return [make_moderation_address(kind=kind, object_id=object_id, member_id=moderator.id,
                                    generation=token_generation(moderator))]


def _send_to_moderators(*, subject: str, template: str, context: dict,
                        decides: tuple[str, int] | None = None) -> None:
    # One message each, so no moderator's address is shown to the others and one bounce stops no one else.
    messages = [
        notice_message(to=moderator.email, subject=subject, template=template, context=context,
                 reply_to=_answer_address(moderator, decides))
        for moderator in active_moderators().select_related("mail_preference")
    ]
    if messages:
        get_connection().send_messages(messages)


def _queue_url(application: Application | None = None) -> str:
    anchor = f"#application-{application.id}" if application else ""
    return f"{settings.SITE_URL}{reverse('moderation_queue')}{anchor}"


def _application(application_id: int) -> Application:
    return Application.objects.select_related("member__user", "organization").get(pk=application_id)


def _evidence_label(application: Application) -> str:
    return "Work email matches" if application.eligibility_result == DOMAIN_VERIFIED else "Needs a manual check"


def send_application_decision(application_id: int) -> None:
    application = _application(application_id)
    if application.status not in (Application.Status.APPROVED, Application.Status.REJECTED):
        return
    approved = application.status == Application.Status.APPROVED
    if approved:
        # Before the welcome names their delivery mode: someone invited from the Google Group keeps theirs.
        list_import.apply_invitation_delivery(application_id)
    preference = MailPreference.objects.filter(member=application.member).first()
    context = {
        "application": application, "member": application.member, "list_address": settings.LIST_ADDRESS,
        "mail_mode": preference.get_mode_display() if preference else MailPreference.Mode.DAILY.label,
    }
    if approved:
        # The same welcome as the Start here page, for members who read by email and may never open it.
        context |= {
            "start_url": absolute_url(reverse("start_here")),
            "settings_url": absolute_url(reverse("mail_settings")),
            "help_url": absolute_url(reverse("mail_help")),
            "new_thread_url": absolute_url(reverse("new_thread")),
            "introductions": onboarding.introductions(),
            "starter": onboarding.starter_list(application.member),
        }
    notice_message(
        to=application.member.email,
        subject="Welcome to HealTalk" if approved else "Your HealTalk application",
        template="mailer/email/decision_approved" if approved else "mailer/email/decision_declined",
        context=context,
    ).send()


def send_new_application_notice(application_id: int) -> None:
    application = _application(application_id)
    if application.status != Application.Status.PENDING:
        return
    organization = application.organization.name if application.organization else application.organization_display
    _send_to_moderators(
        subject=f"New application from {application.member.full_name} ({organization}) — "
                f"{_evidence_label(application)}",
        template="mailer/email/new_application",
        context={"application": application, "evidence_label": _evidence_label(application),
                 "queue_url": _queue_url(application)},
        decides=("application", application.id),
    )


def send_info_request(application_id: int) -> None:
    application = _application(application_id)
    if application.status != Application.Status.INFO_REQUESTED:
        return
    notice_message(
        to=application.member.email,
        subject="A question about your HealTalk application",
        template="mailer/email/info_requested",
        context={"application": application, "member": application.member,
                 "application_url": f"{settings.SITE_URL}{reverse('application_status')}"},
    ).send()


def send_info_answered_notice(application_id: int) -> None:
    application = _application(application_id)
    if application.status != Application.Status.PENDING or not application.info_response:
        return
    _send_to_moderators(
        subject=f"{application.member.full_name} answered your question",
        template="mailer/email/info_answered",
        context={"application": application, "queue_url": _queue_url(application)},
    )


def send_stale_applications_reminder(now=None) -> None:
    now = now or timezone.now()
    applications = list(stale_applications(now))
    if not applications:
        return
    for application in applications:
        application.days_waiting = (now - application.waiting_since).days
    count = len(applications)
    _send_to_moderators(
        subject=f"{count} HealTalk application{'s' if count != 1 else ''} waiting more than 3 days",
        template="mailer/email/stale_applications",
        context={"applications": applications, "queue_url": _queue_url()},
    )


# --- Held posts: a moderator approves them before anyone else sees them ------------------------------------------

def _post_for_notice(post_id: int, **state) -> Post | None:
    return (Post.objects.select_related("author__user", "author__organization", "thread__category", "parent__author")
            .defer("search_vector", "thread__search_vector", "parent__search_vector")
            .filter(pk=post_id, held_at__isnull=False, **state).first())


def _held_context(post: Post) -> dict:
    return {"post": post, "post_url": f"{settings.SITE_URL}{post.get_absolute_url()}",
            "queue_url": f"{settings.SITE_URL}{reverse('held_posts')}#held-{post.id}"}


def send_held_post_notice(post_id: int) -> None:
    """Each moderator gets the post waiting for approval, and can answer it by email."""
    post = _post_for_notice(post_id, deleted_at__isnull=True)
    if post is None:  # decided or deleted before this ran
        return
    _send_to_moderators(
        subject=f"Waiting for approval: {post.author.full_name} in “{post.thread.title}”",
        template="mailer/email/held_post", context=_held_context(post), decides=("post", post.id),
    )


def send_held_post_receipt(post_id: int) -> None:
    """The author hears that their post waits: someone who posted by email would otherwise not know."""
    post = _post_for_notice(post_id, deleted_at__isnull=True)
    if post is None:
        return
    notice_message(
        to=post.author.email, subject=f"Your post in “{post.thread.title}” is waiting for a moderator",
        template="mailer/email/held_post_receipt", context={"member": post.author, **_held_context(post)},
    ).send()


def send_held_post_rejection(post_id: int) -> None:
    """The author of a held post a moderator did not publish hears why, with their text to keep, unless the
    confidentiality guard held it: what it found is not sent back in the clear, neither in the text nor in the
    title."""
    post = _post_for_notice(post_id, deleted_at__isnull=False)
    if post is None:  # restored since: it waits for a moderator again
        return
    guarded = post.guard_checks.filter(outcome=GuardCheck.Outcome.REJECTED).exists()
    notice_message(
        to=post.author.email, template="mailer/email/held_post_rejected",
        subject="Your post was not published" if guarded else f"Your post in “{post.thread.title}” was not published",
        context={"member": post.author, "post": post, "guarded": guarded,
                 "guidelines_url": f"{settings.SITE_URL}{reverse('guidelines')}"},
    ).send()


# --- Keeping membership true: the yearly confirmation and changed details -----------------------------------

def _member(member_id: int) -> Member | None:
    return Member.objects.select_related("user", "organization").filter(pk=member_id).first()


def _confirm_url(member: Member) -> str:
    return f"{settings.SITE_URL}{confirmation_path(member)}"


def send_reverification_reminder(member_id: int, reminder: int) -> None:
    member = _member(member_id)
    if member is None or not is_due(member):  # confirmed, re-checked or gone since the reminder fell due
        return
    notice_message(
        to=member.email,
        subject="Please confirm your HealTalk membership (one click)" if reminder == 1
        else "Reminder: please confirm your HealTalk membership (one click)",
        template="mailer/email/reverify_reminder",
        context={"member": member, "reminder": reminder, "confirm_url": _confirm_url(member),
                 "pause_date": pauses_on(member)},
    ).send()


def send_lapsed_notice(member_id: int) -> None:
    member = _member(member_id)
    if member is None or member.status != Member.Status.LAPSED:
        return
    notice_message(
        to=member.email,
        subject="Your HealTalk membership is paused",
        template="mailer/email/reverify_lapsed",
        context={"member": member, "confirm_url": _confirm_url(member)},
    ).send()


def _why_check_needed(application: Application) -> str:
    """The one reason a member's new details could not be confirmed automatically, in their terms."""
    domain = email_domain(application.work_email)
    organization = application.organization
    if organization is None:
        name = application.organization_name or "your organization"
        return f"{name} is not in our directory of eligible programs yet."
    if is_free_mail(domain):
        return f"{domain} is a personal email provider, so it does not show where you work."
    if not organization.active:
        return f"{organization.name} is not currently listed as an eligible program."
    return f"{domain} is not one of the email domains we know for {organization.name}."


def send_reverification_required(application_id: int) -> None:
    application = _application(application_id)
    if application.kind != Application.Kind.CHANGE or application.status != Application.Status.PENDING:
        return
    notice_message(
        to=application.member.email,
        subject="We are checking your new HealTalk details",
        template="mailer/email/reverify_required",
        context={"application": application, "member": application.member, "reason": _why_check_needed(application),
                 "application_url": f"{settings.SITE_URL}{reverse('application_status')}"},
    ).send()


# --- E-consultations ---------------------------------------------------------------------------------------------

SUMMARY_NOTICE = "econsultation_summary"


def send_econsultation_summary(econsultation_id: int) -> None:
    """The host's summary to every member who gets list mail (not "no email", not paused), like an announcement:
    it is for those who missed the live window as much as for those who took part. Each recipient is sent to in
    a transaction holding their SentNotice row: a retry after a partial failure sends to the rest only."""
    econsultation = (EConsultation.objects.select_related("webinar", "thread", "summarised_by")
                     .filter(pk=econsultation_id, summarised_at__isnull=False).first())
    if econsultation is None:
        return
    context = {
        "econsultation": econsultation, "webinar": econsultation.webinar,
        "page_url": f"{settings.SITE_URL}{reverse('webinar', args=[econsultation.webinar_id])}",
        "thread_url": f"{settings.SITE_URL}{econsultation.thread.get_absolute_url()}",
    }
    already = SentNotice.objects.filter(kind=SUMMARY_NOTICE, object_id=econsultation.id).values("member_id")
    send_once(
        kind=SUMMARY_NOTICE, object_id=econsultation.id,
        recipients=selectors.wanting_notices().exclude(pk__in=already).select_related("user").order_by("pk"),
        build=lambda member: notice_message(
            to=member.email, subject=f"Summary: e-consultation on {econsultation.webinar.title}",
            template="mailer/email/econsultation_summary", context={**context, "member": member},
        ),
    )


# --- Mentions ----------------------------------------------------------------------------------------------------

def send_mention_notice(post_id: int, member_id: int) -> None:
    """A post named the member with @handle. Skipped when they get the post itself by email, chose no email or
    have list mail paused, or when, by the time this runs, they may no longer read it or the post was deleted,
    hidden or held."""
    member = _member(member_id)
    post = (Post.objects.select_related("thread__category", "author__organization").defer("search_vector")
            .filter(pk=post_id).first())
    if member is None or post is None or post.deleted_at or post.hidden_at or not can_read(member.user, post):
        return
    if selectors.still_wants_post(member.id, post.id) or not selectors.wanting_notices().filter(pk=member.id).exists():
        return
    author = byline(post)
    notice_message(
        to=member.email,
        subject=f"{author[:1].upper()}{author[1:]} mentioned you in “{post.thread.title}”",
        template="mailer/email/mention",
        # Like list mail: a web-only post is a link, a noted one comes after its note (threads.notes).
        context={"member": member, "post": post, "post_url": f"{settings.SITE_URL}{post.get_absolute_url()}",
                 "byline": author, "web_only": post.thread.category.web_only, "text": post_text(post)},
    ).send()


# --- Erasure ----------------------------------------------------------------------------------------------------

def send_erasure_request_notice(erasure_request_id: int) -> None:
    """Moderators hear that a request waits; the email does not name the member, since it outlives the erasure in
    their inboxes."""
    request = ErasureRequest.objects.filter(pk=erasure_request_id, status=ErasureRequest.Status.REQUESTED).first()
    if request is None:
        return
    _send_to_moderators(
        subject="A member asks to be erased", template="mailer/email/erasure_requested",
        context={"queue_url": f"{settings.SITE_URL}{reverse('erasure_queue')}", "request": request},
    )


def send_erasure_link(email_address_id: int) -> None:
    """To the address that was typed, which is what shows the request comes from its owner."""
    address = EmailAddress.objects.select_related("user__member").filter(pk=email_address_id).first()
    member = getattr(address.user, "member", None) if address else None
    if member is None or member.status == Member.Status.PLACEHOLDER:
        return
    notice_message(
        to=address.email, subject="Your link to ask for your HealTalk account to be erased",
        template="mailer/email/erasure_link",
        context={"member": member, "link": f"{settings.SITE_URL}{erasure_link_path(address)}",
                 "days": LINK_MAX_AGE.days},
    ).send()


def send_erasure_declined(erasure_request_id: int) -> None:
    request = (ErasureRequest.objects.select_related("member__user")
               .filter(pk=erasure_request_id, status=ErasureRequest.Status.DECLINED, member__isnull=False).first())
    if request is None:
        return
    notice_message(to=request.member.email, subject="Your request to be erased from HealTalk",
             template="mailer/email/erasure_declined", context={"request": request, "member": request.member}).send()


def send_erasure_done(address: str) -> None:
    notice_message(to=address, subject="Your HealTalk account is erased", template="mailer/email/erasure_done",
             context={}).send()
