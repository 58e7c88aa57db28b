from django.db.models import Count
from django.http import Http404

from community.access import can_read

from .models import Category, EConsultation, Post, Thread


def readable_categories(user):
    if not can_read(user):
        return Category.objects.none()
    # Meta.ordering is dropped from GROUP BY queries, so the order is repeated here.
    return Category.objects.annotate(thread_count=Count("threads")).order_by("position", "name")


def category_threads(category):
    return category.threads.select_related("author", "category").order_by("-pinned", "-last_post_at")


def recent_threads(limit=10):
    return Thread.objects.select_related("author", "category").order_by("-last_post_at")[:limit]


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


def thread_posts(thread):
    """Posts in tree order (each reply after its parent), depth attached, in one query."""
    posts = list(thread.posts.select_related("author__organization").order_by("created_at", "id"))
    children = {}
    for post in posts:
        children.setdefault(post.parent_id, []).append(post)
    ordered = []
    stack = [(post, 0) for post in reversed(children.get(None, []))]
    while stack:
        post, depth = stack.pop()
        post.depth = min(depth, 6)  # indentation stops growing so deep trees stay readable on a phone
        ordered.append(post)
        stack.extend((child, depth + 1) for child in reversed(children.get(post.id, [])))
    return ordered


def thread_for_list(thread_id) -> Thread:
    return Thread.objects.select_related("author", "category").get(pk=thread_id)


def post_for_display(post_id) -> Post:
    return Post.objects.select_related("author__organization", "thread").get(pk=post_id)


def upcoming_econsultations():
    return EConsultation.objects.select_related("webinar", "thread").order_by("live_starts_at")

