from django.db.models import Count, Prefetch, Q
from django.http import Http404

from community.access import can_read

from .anonymity import with_starter_anonymity
from .models import Attachment, Category, EConsultation, Post, Thread
from .reading import listed_threads, with_unread_counts


def readable_categories(user):
    if not can_read(user):
        return Category.objects.none()
    # Meta.ordering is dropped from GROUP BY queries, so the order is repeated here.
    return (Category.objects.annotate(thread_count=Count("threads", filter=Q(threads__held_at__isnull=True)))
            .order_by("position", "name"))


def category_threads(category, member=None):
    return with_unread_counts(
        with_starter_anonymity(listed_threads(category.threads.all(), member))
        .select_related("author__organization", "category").defer("search_vector")
        .order_by("-pinned", "-last_post_at"),
        member,
    )


def recent_threads(member=None, limit=10):
    return with_unread_counts(
        with_starter_anonymity(listed_threads(Thread.objects.all(), member))
        .select_related("author__organization", "category").defer("search_vector")
        .order_by("-last_post_at"),
        member,
    )[:limit]


def get_readable_category(user, slug) -> Category:
    category = Category.objects.filter(slug=slug).first()
    if category is None or not can_read(user, category):
        raise Http404
    return category


def get_readable_thread(user, thread_id) -> Thread:
    thread = (
        Thread.objects.select_related("category", "author", "econsultation__webinar").filter(pk=thread_id).first()
    )
    if thread is None or not can_read(user, thread):
        raise Http404
    return thread


def get_readable_post(user, post_id) -> Post:
    post = Post.objects.select_related("thread__category", "author__organization").filter(pk=post_id).first()
    if post is None or not can_read(user, post):
        raise Http404
    return post


def thread_for_list(thread_id) -> Thread:
    return with_starter_anonymity(Thread.objects.all()).select_related("author__organization", "category").get(
        pk=thread_id)


def posts_for_display(post_ids) -> dict[int, Post]:
    posts = (
        Post.objects.select_related("author__organization", "thread").defer("search_vector")
        .prefetch_related("attachments")
    )
    return posts.in_bulk(post_ids)


def held_posts():
    """Posts waiting for a moderator's approval, oldest first, with what the queue shows of each."""
    return (
        Post.objects.filter(held_at__isnull=False, deleted_at__isnull=True)
        .select_related("author__organization", "thread__category", "parent__author")
        .defer("search_vector", "thread__search_vector", "parent__search_vector", "parent__body", "parent__html")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("id")))
        .order_by("held_at", "id")
    )


def held_post_count() -> int:
    return Post.objects.filter(held_at__isnull=False, deleted_at__isnull=True).count()


def upcoming_econsultations():
    return EConsultation.objects.select_related("webinar", "thread").order_by("live_starts_at")

