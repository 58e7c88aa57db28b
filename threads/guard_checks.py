"""What became of each time the confidentiality guard (threads.guard) found something in a post: one GuardCheck row
per trip, with the kinds and places found — never the text — and what happened next.

    web form, live room, edit ── found ──▶ NeedsConfirmation, nothing saved: STOPPED
        the author edits until nothing is found ──▶ EDITED
        or confirms it is not client information, with a reason ──▶ CONFIRMED (+ AuditRecord)
    email ── found ──▶ the post is saved held (threads.services.hold_reason): HELD; the sender is told (mailer.inbound)
        the author edits it or confirms on the site ──▶ EDITED / CONFIRMED ──▶ services.release_unless_still_held
        a moderator approves or rejects it in the held-posts queue ──▶ RELEASED / REJECTED

The services call `screen` inside their transaction, before they write, and `Screening.record` once the post is
saved; `records_stops` wraps them so that a stop is recorded after their transaction has rolled back.
"""

import hashlib
from dataclasses import dataclass, field
from functools import wraps

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from community.models import AuditRecord, Member

from . import guard
from .guard import Finding, NeedsConfirmation
from .models import GuardCheck, Post

EMAIL, EDIT = GuardCheck.Source.EMAIL, GuardCheck.Source.EDIT


def post_text(*parts: str) -> str:
    """What the guard reads of a post: its title (a new thread's), content note and body, as one text; findings
    are places in it."""
    return "\n\n".join(part.strip() for part in parts if part and part.strip())


def opens_unpublished_thread(post: Post) -> bool:
    """The opening post of a thread nobody else has seen yet: its title is read with it (and may be edited)."""
    return post.parent_id is None and post.thread.held_at is not None


def checked_text(post: Post, *, title: str | None = None, note: str | None = None, body: str | None = None) -> str:
    """What the guard reads of an existing post, or of its edit with the new `title`, `note` and `body`."""
    title = (post.thread.title if title is None else title) if opens_unpublished_thread(post) else ""
    return post_text(title, post.content_note if note is None else note, post.body if body is None else body)


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Confirmation:
    """The author's answer to a stop, from the form: the GuardCheck they were shown, and their reason when they
    ticked "This is not client information" ("" when they edited instead). `checked` is the digest of the text
    they were shown: a tick answers that text, not one changed since."""

    check_id: int | None = None
    reason: str = ""
    checked: str = ""

    def confirms(self, text: str) -> bool:
        return bool(self.reason.strip()) and self.checked == text_digest(text)


@dataclass
class Screening:
    author: Member
    source: str
    findings: list[Finding]
    confirmation: Confirmation | None = None
    post: Post | None = None  # the post edited; None for a new one
    held_check: GuardCheck | None = field(default=None, repr=False)  # an emailed post waiting for its author

    @property
    def holds(self) -> list[Finding]:
        """What holds a new post for its author or a moderator: an emailed post's findings (nobody could confirm
        them on the way in)."""
        return self.findings if self.source == EMAIL and self.post is None else []

    def answered_check(self) -> GuardCheck | None:
        """The trip the author is answering: their own stop named by the form, or the held post's check."""
        if self.held_check is not None:
            return self.held_check
        if self.confirmation is None or self.confirmation.check_id is None:
            return None
        return (GuardCheck.objects.select_for_update()
                .filter(pk=self.confirmation.check_id, author=self.author, outcome=GuardCheck.Outcome.STOPPED,
                        post=self.post).first())

    def record(self, post: Post) -> GuardCheck | None:
        """In the transaction that saved the post or the edit: a held post's check, or the answer to a stop."""
        if self.holds:
            return GuardCheck.objects.create(post=post, author=self.author, source=self.source,
                                             outcome=GuardCheck.Outcome.HELD, findings=_records(self.findings))
        check = self.answered_check()
        if not self.findings and check is None:
            return None
        check = check or GuardCheck(author=self.author, source=self.source)
        check.post, check.decided_by, check.decided_at = post, self.author, timezone.now()
        if self.findings:
            check.outcome, check.reason = GuardCheck.Outcome.CONFIRMED, self.confirmation.reason.strip()
            check.findings = _records(self.findings)
            _audit(self.author, "guard_confirmed", post, check)
        else:
            check.outcome = GuardCheck.Outcome.EDITED
        check.save()
        return check


def _records(findings: list[Finding]) -> list[dict]:
    return [finding.as_record() for finding in findings]


def _audit(actor: Member, action: str, post: Post, check: GuardCheck) -> None:
    # The kinds, never the text: the audit log is read by every moderator.
    kinds = ", ".join(guard.LABELS[kind] for kind in check.kinds)
    AuditRecord.objects.create(actor=actor, action=action, subject_id=post.author_id, reason=check.reason,
                               target=f"Post #{post.id} in thread #{post.thread_id} (found: {kinds})")


def screen(*, author: Member, source: str, text: str, confirmation: Confirmation | None = None,
           post: Post | None = None, held_check: GuardCheck | None = None) -> Screening:
    """Runs the guard before a post or an edit is written. Raises NeedsConfirmation when it finds something the
    author has not confirmed, except for email, where the post is held instead (Screening.holds). An edit of a held
    emailed post answers that post's check (`held_check`, threads.guard_checks.held_by_guard of the post edited)."""
    screening = Screening(author, source, guard.check(text), confirmation, post, held_check)
    if screening.findings and not screening.holds and not (confirmation and confirmation.confirms(text)):
        stop = NeedsConfirmation(screening.findings, confirmation.check_id if confirmation else None)
        stop.screening, stop.text = screening, text  # the text its findings are places in, for the preview
        raise stop
    return screening


def _record_stop(stop: NeedsConfirmation) -> None:
    # Its own transaction: the service's has rolled back, and answered_check locks the earlier stop's row.
    screening = stop.screening
    with transaction.atomic():
        check = screening.answered_check() or GuardCheck(author=screening.author, source=screening.source,
                                                          post=screening.post)
        check.findings = _records(stop.findings)  # the author may have edited: what this version trips on
        check.save()
    stop.check_id = check.id


def records_stops(service):
    """Outside a service's own transaction: when the guard stops it, the transaction rolls back, and the stop is
    recorded after (a GuardCheck the form hands back with the author's answer)."""

    @wraps(service)
    def wrapper(*args, **kwargs):
        try:
            return service(*args, **kwargs)
        except NeedsConfirmation as stop:
            _record_stop(stop)
            raise

    return wrapper


# --- Held emailed posts --------------------------------------------------------------------------------------------

def findings_of(check: GuardCheck) -> list[Finding]:
    return [Finding.from_record(record) for record in check.findings]


def held_by_guard(post: Post) -> GuardCheck | None:
    """The guard's check that holds this post, while it waits for its author (or a moderator)."""
    if post.held_at is None:
        return None
    return post.guard_checks.filter(outcome=GuardCheck.Outcome.HELD).order_by("-id").first()


def released_by_author(post: Post, author: Member) -> None:
    """The author answered the guard and the post was published: audited like a moderator's approval."""
    check = post.guard_checks.order_by("-id").first()
    _audit(author, "guard_released", post, check)


def decided_by_moderator(post: Post, moderator: Member, outcome: str, reason: str = "") -> None:
    """A moderator approved (RELEASED) or rejected (REJECTED) a post the guard held."""
    post.guard_checks.filter(outcome=GuardCheck.Outcome.HELD).update(
        outcome=outcome, decided_by=moderator, decided_at=timezone.now(), reason=reason)


# --- The moderators' page ------------------------------------------------------------------------------------------

GUARD_LOG_PAGE = 50


def guard_log(outcome: str = ""):
    """Every trip, newest first, with the author, the decider and the post (for its link and state)."""
    checks = (GuardCheck.objects.select_related("author", "decided_by", "post")
              .defer("post__body", "post__html", "post__search_vector"))
    return checks.filter(outcome=outcome) if outcome else checks


def guard_log_counts() -> dict[str, int]:
    return GuardCheck.objects.aggregate(**{
        value: Count("id", filter=Q(outcome=value)) for value in GuardCheck.Outcome.values})
