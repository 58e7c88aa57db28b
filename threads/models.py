import uuid

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from community.models import Member

from .guard import Finding, summary


class Category(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)
    moderators_only = models.BooleanField(
        "only moderators start threads", default=False, help_text="For announcements."
    )
    allow_anonymous = models.BooleanField(
        "members may post anonymously", default=False,
        help_text="Members see “a member (clinical staff, Midwest)”; moderators still see who wrote it.",
    )
    web_only = models.BooleanField(
        "web only", default=False,
        help_text="Posts here are never emailed in full: list mail and digests carry only the title and a link.",
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
    # The opening post waits for a moderator (threads.moderation): the thread is listed only to moderators and
    # its author until it is approved.
    held_at = models.DateTimeField(null=True, blank=True)
    search_vector = models.GeneratedField(
        expression=SearchVector("title", config="english", weight="A"),
        output_field=SearchVectorField(), db_persist=True,
    )

    class Meta:
        ordering = ["-pinned", "-last_post_at"]
        indexes = [GinIndex(fields=["search_vector"], name="thread_search_gin")]

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
    edited_at = models.DateTimeField(null=True, blank=True)
    # Soft delete: the post keeps its place in the tree (replies stay readable) and a moderator can restore it.
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="deleted_posts"
    )
    # Hidden by a moderator pending review: readable by moderators and the author only.
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_reason = models.TextField(blank=True)
    # Shown to members instead of the author's name ("a member (clinical staff, Midwest)"), in categories that allow
    # it; moderators still see the author.
    anonymous = models.BooleanField(default=False)
    # A note that comes before the post ("describes torture methods"): collapsed on the web until the reader opens it,
    # and first in list mail, before a clear break. Parts of a post can carry their own (threads.markdown).
    content_note = models.CharField(max_length=200, blank=True)
    # Held for a moderator's approval before it was ever published: hidden_at is set too (so every reader treats
    # it as hidden), and approval publishes it (live, list mail) as if it had just been posted.
    held_at = models.DateTimeField(null=True, blank=True)
    # E-consultation questions: submitted in advance or during the live window, highlighted and answered
    # by hosts.
    is_question = models.BooleanField(default=False)
    highlighted_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    search_vector = models.GeneratedField(
        expression=SearchVector("body", config="english", weight="B"),
        output_field=SearchVectorField(), db_persist=True,
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [GinIndex(fields=["search_vector"], name="post_search_gin")]

    def __str__(self):
        return f"Post {self.pk} in {self.thread}"

    def get_absolute_url(self):
        # Resolved to the page of the thread that shows the post: a long thread has several.
        return reverse("post", args=[self.pk])


class Webinar(models.Model):
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    presenters = models.TextField(blank=True, help_text="One presenter per line: name, role, organization.")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    time_zone = models.CharField(
        max_length=64, default="America/New_York", help_text="IANA name, e.g. America/Chicago."
    )
    registration_url = models.URLField(blank=True)
    recording_url = models.URLField(blank=True)
    tags = ArrayField(models.CharField(max_length=60), default=list, blank=True,
                      help_text="Topics, e.g. the five Complex Care domains.")

    class Meta:
        ordering = ["-starts_at"]

    def __str__(self):
        return self.title


class EConsultation(models.Model):
    """A moderated discussion that follows a webinar, live during its window."""

    webinar = models.OneToOneField(Webinar, on_delete=models.CASCADE, related_name="econsultation")
    thread = models.OneToOneField(Thread, on_delete=models.PROTECT, related_name="econsultation")
    questions_open_at = models.DateTimeField(
        null=True, blank=True, help_text="When members may start sending questions."
    )
    live_starts_at = models.DateTimeField()
    live_ends_at = models.DateTimeField()
    hosts = models.ManyToManyField(Member, blank=True, related_name="hosted_econsultations")
    summary = models.TextField(blank=True, help_text="Markdown, written by a host after the live window.")
    summary_html = models.TextField(blank=True)
    summarised_at = models.DateTimeField(null=True, blank=True)
    summarised_by = models.ForeignKey(Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    def __str__(self):
        return f"E-consultation: {self.webinar}"

    UPCOMING, OPEN, LIVE, CLOSED, SUMMARISED = "upcoming", "open for questions", "live", "closed", "summarised"

    def state(self, now=None):
        """upcoming → open for questions → live → closed → summarised; without questions_open_at questions are
        open from the start."""
        now = now or timezone.now()
        if self.summarised_at:
            return self.SUMMARISED
        if self.questions_open_at and now < self.questions_open_at:
            return self.UPCOMING
        if now < self.live_starts_at:
            return self.OPEN
        if now <= self.live_ends_at:
            return self.LIVE
        return self.CLOSED


class Presenter(models.Model):
    webinar = models.ForeignKey(Webinar, on_delete=models.CASCADE, related_name="presenter_set")
    name = models.CharField(max_length=150)
    role = models.CharField(max_length=150, blank=True)
    organization = models.CharField(max_length=200, blank=True)
    bio = models.TextField(blank=True)
    member = models.ForeignKey(Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return self.name


class PostRevision(models.Model):
    """The body a post had before an edit: the visible edit history."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="revisions")
    body = models.TextField()
    edited_by = models.ForeignKey(Member, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"Revision of post {self.post_id} from {self.created_at:%Y-%m-%d %H:%M}"


def attachment_path(instance, filename):
    # Stored under an unguessable name, never served directly: downloads go through the access check.
    return f"attachments/{timezone.now():%Y/%m}/{uuid.uuid4().hex}"


class ResourceTopic(models.Model):
    """A topic of the resource library: the five Complex Care domains and others (group work, interpreters, ...).
    Moderators add topics in the admin; the seeded ones come from the migration."""

    name = models.CharField(max_length=60, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    complex_care_domain = models.BooleanField(
        "one of the five Complex Care domains", default=False,
        help_text="Trauma story, biomedical, psychological, social, spiritual: listed first, together.",
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-complex_care_domain", "position", "name"]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.slug = self.slug or slugify(self.name)
        super().save(*args, **kwargs)


class Resource(models.Model):
    """A guide, handout, toolkit or recording a member submitted to the library: a link and/or files, reviewed by
    a moderator before members see it (threads.resources)."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", "Waiting for review"
        CHANGES_REQUESTED = "changes_requested", "Changes asked for"
        APPROVED = "approved", "In the library"
        REJECTED = "rejected", "Not accepted"

    class Audience(models.TextChoices):
        NEW_EMPLOYEE = "new_employee", "New employees"
        CLINICIAN = "clinician", "Clinicians"
        CASE_MANAGER = "case_manager", "Case managers"
        LEGAL = "legal", "Legal staff"
        ADMINISTRATOR = "administrator", "Administrators"
        STUDENT = "student", "Students and researchers"

    class LinkStatus(models.TextChoices):
        UNCHECKED = "unchecked", "Not checked yet"
        OK = "ok", "Working"
        BROKEN = "broken", "Broken"

    title = models.CharField(max_length=200)
    description = models.TextField(help_text="Markdown: what it is and who it helps.")
    description_html = models.TextField(blank=True)
    url = models.URLField("link", max_length=1000, blank=True)
    topics = models.ManyToManyField(ResourceTopic, blank=True, related_name="resources")
    audiences = ArrayField(models.CharField(max_length=20, choices=Audience.choices), default=list, blank=True)
    language = models.CharField(max_length=40, default="English")
    webinar = models.ForeignKey(Webinar, null=True, blank=True, on_delete=models.SET_NULL, related_name="resources")
    thread = models.ForeignKey(Thread, null=True, blank=True, on_delete=models.SET_NULL, related_name="resources")
    # SET_NULL: an erased member's resources stay in the library, shown as from a former member.
    submitted_by = models.ForeignKey(Member, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="resources")
    submitted_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SUBMITTED, db_index=True)
    # The moderator's words to the submitter: what to change, or why it was not accepted.
    review_note = models.TextField(blank=True)
    reviewed_by = models.ForeignKey(Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    # First time it entered the library: the weekly digest lists it as new then, once.
    approved_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # The periodic link check (threads.link_check): flagged to moderators, never removed.
    link_status = models.CharField(max_length=10, choices=LinkStatus.choices, default=LinkStatus.UNCHECKED)
    link_checked_at = models.DateTimeField(null=True, blank=True)
    link_error = models.CharField(max_length=300, blank=True)
    link_failures = models.PositiveSmallIntegerField(default=0, help_text="Failed checks in a row.")
    search_vector = models.GeneratedField(
        expression=SearchVector("title", config="english", weight="A")
        + SearchVector("description", config="english", weight="B"),
        output_field=SearchVectorField(), db_persist=True,
    )

    class Meta:
        ordering = ["-approved_at", "-submitted_at"]
        indexes = [GinIndex(fields=["search_vector"], name="resource_search_gin")]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("resource", args=[self.pk])

    def get_audiences_display(self) -> list[str]:
        labels = dict(self.Audience.choices)
        return [labels[value] for value in self.audiences if value in labels]


class ResourceCitation(models.Model):
    """A post that links to a resource's page: the resource page lists the threads that discuss it."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="citations")
    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="citations")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "resource"], name="one_citation_per_post")]

    def __str__(self):
        return f"Post {self.post_id} cites resource {self.resource_id}"


class Attachment(models.Model):
    post = models.ForeignKey(Post, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments")
    webinar = models.ForeignKey(Webinar, null=True, blank=True, on_delete=models.CASCADE, related_name="slides")
    resource = models.ForeignKey("Resource", null=True, blank=True, on_delete=models.CASCADE, related_name="files")
    uploaded_by = models.ForeignKey(Member, null=True, on_delete=models.SET_NULL, related_name="+")
    file = models.FileField(upload_to=attachment_path)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.original_name


class ThreadRead(models.Model):
    """How far a member has read a thread: what is new since their last visit."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="thread_reads")
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="reads")
    last_read_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "thread"], name="one_read_mark_per_thread")]

    def __str__(self):
        return f"Member {self.member_id} read thread {self.thread_id} until {self.last_read_at:%Y-%m-%d %H:%M}"


class Subscription(models.Model):
    """A member's own delivery choice for one thread or a whole category, overriding their mail settings:
    watching (every message), a daily or weekly digest, only threads they take part in (categories only), or
    muted (no email)."""

    class Level(models.TextChoices):
        WATCH = "watch", "Every message"
        DAILY = "daily", "Daily digest"
        WEEKLY = "weekly", "Weekly digest"
        MINE = "mine", "Only threads I take part in"
        MUTE = "mute", "No email"

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="subscriptions")
    thread = models.ForeignKey(Thread, null=True, blank=True, on_delete=models.CASCADE, related_name="subscriptions")
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.CASCADE, related_name="subscriptions"
    )
    level = models.CharField(max_length=10, choices=Level.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(thread__isnull=False, category__isnull=True)
                | models.Q(thread__isnull=True, category__isnull=False),
                name="subscription_thread_xor_category",
            ),
            # In a single thread "only threads I take part in" means nothing more than watching or muting it.
            models.CheckConstraint(
                condition=~models.Q(thread__isnull=False, level="mine"), name="subscription_mine_is_for_categories",
            ),
            models.UniqueConstraint(fields=["member", "thread"], name="one_subscription_per_thread"),
            models.UniqueConstraint(fields=["member", "category"], name="one_subscription_per_category"),
        ]

    def __str__(self):
        target = f"thread {self.thread_id}" if self.thread_id else f"category {self.category_id}"
        return f"Member {self.member_id}: {self.level} {target}"


class Mention(models.Model):
    """A post that names a member with @handle (threads.mentions): for "only my threads" delivery."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="mentions")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="mentions")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "member"], name="one_mention_per_post_member")]

    def __str__(self):
        return f"Post {self.post_id} mentions member {self.member_id}"


class Bookmark(models.Model):
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="bookmarks")
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="bookmarks")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "post"], name="one_bookmark_per_post")]

    def __str__(self):
        return f"Member {self.member_id} bookmarked post {self.post_id}"


class Reaction(models.Model):
    class Kind(models.TextChoices):
        HELPFUL = "helpful", "Helpful"

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="reactions")
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="reactions")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.HELPFUL)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "post", "kind"], name="one_reaction_per_kind")]

    def __str__(self):
        return f"Member {self.member_id} found post {self.post_id} {self.kind}"


class LiveEvent(models.Model):
    """Every live update of a thread, numbered, so a client that reconnects asks for what it missed."""

    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="live_events")
    kind = models.CharField(max_length=40)
    post = models.ForeignKey(Post, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["thread", "id"], name="live_event_catch_up")]

    def __str__(self):
        return f"{self.kind} #{self.pk} in thread {self.thread_id}"


class FeedToken(models.Model):
    """A private, revocable token for a member's calendar or news feed (feed readers cannot sign in)."""

    class Kind(models.TextChoices):
        CALENDAR = "calendar", "Calendar"
        NEWS = "news", "New threads"

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="feed_tokens")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.get_kind_display()} feed of member {self.member_id}"


class GuardCheck(models.Model):
    """One time the confidentiality guard (threads.guard) found what could identify a client in a post or an edit,
    and what happened next. Keeps the kinds of finding and their places in the text, never the text itself."""

    class Source(models.TextChoices):
        WEB = "web", "Web form"
        LIVE = "live", "Live room"
        EMAIL = "email", "Email"
        EDIT = "edit", "Edit"

    class Outcome(models.TextChoices):
        STOPPED = "stopped", "Not posted: shown to the author"
        HELD = "held", "Held: waiting for the author or a moderator"
        EDITED = "edited", "Edited until nothing was found"
        CONFIRMED = "confirmed", "Author confirmed it is not client information"
        RELEASED = "released", "Released by a moderator"
        REJECTED = "rejected", "Rejected by a moderator"

    post = models.ForeignKey(Post, null=True, blank=True, on_delete=models.SET_NULL, related_name="guard_checks")
    author = models.ForeignKey(Member, null=True, on_delete=models.SET_NULL, related_name="+")
    source = models.CharField(max_length=10, choices=Source.choices)
    findings = models.JSONField(default=list,
                                help_text="[{kind, start, end, score}]: places in the text, not the text.")
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.STOPPED, db_index=True)
    reason = models.TextField(blank=True, help_text="Why the author or moderator let it through.")
    decided_by = models.ForeignKey(Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Guard check {self.pk}: {self.get_outcome_display()}"

    @property
    def kinds(self) -> list[str]:
        """The kinds found (threads.guard), each once, in the order found."""
        return list(dict.fromkeys(finding["kind"] for finding in self.findings))

    @property
    def found(self) -> str:
        """What was found, in words: "an A-number and a date of birth"."""
        return summary([Finding.from_record(finding) for finding in self.findings]) if self.findings else ""
