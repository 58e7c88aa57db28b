from django.db import models
from django.utils import timezone

from community.models import Member
from threads.models import Post


class MailPreference(models.Model):
    class Mode(models.TextChoices):
        EACH = "each", "Every message, as it is posted"
        DAILY = "daily", "One daily digest"
        NONE = "none", "No email: I read on the website"

    member = models.OneToOneField(Member, on_delete=models.CASCADE, related_name="mail_preference")
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.DAILY)
    # Bumping this revokes every reply address and unsubscribe link issued to the member so far.
    token_generation = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.member}: {self.get_mode_display()}"


class OutboundMessage(models.Model):
    """One row per (post, member): a retried or duplicated task can neither double-send nor skip."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to send"
        SENT = "sent", "Sent"
        SKIPPED = "skipped", "Not sent: no longer a member or no longer wants each message"
        FAILED = "failed", "Gave up after retries"

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="outbound_messages")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="outbound_messages")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "member"], name="one_outbound_per_post_member")]

    def __str__(self):
        return f"Post {self.post_id} to member {self.member_id}: {self.status}"


class DigestLog(models.Model):
    """A digest sent (or found empty) for one member and one day; the unique row makes reruns harmless."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="digests")
    period = models.DateField()
    covered_until = models.DateTimeField()
    post_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["member", "period"], name="one_digest_per_member_day")]

    def __str__(self):
        return f"Digest of {self.period} for member {self.member_id}"


class InboundMessage(models.Model):
    """Every message that reaches us is stored first, then processed by a task."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        POSTED = "posted", "Posted"
        REJECTED = "rejected", "Rejected (sender told why)"
        IGNORED = "ignored", "Ignored (automated or our own mail)"

    message_id = models.CharField(max_length=255, unique=True)
    raw = models.TextField()
    sender = models.CharField(max_length=255, blank=True)
    recipient = models.CharField(max_length=255, blank=True)
    subject = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED, db_index=True)
    note = models.TextField(blank=True)
    post = models.ForeignKey(Post, null=True, blank=True, on_delete=models.SET_NULL)
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.message_id} from {self.sender}: {self.status}"


class CapturedEmail(models.Model):
    """Development only: what would have been sent, readable at /dev/mail/."""

    sender = models.CharField(max_length=255)
    recipients = models.TextField()
    subject = models.CharField(max_length=255, blank=True)
    raw = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.subject} to {self.recipients}"


class SentNotice(models.Model):
    """A one-off notice sent to one member about one thing (e.g. an e-consultation summary): the unique row
    makes a retried task skip those already sent, so nobody gets it twice and nobody is skipped."""

    kind = models.CharField(max_length=40)
    object_id = models.PositiveBigIntegerField()
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "object_id", "member"], name="one_notice_per_member")
        ]

    def __str__(self):
        return f"{self.kind} {self.object_id} to member {self.member_id}"
