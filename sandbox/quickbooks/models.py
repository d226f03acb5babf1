"""State of the QuickBooks Online emulator: companies, OAuth grants and the entities.

Entities are stored as their QBO JSON plus the columns queries filter and sort on, so a
company with 100,000 invoices still answers a paged query from an index.
"""

import secrets

from django.db import models
from django.db.models import F
from django.db.models.functions import Upper

from .jsonio import QboDecoder, QboEncoder


def new_realm_id() -> str:
    return str(9130000000000000 + secrets.randbelow(10**15))


class Company(models.Model):
    realm_id = models.CharField(max_length=20, unique=True, default=new_realm_id)
    name = models.CharField(max_length=200)
    webhook_url = models.URLField(blank=True, max_length=500)
    # QBO's "Custom transaction numbers" preference: when on, DocNumbers are the caller's
    # and a repeated one is accepted; when off, QBO numbers documents and checks duplicates.
    custom_txn_numbers = models.BooleanField(default=False)
    rate_limits = models.BooleanField(default=True)
    # Preferences.AccountingInfoPrefs.BookCloseDate: the books are closed through this day.
    book_close_date = models.DateField(null=True, blank=True)
    next_id = models.PositiveIntegerField(default=1)
    next_doc_number = models.PositiveIntegerField(default=1001)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.realm_id})"


class AuthorizationCode(models.Model):
    code = models.CharField(max_length=64, unique=True)
    company = models.ForeignKey(Company, on_delete=models.CASCADE)
    client_id = models.CharField(max_length=200)
    redirect_uri = models.CharField(max_length=500)
    scopes = models.JSONField(default=list)
    expires_at = models.DateTimeField()
    used = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"code for {self.company_id}"


class RefreshToken(models.Model):
    token = models.CharField(max_length=80, unique=True)
    company = models.ForeignKey(Company, on_delete=models.CASCADE)
    client_id = models.CharField(max_length=200)
    scopes = models.JSONField(default=list)
    expires_at = models.DateTimeField()
    revoked = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"refresh token for {self.company_id}"


class AccessToken(models.Model):
    token = models.CharField(max_length=120, unique=True)
    refresh_token = models.ForeignKey(RefreshToken, on_delete=models.CASCADE)
    company = models.ForeignKey(Company, on_delete=models.CASCADE)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"access token for {self.company_id}"


class Entity(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE)
    entity_type = models.CharField(max_length=30)
    entity_id = models.PositiveIntegerField()
    sync_token = models.PositiveIntegerField(default=0)
    data = models.JSONField(encoder=QboEncoder, decoder=QboDecoder)
    deleted = models.BooleanField(default=False)
    # Query columns, kept in step with `data` on every write.
    name = models.CharField(max_length=200, blank=True, db_index=True)
    doc_number = models.CharField(max_length=40, blank=True)
    customer_ref = models.CharField(max_length=20, blank=True)
    txn_date = models.CharField(max_length=10, blank=True)
    active = models.BooleanField(default=True)
    last_updated = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "entity_type", "entity_id"], name="one_entity_per_id"
            )
        ]
        indexes = [
            models.Index(fields=["company", "entity_type", "entity_id"], name="qbo_by_id"),
            models.Index(fields=["company", "entity_type", "last_updated"], name="qbo_by_updated"),
            models.Index(fields=["company", "entity_type", "doc_number"], name="qbo_by_doc"),
            models.Index(fields=["company", "entity_type", "customer_ref"], name="qbo_by_customer"),
            # Names are unique regardless of case (6240): the check looks them up this way.
            models.Index(F("company"), F("entity_type"), Upper("name"), name="qbo_by_upper_name"),
        ]

    def __str__(self) -> str:
        return f"{self.entity_type} {self.entity_id}"


class RequestIdRecord(models.Model):
    """The first answer to a `requestid`, replayed for repeats of the same id."""

    company = models.ForeignKey(Company, on_delete=models.CASCADE)
    request_id = models.CharField(max_length=60)
    status = models.PositiveIntegerField()
    body = models.TextField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "request_id"], name="one_answer_per_request_id"
            )
        ]

    def __str__(self) -> str:
        return self.request_id
