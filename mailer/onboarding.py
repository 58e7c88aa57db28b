"""Onboarding: what a newly approved member is shown first — the Start here page (/start/) and the welcome email —
and the words moderators keep up to date there without a deploy (the welcome, the community guidelines, the
confidentiality pledge). It lives in mailer because it gathers all three apps: the texts and the member's progress
are community's, the starter list is threads' (pinned threads, e-consultations, library resources), and the
delivery mode and the Introductions address are mailer's own.

The texts are CommunityText rows; until a moderator saves one, the words below are used. Markdown is rendered
with the posts' renderer (markdown-it + nh3), once when saved, so a page never renders it again.
"""

from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from community.access import can_moderate
from community.models import AuditRecord, CommunityText, Member
from community.services import ModerationError
from threads.markdown import render_markdown
from threads.models import Category, EConsultation, Post, Resource, Thread
from threads.reading import listed_threads
from threads.selectors import readable_categories

from .inbound import category_address

Key = CommunityText.Key

DEFAULT_TEXTS = {
    Key.WELCOME: """\
Welcome to HealTalk, a closed community for the staff of programs that serve survivors of torture: clinicians, \
case managers, legal staff, interpreters, program managers and everyone else doing this work.

Here you can ask colleagues how they handle something hard, share what works in your program, and join webinars \
and e-consultations. This page takes a few minutes. You can come back to it at any time: "Start here" stays in \
the menu.""",
    Key.PLEDGE: """\
I will never post anything that could identify a client, on the website or by email. Before I post, I take out:

- names, initials or nicknames;
- dates of birth, and exact dates of arrival or of events;
- A-numbers, USCIS receipt numbers, Social Security numbers, case or medical record numbers;
- addresses, phone numbers, email addresses and photos;
- rare details (a small town, an unusual job, a family situation) that together could point to one person.

I write "a man in his thirties from East Africa", not his name or his town. When in doubt, I leave it out, or \
I ask a moderator first.""",
    Key.GUIDELINES: """\
HealTalk is a closed space for the staff of programs that serve survivors of torture. These few rules keep it \
safe and useful.

1. **Never identify a client.** Discuss cases, never people. Before you post, take out anything that could point \
to a client, even in combination: names, initials or nicknames; dates of birth, exact dates of arrival or of \
events; A-numbers, USCIS receipt numbers, Social Security numbers, case or medical record numbers; addresses, \
phone numbers, email addresses, photos; rare details (a small town, an unusual job, a family situation) that \
together could point to one person. "A man in his thirties from East Africa" is fine. When in doubt, leave it \
out, or ask a moderator first.
2. **Members only.** Everything here, on the website and by email, is for approved members. Do not forward list \
messages outside the community without the author's permission.
3. **Be kind, be useful.** Colleagues come here tired and with hard questions. Answer generously, disagree with \
care, and share what works in your program.
4. **Look after yourself and others.** Much of what we discuss is distressing. Warn readers before describing \
torture methods or other graphic details, and keep such details to what the question needs.
5. **Not an emergency service.** HealTalk is not for urgent clinical or safety situations. Follow your program's \
emergency procedures.

Moderators may hide a post that breaks these guidelines and will tell you why.""",
}

# Enough to start with; the pinned threads are few by design (moderators pin what everyone should see).
PINNED_LIMIT = 10
ECONSULTATION_LIMIT = 3
RESOURCE_LIMIT = 5


# --- The texts ----------------------------------------------------------------------------------------------------

@cache
def _default_html(key: str) -> str:
    return render_markdown(DEFAULT_TEXTS[key])


def community_texts() -> dict[str, CommunityText]:
    """Each text by key, in one query: the saved row, or an unsaved one holding the default words."""
    saved = {text.key: text for text in CommunityText.objects.select_related("updated_by")}
    return {key: saved.get(key) or CommunityText(key=key, body=DEFAULT_TEXTS[key], html=_default_html(key))
            for key in Key.values}


@transaction.atomic
def save_community_texts(*, moderator: Member, bodies: dict[str, str]) -> list[str]:
    """Saves the texts whose words changed, each audited; returns the keys saved. Shown everywhere at once."""
    if not can_moderate(moderator.user):
        raise ModerationError("Only moderators change the Start here texts and the guidelines.")
    current = community_texts()
    changed = [key for key, body in bodies.items() if body != current[key].body]
    now = timezone.now()
    for key in changed:
        CommunityText.objects.update_or_create(key=key, defaults={
            "body": bodies[key], "html": render_markdown(bodies[key]), "updated_at": now, "updated_by": moderator,
        })
        AuditRecord.objects.create(actor=moderator, action="community_text_changed",
                                   target=f"“{Key(key).label}”")
    return changed


# --- The member's progress --------------------------------------------------------------------------------------

def agree_to_pledge(member: Member) -> None:
    """The first agreement is the one kept: agreeing again changes nothing."""
    now = timezone.now()
    if Member.objects.filter(pk=member.pk, pledged_at__isnull=True).update(pledged_at=now):
        member.pledged_at = now


def finish_welcome(member: Member) -> None:
    """From now on signing in leads to the discussions, and the home page stops pointing to Start here."""
    now = timezone.now()
    if Member.objects.filter(pk=member.pk, welcomed_at__isnull=True).update(welcomed_at=now):
        member.welcomed_at = now


# --- The starter list -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StarterList:
    pinned: list[Thread]
    econsultations: list[EConsultation]  # with webinar and thread; `state()` needs no query
    resources: list[Resource]

    def __bool__(self):
        return bool(self.pinned or self.econsultations or self.resources)


def starter_list(member: Member) -> StarterList:
    """Where to begin, in three queries whatever their number: the pinned threads the member can read, the last
    e-consultations, and the library's newest resources for new employees."""
    pinned = (
        listed_threads(Thread.objects.filter(pinned=True), member)
        .filter(category__in=readable_categories(member.user).values("pk"))
        .select_related("category").defer("search_vector").order_by("-last_post_at")[:PINNED_LIMIT]
    )
    econsultations = (
        EConsultation.objects.filter(thread__held_at__isnull=True)
        .select_related("webinar", "thread").defer("thread__search_vector")
        .order_by("-live_starts_at")[:ECONSULTATION_LIMIT]
    )
    resources = (
        Resource.objects.filter(status=Resource.Status.APPROVED, audiences__contains=[Resource.Audience.NEW_EMPLOYEE])
        .defer("search_vector", "description_html").order_by("-approved_at", "-id")[:RESOURCE_LIMIT]
    )
    return StarterList(pinned=list(pinned), econsultations=list(econsultations), resources=list(resources))


# --- Introductions and what "every message" means --------------------------------------------------------------

@dataclass(frozen=True)
class Introductions:
    category: Category
    address: str | None  # None when the slug is one of the list's reserved addresses: web only then


def introductions() -> Introductions | None:
    category = Category.objects.filter(slug=settings.INTRODUCTIONS_CATEGORY_SLUG).first()
    return Introductions(category, category_address(category)) if category else None


EXAMPLE_WEEKS = 4


def posts_per_week(now=None) -> int:
    """About how many emails "every message" would have brought a week, over the last four weeks: every post
    members could see (one query)."""
    since = (now or timezone.now()) - timedelta(weeks=EXAMPLE_WEEKS)
    count = Post.objects.filter(created_at__gte=since, held_at__isnull=True, hidden_at__isnull=True,
                                deleted_at__isnull=True).count()
    return round(count / EXAMPLE_WEEKS)
