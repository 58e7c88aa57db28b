"""The live e-consultation room: hosts highlight the question being discussed (pinned at the top for everyone)
and mark it answered. Who is here lives in threads/presence.py."""

from django.db import transaction
from django.utils import timezone

from community.models import AuditRecord, Member

from .anonymity import byline
from .live import QUESTION_ANSWERED, QUESTION_HIGHLIGHTED, record_and_send
from .models import Post, Thread
from .notes import preview
from .webinars import NotAHost, is_host


def _excerpt(post: Post) -> str:
    return preview(post, 200)


def pinned_questions(thread: Thread) -> list[Post]:
    """Highlighted and not yet answered, most recently highlighted first, each with its excerpt."""
    posts = list(
        thread.posts.filter(highlighted_at__isnull=False, answered_at__isnull=True,
                            deleted_at__isnull=True, hidden_at__isnull=True)
        .select_related("author__organization").defer("search_vector").order_by("-highlighted_at")
    )
    for post in posts:
        post.excerpt = _excerpt(post)
    return posts


def _host_post(host: Member, post_id: int) -> Post:
    post = (
        Post.objects.select_for_update(of=("self",)).select_related("thread__econsultation", "author__organization")
        .defer("search_vector").get(pk=post_id)
    )
    econsultation = getattr(post.thread, "econsultation", None)
    if econsultation is None or not is_host(host, econsultation):
        raise NotAHost("Only the hosts of this e-consultation do that.")
    return post


def _audit(host: Member, action: str, post: Post) -> None:
    AuditRecord.objects.create(actor=host, action=action, subject_id=post.author_id,
                               target=f"Post #{post.id} in thread #{post.thread_id} “{post.thread.title}”")


@transaction.atomic
def highlight_question(*, host: Member, post_id: int) -> Post:
    post = _host_post(host, post_id)
    post.highlighted_at, post.answered_at = timezone.now(), None
    post.save(update_fields=["highlighted_at", "answered_at"])
    _audit(host, "question_highlighted", post)
    record_and_send(post.thread_id, QUESTION_HIGHLIGHTED, post.id,
                    {"author": byline(post), "excerpt": _excerpt(post)})
    return post


@transaction.atomic
def mark_answered(*, host: Member, post_id: int) -> Post:
    post = _host_post(host, post_id)
    post.answered_at = timezone.now()
    post.save(update_fields=["answered_at"])
    _audit(host, "question_answered", post)
    record_and_send(post.thread_id, QUESTION_ANSWERED, post.id)
    return post
