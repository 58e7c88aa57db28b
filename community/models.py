from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.utils import timezone


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra):
        user = self.model(email=self.normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """Accounts log in by email; there are no usernames to remember."""

    username = None
    email = models.EmailField("email address", unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []
    objects = UserManager()


class EligibilityBasis(models.TextChoices):
    ORR_TVRA_GRANTEE = "orr_tvra", "ORR/TVRA grantee program"
    NCTTP_MEMBER = "ncttp", "Member of the National Consortium of Torture Treatment Programs"
    ORR_STAFF = "orr_staff", "ORR staff"
    OTHER_ORR_FUNDED = "orr_funded", "Other ORR-funded program that serves survivors"


class Organization(models.Model):
    name = models.CharField(max_length=200, unique=True)
    eligibility_basis = models.CharField(max_length=20, choices=EligibilityBasis.choices)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=50, blank=True)
    website = models.URLField(blank=True)
    email_domains = ArrayField(
        models.CharField(max_length=253), default=list, blank=True,
        help_text="Verified work-email domains, lowercase, e.g. cascade.example.org.",
    )
    auto_approve_verified_domains = models.BooleanField(
        default=False,
        help_text="Approve applicants whose work email is at one of the verified domains without a moderator.",
    )
    active = models.BooleanField(default=True)
    notes = models.TextField(blank=True, help_text="For moderators only.")

    class Meta:
        ordering = ["name"]
        indexes = [GinIndex(fields=["email_domains"], name="organization_domains_gin")]

    def __str__(self):
        return self.name


class Member(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Application pending"
        ACTIVE = "active", "Member"
        REJECTED = "rejected", "Application declined"
        SUSPENDED = "suspended", "Suspended"
        LAPSED = "lapsed", "Lapsed (re-verification due)"
        DEPARTED = "departed", "Left the community"
        # An author of imported list mail who has no account here yet (mailer.list_import): their posts keep
        # their name until someone verifies that address and claims them. Never a member, never signs in.
        PLACEHOLDER = "placeholder", "Imported author (no account)"

    class Role(models.TextChoices):
        MEMBER = "member", "Member"
        MODERATOR = "moderator", "Moderator"
        ADMIN = "admin", "Administrator"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="member")
    full_name = models.CharField(max_length=150)
    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.SET_NULL)
    role_title = models.CharField("role or title", max_length=150, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Annual re-verification: when the member last confirmed they still work at an eligible program, and
    # how many reminders went out since it fell due.
    verified_at = models.DateTimeField(null=True, blank=True)
    reverification_reminders_sent = models.PositiveSmallIntegerField(default=0)
    last_reminder_at = models.DateTimeField(null=True, blank=True)
    departed_at = models.DateTimeField(null=True, blank=True)
    # IANA name, e.g. America/Chicago; empty means the site's TIME_ZONE. Digests arrive in the member's morning.
    time_zone = models.CharField(max_length=64, blank=True)
    # Which kind of staff the member is, for the label of anonymous posts ("a member (clinical staff, Midwest)").
    class StaffRole(models.TextChoices):
        CLINICAL = "clinical", "clinical staff"
        CASE_MANAGEMENT = "case_management", "case management"
        LEGAL = "legal", "legal staff"
        ADMINISTRATION = "administration", "program administration"
        OTHER = "other", "program staff"

    staff_role = models.CharField("kind of work", max_length=20, choices=StaffRole.choices, blank=True)
    # Content notes on the web: collapsed until opened (the default), or always open for this reader.
    expand_content_notes = models.BooleanField("always show posts behind a content note", default=False)
    # Google Groups' "moderate" posting permission: a moderator approves each post before anyone sees it.
    posts_held = models.BooleanField(
        "hold posts for approval", default=False,
        help_text="Each post by this member waits for a moderator before anyone else sees it or gets it by email.",
    )
    # Onboarding (mailer.onboarding): when the member first finished the Start here page, and when they agreed to
    # the confidentiality pledge. Members approved before onboarding existed count as welcomed.
    welcomed_at = models.DateTimeField(null=True, blank=True)
    pledged_at = models.DateTimeField(null=True, blank=True)
    # Profile, visible to members only; each part can be hidden by the member.
    bio = models.TextField(blank=True, max_length=2000)
    areas_of_practice = models.CharField(max_length=300, blank=True)
    show_email = models.BooleanField("show my email address to members", default=False)
    show_organization = models.BooleanField("show my organization", default=True)
    show_role = models.BooleanField("show my role", default=True)
    show_bio = models.BooleanField("show my bio and areas of practice", default=True)

    class Meta:
        ordering = ["full_name"]

    def __str__(self):
        return self.full_name

    @property
    def is_active_member(self):
        return self.status == self.Status.ACTIVE

    @property
    def is_moderator(self):
        return self.is_active_member and self.role in (self.Role.MODERATOR, self.Role.ADMIN)

    @property
    def email(self):
        return self.user.email

    @property
    def organization_label(self):
        return self.organization.name if self.organization else ""


class Application(models.Model):
    """What an applicant told us, and what a moderator decided about it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        INFO_REQUESTED = "info_requested", "Waiting for the applicant"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Declined"

    class Kind(models.TextChoices):
        JOIN = "join", "New applicant"
        CHANGE = "change", "Changed organization or work email"

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="applications")
    eligibility_category = models.CharField(max_length=20, choices=EligibilityBasis.choices)
    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.SET_NULL)
    organization_name = models.CharField("organization (if not listed)", max_length=200, blank=True)
    organization_website = models.URLField("organization website (if not listed)", blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.JOIN)
    # What community.eligibility.assess found, shown to moderators as evidence.
    eligibility_result = models.CharField(max_length=30, blank=True)
    eligibility_evidence = models.JSONField(default=list, blank=True)
    info_request = models.TextField("question for the applicant", blank=True)
    info_response = models.TextField("applicant's answer", blank=True)
    info_requested_at = models.DateTimeField(null=True, blank=True)
    info_responded_at = models.DateTimeField(null=True, blank=True)
    role_title = models.CharField(max_length=150)
    work_email = models.EmailField()
    statement = models.TextField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True)
    submitted_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="decisions"
    )
    decision_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["submitted_at"]

    def __str__(self):
        return f"Application of {self.member}"

    @property
    def organization_display(self):
        return self.organization.name if self.organization else f"{self.organization_name} (not listed)"


class ErasureRequest(models.Model):
    """A departing member asks to be erased; a moderator confirms (community.erasure). Once carried out the row
    keeps only that an erasure happened and when: the member link is gone with the account."""

    class Status(models.TextChoices):
        REQUESTED = "requested", "Waiting for a moderator"
        DONE = "done", "Erased"
        DECLINED = "declined", "Declined"

    member = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="erasure_requests"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED, db_index=True)
    note = models.TextField(blank=True, help_text="What the member told us, if anything; emptied once erased.")
    requested_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["requested_at"]

    def __str__(self):
        return f"Erasure request {self.pk}: {self.get_status_display()}"


class CommunityText(models.Model):
    """Words moderators keep up to date without a deploy: the welcome on Start here, the community guidelines and
    the confidentiality pledge (Markdown, rendered once when saved)."""

    class Key(models.TextChoices):
        WELCOME = "welcome", "Welcome (top of Start here)"
        GUIDELINES = "guidelines", "Community guidelines"
        PLEDGE = "pledge", "Confidentiality pledge"

    key = models.CharField(max_length=20, choices=Key.choices, unique=True)
    body = models.TextField(help_text="Markdown.")
    html = models.TextField(blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    def __str__(self):
        return self.get_key_display()


class AuditRecord(models.Model):
    """Every moderation action: who did what to whom, when and why."""

    actor = models.ForeignKey(Member, null=True, on_delete=models.SET_NULL, related_name="audit_actions")
    action = models.CharField(max_length=50)
    subject = models.ForeignKey(Member, null=True, on_delete=models.SET_NULL, related_name="audit_subjects")
    # Whatever else the action touched (an organization, an application), named for people to read.
    target = models.CharField(max_length=300, blank=True)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.action} by {self.actor} on {self.subject}"
