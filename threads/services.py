import uuid
from collections.abc import Sequence
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from community.access import can_post
from community.models import Member

from .attachments import save_attachments
from .citations import record_citations
from .events import post_held, post_published
from .guard import Finding, summary
from .guard_checks import Confirmation, post_text, records_stops, screen
from .live import broadcast_thread_activity, record_post_created
from .mentions import announce_mentions, render_post
from .models import Category, Post, Thread


class PostingNotAllowed(Exception):
    pass


def new_message_id() -> str:
    return f"<{uuid.uuid4().hex}@{settings.LIST_DOMAIN}>"


def _publish(post: Post, mentioned: set[int]) -> None:
    record_post_created(post)
    announce_mentions(post, mentioned)
    transaction.on_commit(partial(broadcast_thread_activity, post.thread_id))
    transaction.on_commit(partial(post_published.send, Post, post_id=post.id))


# --- Held posts: a moderator approves them before anyone else sees them -----------------------------------------

HELD_MEMBER_REASON = "A moderator approves each post by this member before it is published."
GUARD_HELD = "It may identify a client"
GUARD_HELD_REASON = GUARD_HELD + (" ({found}): it waits until its author edits it or confirms it is not client "
                                  "information, or a moderator decides.")


def hold_reason(author: Member, guard_findings: Sequence[Finding] = ()) -> str:
    """Why a new post by `author` waits instead of being published, in words the author and the moderators read;
    "" to publish it at once. Every path (web, live room, email) creates posts here, so a reason added here holds
    them all. Two sources: what the confidentiality guard found in an emailed post that nobody has confirmed yet
    (threads.guard_checks; it holds anyone's post), and the member's own setting (moderators' posts never wait for
    a moderator)."""
    reasons = [GUARD_HELD_REASON.format(found=summary(guard_findings))] if guard_findings else []
    if author.posts_held and not author.is_moderator:
        reasons.append(HELD_MEMBER_REASON)
    return " ".join(reasons)


def waits_for_its_author(post: Post) -> bool:
    """Held by the confidentiality guard, with its author not yet having answered: the guard's reason comes first
    (hold_reason), and release_unless_still_held replaces it once they have."""
    return post.held_at is not None and post.hidden_reason.startswith(GUARD_HELD)


def _hold_fields(reason: str) -> dict:
    """A held post is hidden too, so every reader that leaves out hidden posts (search, digests, list mail, quotes,
    reactions) leaves it out."""
    if not reason:
        return {}
    now = timezone.now()
    return {"held_at": now, "hidden_at": now, "hidden_reason": reason}


def _announce_held(post: Post, held_by_guard: bool = False) -> None:
    # A post the guard holds is told to its sender by the caller (mailer.inbound), with what was found masked; the
    # moderators' notice, which carries the text, waits until the author has answered the guard.
    if not held_by_guard:
        transaction.on_commit(partial(post_held.send, Post, post_id=post.id))


def release_held_post(post: Post) -> Post:
    """Publish a held post exactly as if it had just been posted: dated now (so read marks and digests treat it as
    news), counted in its thread, sent live, to the list and to the members it names. The caller holds the post's
    row lock and has checked it is still held (threads.moderation.approve_held_post)."""
    now = timezone.now()
    post.html, mentioned = render_post(post.body)
    post.held_at = post.hidden_at = None
    post.hidden_reason, post.created_at = "", now
    post.save(update_fields=["html", "held_at", "hidden_at", "hidden_reason", "created_at"])
    thread_changes = {"last_post_at": now, "post_count": F("post_count") + 1}
    if post.thread.held_at:  # its opening post: the thread itself is new now
        thread_changes.update(held_at=None, created_at=now)
    Thread.objects.filter(pk=post.thread_id).update(**thread_changes)
    _publish(post, mentioned)
    return post


def release_unless_still_held(post: Post) -> bool:
    """The author has answered what the guard found in their held post (threads.guard_checks): publish it, unless
    another reason still holds it (a moderator approves each post of this member), in which case it now waits for
    the moderators, who hear of it. True when published. The caller holds the post's row lock."""
    reason = hold_reason(post.author)
    if not reason:
        release_held_post(post)
        return True
    post.hidden_reason = reason
    post.save(update_fields=["hidden_reason"])
    _announce_held(post)
    return False


def _require_anonymity_allowed(category: Category, anonymous: bool) -> None:
    if anonymous and not category.allow_anonymous:
        raise PostingNotAllowed(f"Posts in “{category.name}” cannot be anonymous: moderators have not allowed it "
                                "there. Nothing was posted.")


@records_stops
@transaction.atomic
def create_thread(*, author: Member, category: Category, title: str, body: str,
                  source: str = Post.Source.WEB, attachments=(), content_note: str = "",
                  anonymous: bool = False, confirmation: Confirmation | None = None) -> Thread:
    """`content_note` puts the whole post behind a note; `anonymous` hides its author from members
    (threads.anonymity), in categories that allow it. The confidentiality guard reads the title, note and body:
    raises threads.guard.NeedsConfirmation unless the author's `confirmation` answers what it found (an emailed
    post is held instead)."""
    if not can_post(author.user, category):
        raise PostingNotAllowed("You cannot start a thread in this category.")
    _require_anonymity_allowed(category, anonymous)
    screening = screen(author=author, source=source, text=post_text(title.strip(), content_note, body),
                       confirmation=confirmation)
    held = _hold_fields(hold_reason(author, screening.holds))
    # post_count counts published posts: a held thread has none until its opening post is approved.
    thread = Thread.objects.create(category=category, title=title.strip(), author=author,
                                   post_count=0 if held else 1, held_at=held.get("held_at"))
    html, mentioned = render_post(body)
    post = Post.objects.create(
        thread=thread, author=author, body=body, html=html, source=source,
        created_at=thread.created_at, message_id=new_message_id(), content_note=content_note.strip(),
        anonymous=anonymous, **held,
    )
    save_attachments(post, attachments, author)
    record_citations(post)
    screening.record(post)
    if held:
        _announce_held(post, held_by_guard=bool(screening.holds))
    else:
        _publish(post, mentioned)
    return thread


@records_stops
@transaction.atomic
def create_reply(*, author: Member, parent: Post, body: str, source: str = Post.Source.WEB,
                 is_question: bool = False, attachments=(), content_note: str = "", anonymous: bool = False,
                 confirmation: Confirmation | None = None) -> Post:
    """Like create_thread: the guard reads the note and body."""
    thread = Thread.objects.select_for_update(of=("self",)).select_related("category").get(pk=parent.thread_id)
    if not can_post(author.user, thread):
        raise PostingNotAllowed(
            "This thread is closed to new replies." if thread.locked
            else "This thread is waiting for a moderator: replies open once it is published." if thread.held_at
            else "You cannot post here."
        )
    _require_anonymity_allowed(thread.category, anonymous)
    screening = screen(author=author, source=source, text=post_text(content_note, body), confirmation=confirmation)
    held = _hold_fields(hold_reason(author, screening.holds))
    html, mentioned = render_post(body)
    post = Post.objects.create(
        thread=thread, parent=parent, author=author, body=body, html=html, source=source,
        message_id=new_message_id(), is_question=is_question, content_note=content_note.strip(),
        anonymous=anonymous, **held,
    )
    save_attachments(post, attachments, author)
    record_citations(post)
    screening.record(post)
    if held:  # the thread looks as it did: no new post, no new activity, until a moderator approves it
        _announce_held(post, held_by_guard=bool(screening.holds))
        return post
    Thread.objects.filter(pk=thread.pk).update(last_post_at=post.created_at, post_count=F("post_count") + 1)
    _publish(post, mentioned)
    return post
