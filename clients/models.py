"""Tenancy: the firm (tenant), who works in it, and the contractors it serves.

Every model holding a firm's data declares `firm_lookup`, the ORM path from it to its Firm,
and uses `FirmScopedQuerySet`. Views reach such rows only through `for_firm(request.firm)`
(see `clients.access`); `tests/test_scoping_lint.py` fails on any other use in a view.
"""

import hashlib
import secrets
import zoneinfo
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("Users need an email address.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A person who logs in: email is the login, there is no username."""

    username = None
    email = models.EmailField("email address", unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = []

    objects = UserManager()

    def __str__(self) -> str:
        return self.get_full_name() or self.email


class FirmScopedQuerySet(models.QuerySet):
    """The one way views read tenant data: `Model.objects.for_firm(firm)`."""

    def for_firm(self, firm: "Firm") -> "FirmScopedQuerySet":
        if firm is None:
            return self.none()
        return self.filter(**{self.model.firm_lookup: firm})


class MfaPolicy(models.TextChoices):
    """Whose accounts must have two-factor authentication before working in the firm."""

    NOBODY = "nobody", "Nobody (each person chooses)"
    ADMINS = "admins", "Owners and admins"
    STAFF = "staff", "All staff"


class Firm(models.Model):
    """A bookkeeping firm: the tenant. Everything else hangs off one."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    mfa_required = models.CharField(
        "two-factor authentication required for",
        max_length=10,
        choices=MfaPolicy.choices,
        default=MfaPolicy.NOBODY,
        db_default=MfaPolicy.NOBODY,  # rows written by older code (and old migrations) too
    )
    # A finding is "high" only when it matters: at least this much, or 5 % of a client's
    # monthly revenue when that is more (reconciliation/materiality.py).
    materiality_floor = models.DecimalField(
        "smallest amount that makes a finding high",
        max_digits=14,
        decimal_places=2,
        default=Decimal("500.00"),
        db_default=Decimal("500.00"),
    )
    # Approving a fix of more than this asks a second, explicit confirmation (and bulk
    # approval leaves such findings to be approved one by one).
    confirm_fixes_above = models.DecimalField(
        "fixes above this amount need a second confirmation",
        max_digits=14,
        decimal_places=2,
        default=Decimal("5000.00"),
        db_default=Decimal("5000.00"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    ACCOUNTANT = "accountant", "Accountant"
    VIEWER = "viewer", "Viewer"


# Higher ranks may do everything lower ranks may.
ROLE_RANK = {Role.VIEWER: 0, Role.ACCOUNTANT: 1, Role.ADMIN: 2, Role.OWNER: 3}


class Membership(models.Model):
    """A user's place in a firm, with the role that decides what they may do there."""

    firm_lookup = "firm"

    firm = models.ForeignKey(Firm, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.ACCOUNTANT)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = FirmScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["firm", "user"], name="one_membership_per_firm")
        ]
        ordering = ["firm", "user__email"]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}) at {self.firm}"

    def has_role(self, minimum: str) -> bool:
        return ROLE_RANK[Role(self.role)] >= ROLE_RANK[Role(minimum)]

    @property
    def needs_mfa(self) -> bool:
        """Whether the firm's policy requires two-factor authentication of this member."""
        policy = self.firm.mfa_required
        return policy == MfaPolicy.STAFF or (
            policy == MfaPolicy.ADMINS and self.has_role(Role.ADMIN)
        )


def timezone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())]


class Client(models.Model):
    """A contractor the firm keeps books for."""

    firm_lookup = "firm"

    firm = models.ForeignKey(Firm, on_delete=models.CASCADE, related_name="clients")
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60)
    timezone = models.CharField(
        max_length=64,
        default="America/New_York",
        help_text="Dates, periods and month ends are in this timezone.",
    )
    country = models.CharField(
        max_length=2,
        default="US",
        help_text="ISO country code; the default for phone numbers and tax IDs.",
    )
    assigned_staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="assigned_clients"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = FirmScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["firm", "slug"], name="client_slug_unique_in_firm"),
            models.UniqueConstraint("firm", Lower("name"), name="client_name_unique_in_firm"),
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


STAFF_INVITATION_LIFETIME = timedelta(days=14)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class StaffInvitation(models.Model):
    """An emailed invitation to join a firm with a role. Only the token's hash is stored."""

    firm_lookup = "firm"

    firm = models.ForeignKey(Firm, on_delete=models.CASCADE, related_name="staff_invitations")
    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.ACCOUNTANT)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = FirmScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} → {self.firm} as {self.role}"

    @staticmethod
    def new_token() -> str:
        return secrets.token_urlsafe(32)

    @property
    def expires_at(self):
        return self.created_at + STAFF_INVITATION_LIFETIME

    @property
    def is_open(self) -> bool:
        return (
            self.accepted_at is None
            and self.revoked_at is None
            and timezone.now() < self.expires_at
        )


class AuditEntry(models.Model):
    """Who changed what, when, with the values before and after. Written by `actions`."""

    firm_lookup = "firm"

    firm = models.ForeignKey(Firm, on_delete=models.CASCADE, related_name="audit_entries")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    action = models.CharField(max_length=80)
    object_type = models.CharField(max_length=80)
    object_id = models.CharField(max_length=80)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = FirmScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-at"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.object_type}"
