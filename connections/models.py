"""A client's connections to its CRM and accounting system, contractor invitations, and the
webhook deliveries providers send us."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

from clients.models import Client, FirmScopedQuerySet
from clients.signed_links import LINK_LIFETIME
from syncfirm.crypto import EncryptedTextField

from .providers import System, provider


class Status(models.TextChoices):
    PENDING = "pending", "Pending"
    ACTIVE = "active", "Active"
    NEEDS_REAUTH = "needs_reauth", "Needs re-authorisation"
    REVOKED = "revoked", "Disconnected"
    ERROR = "error", "Error"


# A connection in one of these states holds its company: webhooks for that company reach it,
# and no other connection may hold the same company (see `one_connection_per_company`).
BOUND_STATUSES = (Status.ACTIVE, Status.NEEDS_REAUTH, Status.ERROR)


class Connection(models.Model):
    """One client's link to one external system, with its (encrypted) OAuth tokens."""

    firm_lookup = "client__firm"

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="connections")
    system = models.CharField(max_length=20, choices=System.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    external_id = models.CharField(
        max_length=64, blank=True, help_text="QuickBooks realm id or HubSpot portal id."
    )
    external_name = models.CharField(max_length=200, blank=True)
    scopes = models.JSONField(default=list, blank=True)
    access_token = EncryptedTextField(blank=True, default="")
    refresh_token = EncryptedTextField(blank=True, default="")
    access_expires_at = models.DateTimeField(null=True, blank=True)
    refresh_expires_at = models.DateTimeField(null=True, blank=True)
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    connected_via_invitation = models.BooleanField(default=False)
    connected_at = models.DateTimeField(null=True, blank=True)
    last_refreshed_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    reauth_alert_sent_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = FirmScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "system"], name="one_connection_per_system"),
            # One company (realm / portal) is bound to one client, across every firm: webhooks
            # are routed by it, so two holders would mean one firm's events reach another's
            # client. A race between two consents ends here, not in two bindings.
            models.UniqueConstraint(
                fields=["system", "external_id"],
                condition=models.Q(status__in=BOUND_STATUSES) & ~models.Q(external_id=""),
                name="one_connection_per_company",
            ),
        ]
        ordering = ["client__name", "system"]

    def __str__(self) -> str:
        return f"{self.client} · {self.get_system_display()} ({self.status})"

    @property
    def provider(self):
        return provider(self.system)

    @property
    def is_usable(self) -> bool:
        return self.status == Status.ACTIVE and bool(self.refresh_token)

    def access_token_fresh(self, margin: timedelta) -> bool:
        return bool(
            self.access_token
            and self.access_expires_at
            and self.access_expires_at > timezone.now() + margin
        )


class CompanyChange(models.Model):
    """Staff moved a client's system from one company to another (or took a company over
    from another client of the firm): what was set aside, kept as history.

    The old company's links, mirrors and cursors are deleted from the live tables (so no
    sync or reconciliation can read them as the new company's) and archived here as they
    were; its open findings and review items are closed with a note.
    """

    firm_lookup = "client__firm"

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="company_changes")
    system = models.CharField(max_length=20, choices=System.choices)
    old_external_id = models.CharField(max_length=64, blank=True)
    old_external_name = models.CharField(max_length=200, blank=True)
    new_external_id = models.CharField(max_length=64)
    new_external_name = models.CharField(max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    counts = models.JSONField(default=dict)
    archive = models.JSONField(default=dict, encoder=DjangoJSONEncoder)

    objects = FirmScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.client} {self.system}: {self.old_external_id} → {self.new_external_id}"


INVITATION_LIFETIME = LINK_LIFETIME  # as every emailed link (clients/signed_links.py)


class ContractorInvitation(models.Model):
    """An emailed link a contractor opens, without logging in, to connect their systems.

    The link carries a signed token (see `connections.invitations`); the row records who
    asked, for which systems, and lets the firm revoke it.
    """

    firm_lookup = "client__firm"

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(blank=True)
    systems = models.JSONField(default=list)
    nonce = models.CharField(max_length=43, unique=True, default=secrets.token_urlsafe)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Set when every system the link names has been connected through it (see `uses`).
    used_at = models.DateTimeField(null=True, blank=True)

    objects = FirmScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation for {self.client} ({', '.join(self.systems)})"

    @property
    def is_open(self) -> bool:
        return self.revoked_at is None and self.used_at is None and timezone.now() < self.expires_at


class InvitationUse(models.Model):
    """One system connected through a contractor's link: that system is spent for the link.

    The unique constraint is the last word on single use: two browsers completing the same
    link at once cannot both insert the row (`connections.invitations.spend`).
    """

    firm_lookup = "invitation__client__firm"

    invitation = models.ForeignKey(
        ContractorInvitation, on_delete=models.CASCADE, related_name="uses"
    )
    system = models.CharField(max_length=20, choices=System.choices)
    connection = models.ForeignKey(
        Connection, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The company or portal as it was connected; the connection may be changed later.
    external_name = models.CharField(max_length=200, blank=True)
    external_id = models.CharField(max_length=64, blank=True)
    used_at = models.DateTimeField(default=timezone.now)

    objects = FirmScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["invitation", "system"], name="one_use_per_invitation_system"
            )
        ]
        ordering = ["used_at"]

    def __str__(self) -> str:
        return f"{self.get_system_display()} connected through invitation {self.invitation_id}"


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    PROCESSED = "processed", "Processed"
    QUARANTINED = "quarantined", "Quarantined"
    FAILED = "failed", "Failed"


class WebhookDelivery(models.Model):
    """One verified webhook request, stored raw before anything is done with it."""

    firm_lookup = "connection__client__firm"

    system = models.CharField(max_length=20, choices=System.choices)
    account_id = models.CharField(max_length=64, blank=True)
    connection = models.ForeignKey(
        Connection, on_delete=models.SET_NULL, null=True, blank=True, related_name="deliveries"
    )
    body = models.TextField()
    body_sha256 = models.CharField(max_length=64)
    # What the delivery is, not how it was signed: a digest of its events' own identities
    # (see `webhooks.event_key`). A replay with re-encoded signature bytes has the same key.
    event_key = models.CharField(max_length=64, blank=True)
    signature = models.CharField(max_length=200)
    headers = models.JSONField(default=dict)
    status = models.CharField(
        max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED
    )
    reason = models.TextField(blank=True)
    event_count = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    objects = FirmScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            # A delivery whose events were already received is refused, however it is signed.
            # Rows from before event keys existed have none and are left out.
            models.UniqueConstraint(
                fields=["system", "event_key"],
                condition=~models.Q(event_key=""),
                name="webhook_event_replay_refused",
            )
        ]
        ordering = ["-received_at"]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.system} webhook {self.pk} ({self.status})"


class AppCheck(models.Model):
    """What syncfirm's own app at a provider looks like there, checked now and then: its
    webhook subscriptions (HubSpot's belong to the app, not to a portal). No firm's data:
    one row per provider, read by every client's health."""

    system = models.CharField(max_length=20, choices=System.choices, unique=True)
    checked_at = models.DateTimeField(default=timezone.now)
    gaps = models.JSONField(default=list)  # what is missing, in words
    error = models.TextField(blank=True)  # the check itself failed: said, gaps kept

    def __str__(self) -> str:
        return f"{self.system} app checked {self.checked_at:%Y-%m-%d %H:%M}"


from .ratelimit import RateWindow  # noqa: E402, F401 - shared provider rate limits
