from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from community.models import Member


class Category(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)
    moderators_only = models.BooleanField(
        "only moderators start threads", default=False, help_text="For announcements."
    )

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "categories"

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.slug = self.slug or slugify(self.name)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("category", args=[self.slug])


class Thread(models.Model):
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="threads")
    title = models.CharField(max_length=200)
    author = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="threads")
    created_at = models.DateTimeField(default=timezone.now)
    last_post_at = models.DateTimeField(default=timezone.now, db_index=True)
    post_count = models.PositiveIntegerField(default=0)
    locked = models.BooleanField(default=False)
    pinned = models.BooleanField(default=False)

    class Meta:
        ordering = ["-pinned", "-last_post_at"]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("thread", args=[self.pk])


class Post(models.Model):
    class Source(models.TextChoices):
        WEB = "web", "Web"
        EMAIL = "email", "Email"
        LIVE = "live", "Live room"
        IMPORT = "import", "Imported"

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="posts")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="replies")
    author = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="posts")
    body = models.TextField(help_text="Markdown as the author wrote it.")
    html = models.TextField(help_text="Sanitised HTML rendered from the body.")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.WEB)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # The Message-ID used in list mail; replies by email quote it back in In-Reply-To.
    message_id = models.CharField(max_length=255, unique=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"Post {self.pk} in {self.thread}"

    def get_absolute_url(self):
        return f"{self.thread.get_absolute_url()}#post-{self.pk}"


class Webinar(models.Model):
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    presenters = models.TextField(blank=True, help_text="One presenter per line: name, role, organization.")
    starts_at = models.DateTimeField()
    registration_url = models.URLField(blank=True)
    recording_url = models.URLField(blank=True)

    class Meta:
        ordering = ["-starts_at"]

    def __str__(self):
        return self.title


class EConsultation(models.Model):
    """A moderated discussion that follows a webinar, live during its window."""

    webinar = models.OneToOneField(Webinar, on_delete=models.CASCADE, related_name="econsultation")
    thread = models.OneToOneField(Thread, on_delete=models.PROTECT, related_name="econsultation")
    live_starts_at = models.DateTimeField()
    live_ends_at = models.DateTimeField()

    def __str__(self):
        return f"E-consultation: {self.webinar}"

    def state(self, now=None):
        now = now or timezone.now()
        if now < self.live_starts_at:
            return "open for questions"
        if now <= self.live_ends_at:
            return "live"
        return "closed"
