"""The thread page (nested or flat, paginated) and what an author or a moderator does to a post afterwards:
edit with a visible history, soft delete and restore, quote."""

from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Prefetch, Q
from django.utils import timezone

from community.access import can_moderate, member_of
from community.models import AuditRecord, Member

from .anonymity import label_for
from .citations import record_citations
from .guard_checks import (
    EDIT,
    Confirmation,
    checked_text,
    held_by_guard,
    opens_unpublished_thread,
    records_stops,
    released_by_author,
    screen,
)
from .live import POST_DELETED, POST_EDITED, POST_RESTORED, record_and_send
from .markdown import render_markdown
from .mentions import announce_mentions, handles_in, render_post, resolve
from .models import Attachment, Post, PostRevision, Thread

NESTED, FLAT = "nested", "flat"
VIEWS = (NESTED, FLAT)
POSTS_PER_PAGE = 100
MAX_INDENT = 6  # deeper replies stop moving right, so a long exchange stays readable on a phone


class PostChangeNotAllowed(Exception):
    pass


# --- The thread page -------------------------------------------------------------------------------------------

@dataclass
class ThreadPage:
    view: str
    number: int
    page_count: int
    opening_post_id: int | None
    posts: list[Post] = field(default_factory=list)

    @property
    def page_range(self):
        return range(1, self.page_count + 1)

    @property
    def previous_number(self):
        return self.number - 1 if self.number > 1 else None

    @property
    def next_number(self):
        return self.number + 1 if self.number < self.page_count else None


def _outline(thread_id: int, user) -> list[tuple[int, int | None, str]]:
    """(id, parent id, author as members are told) of every post in the thread that `user` sees, by date: enough
    to lay out every page. A post waiting for a moderator is there only for moderators and its author."""
    posts = Post.objects.filter(thread_id=thread_id)
    if not can_moderate(user):
        posts = posts.filter(Q(held_at__isnull=True) | Q(author=member_of(user)))
    rows = posts.order_by("created_at", "id").values_list(
        "id", "parent_id", "author__full_name", "anonymous", "author__staff_role", "author__organization__state")
    return [(post_id, parent_id, label_for(role, state) if anonymous else name)
            for post_id, parent_id, name, anonymous, role, state in rows]


def _pages(outline, view: str) -> list[list[tuple[int, int]]]:
    """Pages of (post id, depth). Flat: by date, POSTS_PER_PAGE a page. Nested: the opening post and each reply
    to it with its whole subtree are units that never split; units fill a page up to POSTS_PER_PAGE posts
    (a larger subtree gets a page of its own, or shares the first page with the opening post alone)."""
    if view == FLAT:
        ids = [(post_id, 0) for post_id, _, _ in outline]
        return [ids[start:start + POSTS_PER_PAGE] for start in range(0, len(ids), POSTS_PER_PAGE)] or [[]]
    known = {post_id for post_id, _, _ in outline}
    children: dict[int | None, list[int]] = {}
    for post_id, parent_id, _ in outline:
        # A parent outside the thread (a subtree moved here) makes the post a root of this thread.
        children.setdefault(parent_id if parent_id in known else None, []).append(post_id)
    units = []
    for root in children.get(None, []):
        units.append([(root, 0)])
        for top in children.get(root, []):
            unit, stack = [], [(top, 0)]
            while stack:
                post_id, depth = stack.pop()
                unit.append((post_id, depth))
                stack.extend((child, depth + 1) for child in reversed(children.get(post_id, [])))
            units.append(unit)
    pages = [[]]
    for unit in units:
        if pages[-1] and len(pages[-1]) + len(unit) > POSTS_PER_PAGE and pages != [units[0]]:
            pages.append([])
        pages[-1].extend(unit)
    return pages


def page_number_of(thread_id: int, post_id: int, view: str, user) -> int:
    for number, page in enumerate(_pages(_outline(thread_id, user), view), start=1):
        if any(pid == post_id for pid, _ in page):
            return number
    return 1


def _lay_out_tree(posts: list[Post], depths: list[int]) -> None:
    """For nested lists: whether each post opens a list of replies, or how many lists close after it."""
    for index, post in enumerate(posts):
        depth = depths[index]
        following = depths[index + 1] if index + 1 < len(posts) else 0
        post.depth = min(depth, MAX_INDENT)
        post.opens_replies = following > depth
        post.closes = range(0 if post.opens_replies else depth - following)


def thread_page(thread: Thread, view: str, number, user) -> ThreadPage:
    """One page of a thread in a fixed number of queries, whatever the number of posts; each post says what
    `user` may do to it."""
    outline = _outline(thread.id, user)
    pages = _pages(outline, view)
    try:
        number = min(max(int(number), 1), len(pages))
    except (TypeError, ValueError):
        number = 1
    entries = pages[number - 1]
    by_id = (
        Post.objects.filter(pk__in=[post_id for post_id, _ in entries])
        .select_related("author__organization")
        .defer("search_vector")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("id")))
        .in_bulk()
    )
    posts = [by_id[post_id] for post_id, _ in entries]
    authors = {post_id: name for post_id, _, name in outline}
    for post in posts:
        post.thread = thread
        post.parent_author = authors.get(post.parent_id)
        post.can_edit, post.can_delete, post.can_restore = (
            may_edit(user, post), may_delete(user, post), may_restore(user, post))
    if view == NESTED:
        _lay_out_tree(posts, [depth for _, depth in entries])
    return ThreadPage(view=view, number=number, page_count=len(pages), posts=posts,
                      opening_post_id=outline[0][0] if outline else None)


def chosen_view(request) -> str:
    """?view= switches and is remembered in the session; without it, the remembered choice (nested at first)."""
    asked = request.GET.get("view")
    if asked in VIEWS:
        if request.session.get("thread_view") != asked:
            request.session["thread_view"] = asked
        return asked
    return request.session.get("thread_view", NESTED)


def post_location(post: Post, view: str, user) -> str:
    number = page_number_of(post.thread_id, post.id, view, user)
    page = f"?page={number}" if number > 1 else ""
    return f"{post.thread.get_absolute_url()}{page}#post-{post.id}"


# --- Who may change a post ------------------------------------------------------------------------------------

def may_see_body(user, post: Post) -> bool:
    """A deleted post's text (history, attachments) is for moderators; a hidden one for moderators and its author."""
    member = member_of(user)
    if member is None:
        return False
    if can_moderate(user):
        return True
    return not post.deleted_at and (not post.hidden_at or post.author_id == member.id)


def may_edit(user, post: Post) -> bool:
    """The author while the post stands and the thread is open; a moderator always (except a deleted post)."""
    member = member_of(user)
    if member is None or post.deleted_at:
        return False
    if can_moderate(user):
        return True
    return post.author_id == member.id and not post.thread.locked


def may_delete(user, post: Post) -> bool:
    member = member_of(user)
    if member is None or post.deleted_at:
        return False
    return post.author_id == member.id or can_moderate(user)


def may_restore(user, post: Post) -> bool:
    return bool(post.deleted_at) and can_moderate(user)


def _locked_post(post_id: int) -> Post:
    return Post.objects.select_for_update(of=("self",)).select_related("thread").defer("search_vector").get(pk=post_id)


def _record_live(post: Post, kind: str) -> None:
    # A held post exists for moderators and its author only: the thread's viewers hear of it once it is approved.
    if not post.held_at:
        record_and_send(post.thread_id, kind, post.id)


def _audit(actor: Member, action: str, post: Post, reason: str = "") -> None:
    AuditRecord.objects.create(actor=actor, action=action, subject_id=post.author_id, reason=reason,
                               target=f"Post #{post.id} in thread #{post.thread_id} “{post.thread.title}”")


# --- Edit, delete, restore -------------------------------------------------------------------------------------

@records_stops
@transaction.atomic
def edit_post(*, editor: Member, post_id: int, body: str, reason: str = "", content_note: str | None = None,
              title: str | None = None, confirmation: Confirmation | None = None) -> Post:
    """The previous body becomes a PostRevision; mail already sent is not sent again, and members named for
    the first time in this edit hear of it. `content_note` None keeps the post's note; "" removes it; `title`
    renames a thread nobody else has seen yet (its subject, for an emailed post, which the guard reads too).

    The confidentiality guard reads the new text: threads.guard.NeedsConfirmation, and the old text stays, unless
    `confirmation` answers what it found. A post the guard held (it came by email) is published once its author
    has edited it clean or confirmed it, unless a moderator hold remains (services.release_unless_still_held)."""
    from .services import release_unless_still_held  # services imports attachments, which imports this module

    post = _locked_post(post_id)
    if not may_edit(editor.user, post):
        raise PostChangeNotAllowed("You cannot edit this post.")
    note = post.content_note if content_note is None else content_note.strip()
    title = title.strip() if title and title.strip() and opens_unpublished_thread(post) else post.thread.title
    held_check = held_by_guard(post)
    if body == post.body and note == post.content_note and title == post.thread.title and held_check is None:
        return post
    screening = screen(author=editor, source=EDIT, confirmation=confirmation, post=post, held_check=held_check,
                       text=checked_text(post, title=title, note=note, body=body))
    before = set(resolve(handles_in(post.body)).values())
    # What the guard held was never published: its earlier text is not kept in the history.
    if body != post.body and held_check is None:
        PostRevision.objects.create(post=post, body=post.body, edited_by=editor)
    post.body, post.content_note, (post.html, mentioned) = body, note, render_post(body)
    post.edited_at = timezone.now()
    post.save(update_fields=["body", "content_note", "html", "edited_at"])
    record_citations(post, edited=True)
    if title != post.thread.title:
        Thread.objects.filter(pk=post.thread_id).update(title=title)
        post.thread.title = title
    if editor.id != post.author_id:
        _audit(editor, "post_edited", post, reason)
    if not post.held_at:  # approval names everyone the post then mentions
        announce_mentions(post, mentioned - before)
    _record_live(post, POST_EDITED)
    screening.record(post)
    if held_check is not None and release_unless_still_held(post):
        released_by_author(post, editor)
    return post


@transaction.atomic
def delete_post(*, actor: Member, post_id: int, reason: str = "") -> Post:
    """The post keeps its place in the tree, so its replies stay readable; it is no longer mailed."""
    post = _locked_post(post_id)
    if not may_delete(actor.user, post):
        raise PostChangeNotAllowed("You cannot delete this post.")
    post.deleted_at, post.deleted_by = timezone.now(), actor
    post.save(update_fields=["deleted_at", "deleted_by"])
    if actor.id != post.author_id:
        _audit(actor, "post_deleted", post, reason)
    _record_live(post, POST_DELETED)
    return post


@transaction.atomic
def restore_post(*, moderator: Member, post_id: int, reason: str = "") -> Post:
    post = _locked_post(post_id)
    if not may_restore(moderator.user, post):
        raise PostChangeNotAllowed("Only moderators restore deleted posts.")
    post.deleted_at, post.deleted_by = None, None
    post.save(update_fields=["deleted_at", "deleted_by"])
    _audit(moderator, "post_restored", post, reason)
    _record_live(post, POST_RESTORED)  # a rejected held post restored waits for a moderator again
    return post


# --- Reading helpers -------------------------------------------------------------------------------------------

def quote_body(post: Post) -> str:
    """The start of a reply that quotes the post, with attribution."""
    if post.deleted_at or post.hidden_at:
        return ""
    lines = post.body.strip().splitlines()
    quoted = "\n".join(f"> {line}" if line.strip() else ">" for line in lines)
    if post.content_note:  # the quote stays behind the post's note
        quoted = f"::: note {post.content_note}\n{quoted}\n:::"
    author = "A member" if post.anonymous else post.author.full_name
    return f"{author} wrote:\n\n{quoted}\n\n"


@dataclass
class Version:
    body: str
    html: str
    written_at: object
    replaced_at: object = None
    replaced_by: Member | None = None


def edit_history(post: Post) -> list[Version]:
    """Every version of the post, newest first: the current one, then each body an edit replaced."""
    revisions = list(post.revisions.select_related("edited_by").order_by("created_at", "id"))
    versions, written_at = [], post.created_at
    for revision in revisions:
        versions.append(Version(revision.body, render_markdown(revision.body), written_at,
                                revision.created_at, revision.edited_by))
        written_at = revision.created_at
    versions.append(Version(post.body, post.html, written_at))
    return versions[::-1]
