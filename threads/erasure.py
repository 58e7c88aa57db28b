"""Erasure, threads' part (called by mailer.erasure.carry_out_erasure, inside its transaction): the member's posts
stay readable under the shared "Former member" placeholder (community.placeholders), their name and handle leave
quotes ("Dana Member wrote:") and @mentions in every post and earlier version, and what they marked or chose while
reading goes."""

from django.db.models import Q

from community.erasure import Redactor
from community.models import Member
from community.placeholders import former_member

from .markdown import render_markdown
from .mentions import handle_for, handles_in, resolve
from .models import (
    Attachment,
    Bookmark,
    FeedToken,
    GuardCheck,
    Mention,
    Post,
    PostRevision,
    Reaction,
    Subscription,
    Thread,
    ThreadRead,
)


def mention_handles(member: Member) -> tuple[str, ...]:
    """The handles that name the member (the Redactor adds the numbered form, `@dana.member.42`)."""
    return (handle_for(member.full_name),)


def _scrubbed(rows: list, redactor: Redactor) -> list:
    """The rows (posts or earlier versions) whose body named the member, with the name taken out."""
    changed = []
    for row in rows:
        body = redactor.scrub(row.body)
        if body != row.body:
            row.body = body
            changed.append(row)
    return changed


def _scrub_posts(posts: list[Post], redactor: Redactor) -> list[Post]:
    changed = _scrubbed(posts, redactor)
    # Other members' mentions in the same posts stay linked: their handles are resolved once for all posts
    # (threads.mentions.render_post would read every member's name once per post).
    known = resolve(set().union(*(handles_in(post.body) for post in changed))) if changed else {}
    for post in changed:
        post.html = render_markdown(post.body, {handle: known[handle] for handle in handles_in(post.body)
                                                if handle in known})
    Post.objects.bulk_update(changed, ["body", "html"], batch_size=200)
    return changed


def _scrub_revisions(revisions: list[PostRevision], redactor: Redactor) -> int:
    changed = _scrubbed(revisions, redactor)
    PostRevision.objects.bulk_update(changed, ["body"], batch_size=200)
    return len(changed)


def erase_thread_data(member: Member, redactor: Redactor) -> tuple[dict[str, int], dict[str, int]]:
    """Returns (what was removed, what stays but no longer names them), counted for the moderator."""
    former = former_member()
    # Posts that may name them: their own (signatures), those that mention them, and any whose text has one of
    # their names, handles or addresses (quotes).
    named = (
        Post.objects.filter(Q(author=member) | Q(mentions__member=member) | redactor.mentioned_in("body"))
        .distinct().only("id", "author_id", "body", "html")
    )
    scrubbed = _scrub_posts(list(named), redactor)
    revisions = _scrub_revisions(list(PostRevision.objects.filter(
        Q(post__author=member) | Q(post__mentions__member=member) | redactor.mentioned_in("body")
    ).distinct().only("id", "body")), redactor)
    titles = [thread for thread in Thread.objects.filter(redactor.mentioned_in("title")).only("id", "title")
              if redactor.scrub(thread.title) != thread.title]
    for thread in titles:
        thread.title = redactor.scrub(thread.title)[:200]
    Thread.objects.bulk_update(titles, ["title"])
    guard_checks = list(GuardCheck.objects.filter(author=member).exclude(reason="").only("id", "reason"))
    for check in guard_checks:
        check.reason = redactor.scrub(check.reason)
    GuardCheck.objects.bulk_update(guard_checks, ["reason"])

    kept = {
        "posts, now shown as by “Former member”": Post.objects.filter(author=member).update(author=former),
        "threads they started, now by “Former member”": Thread.objects.filter(author=member).update(author=former),
        "files they attached": Attachment.objects.filter(uploaded_by=member).update(uploaded_by=former),
        "posts by others that quoted or mentioned them, name taken out": sum(
            1 for post in scrubbed if post.author_id != member.pk),
        "earlier versions of posts, name taken out": revisions,
        "thread titles, name taken out": len(titles),
    }
    PostRevision.objects.filter(edited_by=member).update(edited_by=former)
    Post.objects.filter(deleted_by=member).update(deleted_by=former)
    GuardCheck.objects.filter(author=member).update(author=former)
    removed = {
        "bookmarks": Bookmark.objects.filter(member=member).delete()[0],
        "“helpful” marks": Reaction.objects.filter(member=member).delete()[0],
        "email choices for threads and categories": Subscription.objects.filter(member=member).delete()[0],
        "read marks": ThreadRead.objects.filter(member=member).delete()[0],
        "calendar and news feed links": FeedToken.objects.filter(member=member).delete()[0],
        "mentions of them (the posts stay)": Mention.objects.filter(member=member).delete()[0],
    }
    return removed, kept
