from django.db import models
from django.utils import timezone

from community.models import Member
from threads.models import Post


class MailPreference(models.Model):
    class Mode(models.TextChoices):
        EACH = "each", "Every message, as it is posted"
        DAILY = "daily", "One daily digest"
        WEEKLY = "weekly", "One weekly digest"
        MINE = "mine", "Only threads I started, replied to or am mentioned in"
        NONE = "none", "No email: I read on the website"

    member = models.OneToOneField(Member, on_delete=models.CASCADE, related_name="mail_preference")
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.DAILY)
    # Bumping this revokes every reply address and unsubscribe link issued to the member so far.
    token_generation = models.PositiveIntegerField(default=0)
    # List mail stops at once on a hard bounce or a spam complaint, and after SOFT_BOUNCE_LIMIT soft bounces;
    # the member sees why on the website and turns it back on themselves (mailer.bounces).
    delivery_paused_at = models.DateTimeField(null=True, blank=True)
    delivery_pause_reason = models.TextField(blank=True)
    soft_bounces = models.PositiveIntegerField(default=0)

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
    """A digest sent (or found empty) for one member and one period, named by its date in the member's time zone:
    the day, or for a weekly digest that week's DIGEST_WEEKDAY; the unique row makes reruns harmless."""

    class Kind(models.TextChoices):
        DAILY = "daily", "Daily"
        WEEKLY = "weekly", "Weekly"

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="digests")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.DAILY)
    period = models.DateField()
    covered_until = models.DateTimeField()
    post_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "kind", "period"], name="one_digest_per_member_period"),
        ]

    def __str__(self):
        return f"Digest of {self.period} for member {self.member_id}"


class InboundMessage(models.Model):
    """Every message that reaches us is stored first, then processed by a task."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        POSTED = "posted", "Posted"
        HANDLED = "handled", "Done (an unsubscribe, or a moderator's answer)"
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


class DeliveryEvent(models.Model):
    """A bounce, complaint or other delivery report about one address, from an ESP's tracking webhook or a
    bounce message sent back to our envelope address: stored first, then applied by a task (mailer.bounces)."""

    class Kind(models.TextChoices):
        HARD_BOUNCE = "hard_bounce", "Bounced (address does not accept mail)"
        SOFT_BOUNCE = "soft_bounce", "Bounced for now (mailbox full, server down)"
        COMPLAINT = "complaint", "Marked as spam"
        UNSUBSCRIBE = "unsubscribe", "Unsubscribed at the provider"
        OTHER = "other", "Other report"

    esp_name = models.CharField(max_length=40)
    # The provider's own id for the event; with esp_name unique when present, so a webhook retried by the
    # provider is stored once.
    event_id = models.CharField(max_length=255, blank=True)
    event_type = models.CharField(max_length=30, help_text="anymail's normalized event type, or 'dsn'.")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    recipient = models.CharField(max_length=255)
    member = models.ForeignKey(Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    description = models.TextField(blank=True)
    raw = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField(default=timezone.now)
    received_at = models.DateTimeField(default=timezone.now)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-occurred_at"]
        constraints = [
            models.UniqueConstraint(fields=["esp_name", "event_id"], condition=~models.Q(event_id=""),
                                    name="one_delivery_event_per_provider_id"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.recipient}"


class ImportedMessage(models.Model):
    """One message of an imported Google Group archive, kept as exported (the original stays readable); the
    unique Message-ID makes a second run of the import add nothing."""

    class Outcome(models.TextChoices):
        POSTED = "posted", "Imported as a post"
        AUTOMATED = "automated", "Skipped: automatic reply"

    message_id = models.CharField(max_length=255, unique=True)
    raw = models.TextField()
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    post = models.OneToOneField(Post, null=True, blank=True, on_delete=models.SET_NULL, related_name="imported_from")
    imported_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.message_id}: {self.outcome}"


class ListInvitation(models.Model):
    """Someone from the Google Group: on its member list, or an author in its archive. Never an account until
    they apply and are approved; their imported posts belong to a placeholder member until an account that has
    verified this address claims them."""

    class Source(models.TextChoices):
        MEMBER_LIST = "member_list", "Google Group member list"
        ARCHIVE = "archive", "Author in the archive only"

    email = models.EmailField(unique=True, help_text="Lowercase.")
    name = models.CharField(max_length=150, blank=True)
    source = models.CharField(max_length=20, choices=Source.choices)
    group_role = models.CharField(max_length=20, blank=True, help_text="owner, manager or member in the group.")
    delivery = models.CharField(max_length=10, blank=True, help_text="The MailPreference mode their group "
                                "email preference maps to, applied when they join.")
    posting_allowed = models.BooleanField(default=True)
    joined_group_at = models.DateTimeField(null=True, blank=True)
    placeholder = models.OneToOneField(Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    claimed_by = models.ForeignKey(Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    claimed_at = models.DateTimeField(null=True, blank=True)
    invited_at = models.DateTimeField(null=True, blank=True, help_text="When the invitation email was sent.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["email"]

    def __str__(self):
        return self.name or self.email
