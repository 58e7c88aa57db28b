from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
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
    email_domains = models.TextField(blank=True, help_text="Verified work-email domains, one per line.")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

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
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Declined"

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="applications")
    eligibility_category = models.CharField(max_length=20, choices=EligibilityBasis.choices)
    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.SET_NULL)
    organization_name = models.CharField("organization (if not listed)", max_length=200, blank=True)
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


class AuditRecord(models.Model):
    """Every moderation action: who did what to whom, when and why."""

    actor = models.ForeignKey(Member, null=True, on_delete=models.SET_NULL, related_name="audit_actions")
    action = models.CharField(max_length=50)
    subject = models.ForeignKey(Member, null=True, on_delete=models.SET_NULL, related_name="audit_subjects")
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.action} by {self.actor} on {self.subject}"
