"""Webinars and their e-consultations: what the events pages read, and what hosts and moderators do."""

from datetime import timedelta
from functools import partial
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Prefetch, Q
from django.http import Http404
from django.utils import dateformat, timezone

from community.access import can_moderate, can_read, member_of
from community.models import AuditRecord, Member

from .events import econsultation_summarised
from .guard_checks import Confirmation
from .markdown import render_markdown
from .models import Category, EConsultation, Post, Presenter, Webinar
from .services import PostingNotAllowed, create_reply, create_thread

ECONSULTATIONS_CATEGORY = "E-consultations"
# The e-consultation follows the webinar by a week, so people have watched it and gathered their cases.
LIVE_AFTER_WEBINAR = timedelta(days=7)
DEFAULT_LIVE_LENGTH = timedelta(minutes=90)
QUESTION_STATES = (EConsultation.OPEN, EConsultation.LIVE)
SUMMARY_STATES = (EConsultation.CLOSED, EConsultation.SUMMARISED)


class NotAHost(Exception):
    pass


# --- Selectors -------------------------------------------------------------------------------------------------

def _webinars():
    return Webinar.objects.select_related("econsultation__thread")


def events(user, now=None):
    """(upcoming, past): a webinar stays upcoming until it is over and so is its e-consultation's live window."""
    if not can_read(user):
        return Webinar.objects.none(), Webinar.objects.none()
    now = now or timezone.now()
    ongoing = Q(starts_at__gte=now) | Q(ends_at__gte=now) | Q(econsultation__live_ends_at__gte=now)
    return (_webinars().filter(ongoing).order_by("starts_at", "id"),
            _webinars().exclude(ongoing).order_by("-starts_at", "-id"))


def get_readable_webinar(user, webinar_id) -> Webinar:
    webinar = (
        _webinars()
        .select_related("econsultation__summarised_by")
        .prefetch_related(
            Prefetch("presenter_set", queryset=Presenter.objects.select_related("member")),
            "slides",
            Prefetch("econsultation__hosts", queryset=Member.objects.order_by("full_name")),
        )
        .filter(pk=webinar_id)
        .first()
    )
    if webinar is None or not can_read(user, webinar):
        raise Http404
    return webinar


def econsultation_of(webinar: Webinar) -> EConsultation | None:
    try:
        return webinar.econsultation
    except EConsultation.DoesNotExist:
        return None


def questions(econsultation: EConsultation):
    return (
        econsultation.thread.posts.filter(is_question=True, deleted_at__isnull=True, hidden_at__isnull=True)
        .select_related("author__organization").defer("search_vector").order_by("created_at", "id")
    )


def calendar_webinars(user, now=None):
    """Everything a calendar should hold: the past year and all that is planned."""
    if not can_read(user):
        return Webinar.objects.none()
    since = (now or timezone.now()) - timedelta(days=365)
    return (_webinars().filter(Q(starts_at__gte=since) | Q(econsultation__live_ends_at__gte=since))
            .order_by("starts_at", "id"))


def local_times(moment, time_zone: str):
    return timezone.localtime(moment, ZoneInfo(time_zone))


def is_host(member: Member | None, econsultation: EConsultation) -> bool:
    if member is None:
        return False
    return can_moderate(member.user) or any(host.pk == member.pk for host in econsultation.hosts.all())


def takes_questions_by_email(thread) -> bool:
    """Replies by email to an e-consultation open for questions are questions for the hosts."""
    econsultation = EConsultation.objects.filter(thread_id=thread.pk).first()
    return econsultation is not None and econsultation.state() == EConsultation.OPEN


# --- Services ---------------------------------------------------------------------------------------------------

@transaction.atomic
def create_econsultation(webinar: Webinar, *, moderator: Member, category: Category | None = None,
                         questions_open_at=None, live_starts_at=None, live_ends_at=None,
                         hosts=()) -> EConsultation:
    """The e-consultation's thread, opened by the moderator; live a week after the webinar unless told otherwise.

    Hosts: the presenters who are members, the moderator, and any others named."""
    if not can_moderate(moderator.user):
        raise PostingNotAllowed("Only moderators open e-consultations.")
    webinar = Webinar.objects.select_for_update().get(pk=webinar.pk)
    if EConsultation.objects.filter(webinar=webinar).exists():
        raise PostingNotAllowed("This webinar already has an e-consultation.")
    live_starts_at = live_starts_at or webinar.starts_at + LIVE_AFTER_WEBINAR
    length = (webinar.ends_at - webinar.starts_at) if webinar.ends_at else DEFAULT_LIVE_LENGTH
    live_ends_at = live_ends_at or live_starts_at + length
    if live_ends_at <= live_starts_at:
        raise ValueError("The live window must end after it starts.")
    category = category or Category.objects.get_or_create(
        name=ECONSULTATIONS_CATEGORY,
        defaults={"description": "Questions and cases for webinar presenters, answered live and by email."},
    )[0]
    thread = create_thread(
        author=moderator, category=category, title=f"E-consultation: {webinar.title}"[:200],
        body=_opening_post(webinar, live_starts_at),
    )
    econsultation = EConsultation.objects.create(
        webinar=webinar, thread=thread, questions_open_at=questions_open_at or webinar.starts_at,
        live_starts_at=live_starts_at, live_ends_at=live_ends_at,
    )
    presenters = webinar.presenter_set.filter(member__isnull=False).values_list("member_id", flat=True)
    econsultation.hosts.add(moderator, *presenters, *hosts)
    AuditRecord.objects.create(actor=moderator, action="econsultation_created",
                               target=f"E-consultation for webinar “{webinar.title}” (thread {thread.pk})")
    return econsultation


def _opening_post(webinar: Webinar, live_starts_at) -> str:
    when = dateformat.format(local_times(live_starts_at, webinar.time_zone), r"l, F j \a\t g:i A")
    return (
        f"This is the e-consultation following the webinar **{webinar.title}**. Bring your questions and cases "
        f"for the presenters: post them here or reply by email before the live session on "
        f"{when} ({webinar.time_zone}), and join us live then."
    )


def submit_question(*, author: Member, econsultation: EConsultation, body: str,
                    confirmation: Confirmation | None = None) -> Post:
    if econsultation.state() not in QUESTION_STATES:
        raise PostingNotAllowed("This e-consultation is not taking questions now.")
    opening = econsultation.thread.posts.filter(parent__isnull=True).order_by("created_at", "id").first()
    return create_reply(author=author, parent=opening, body=body, is_question=True, confirmation=confirmation)


@transaction.atomic
def write_summary(*, econsultation: EConsultation, author: Member, summary: str) -> EConsultation:
    """The host's summary after the live window; members are mailed it the first time, edits only show."""
    econsultation = EConsultation.objects.select_for_update().get(pk=econsultation.pk)
    if member_of(author.user) is None or not is_host(author, econsultation):
        raise NotAHost
    if econsultation.state() not in SUMMARY_STATES:
        raise PostingNotAllowed("The summary is written once the live window has closed.")
    first = econsultation.summarised_at is None
    econsultation.summary, econsultation.summary_html = summary, render_markdown(summary)
    if first:
        econsultation.summarised_at, econsultation.summarised_by = timezone.now(), author
        transaction.on_commit(partial(econsultation_summarised.send, EConsultation,
                                      econsultation_id=econsultation.pk))
    econsultation.save(update_fields=["summary", "summary_html", "summarised_at", "summarised_by"])
    return econsultation

