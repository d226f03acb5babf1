"""State of the Xero emulator: organisations, OAuth grants and connections, the records.

Records (contacts, invoices, credit notes, payments, items) are stored as their Xero JSON
plus the columns lookups and change feeds use.
"""

import uuid

from django.db import models

from sandbox.quickbooks.jsonio import QboDecoder, QboEncoder


def new_id() -> str:
    return str(uuid.uuid4())


class Organisation(models.Model):
    tenant_id = models.CharField(max_length=36, unique=True, default=new_id)
    name = models.CharField(max_length=200)
    webhook_url = models.URLField(blank=True, max_length=500)
    # Set once the receiver passed Xero's intent-to-receive check; deliveries wait for it.
    webhook_enabled = models.BooleanField(default=False)
    rate_limits = models.BooleanField(default=True)
    day_limit = models.PositiveIntegerField(default=5000)
    next_invoice_number = models.PositiveIntegerField(default=1)
    next_credit_note_number = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.tenant_id})"


class Connection(models.Model):
    """An organisation connected to the app (one row per app and organisation)."""

    connection_id = models.CharField(max_length=36, unique=True, default=new_id)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE)
    client_id = models.CharField(max_length=200)
    auth_event_id = models.CharField(max_length=36)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "client_id"], name="one_connection_per_app"
            )
        ]

    def __str__(self) -> str:
        return f"connection {self.connection_id}"


class AuthorizationCode(models.Model):
    code = models.CharField(max_length=64, unique=True)
    client_id = models.CharField(max_length=200)
    redirect_uri = models.CharField(max_length=500)
    scopes = models.JSONField(default=list)
    auth_event_id = models.CharField(max_length=36)
    expires_at = models.DateTimeField()
    used = models.BooleanField(default=False)

    def __str__(self) -> str:
        return "authorization code"


class RefreshToken(models.Model):
    token = models.CharField(max_length=80, unique=True)
    client_id = models.CharField(max_length=200)
    scopes = models.JSONField(default=list)
    auth_event_id = models.CharField(max_length=36)
    expires_at = models.DateTimeField()
    # When a refresh replaced it; it stays usable for a grace period after that.
    replaced_at = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(default=False)

    def __str__(self) -> str:
        return "refresh token"


class AccessToken(models.Model):
    token = models.CharField(max_length=2000, unique=True)
    refresh_token = models.ForeignKey(RefreshToken, null=True, on_delete=models.CASCADE)
    client_id = models.CharField(max_length=200)
    auth_event_id = models.CharField(max_length=36)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return "access token"


class Record(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE)
    kind = models.CharField(max_length=20)  # Contact, Invoice, CreditNote, Payment, Item
    record_id = models.CharField(max_length=36, default=new_id)
    data = models.JSONField(encoder=QboEncoder, decoder=QboDecoder)
    # InvoiceNumber, CreditNoteNumber, ContactNumber or item Code; Name for contacts.
    number = models.CharField(max_length=255, blank=True)
    name = models.CharField(max_length=255, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "record_id"], name="xero_one_record")
        ]
        indexes = [
            models.Index(fields=["organisation", "kind", "updated_at"], name="xero_by_updated"),
            models.Index(fields=["organisation", "kind", "number"], name="xero_by_number"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.record_id}"


class IdempotencyRecord(models.Model):
    """The first answer to an Idempotency-Key, replayed for repeats within the window."""

    client_id = models.CharField(max_length=200)
    key = models.CharField(max_length=128)
    fingerprint = models.CharField(max_length=64)
    status = models.PositiveIntegerField()
    body = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client_id", "key"], name="xero_one_answer_per_key")
        ]

    def __str__(self) -> str:
        return self.key
