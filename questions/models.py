"""Questions staff ask a client's contractor about a finding, answered from an emailed link
without an account (see `questions.asking`)."""

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from clients.models import Client, FirmScopedQuerySet
from reconciliation.models import Finding

QUESTION_LIMIT = 2000
ANSWER_LIMIT = 4000
NAME_LIMIT = 200


class FindingQuestion(models.Model):
    """One question about one finding, sent to one email address; answered once."""

    firm_lookup = "client__firm"

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    # Deleted with its finding by the database (ON DELETE CASCADE, migration 0001), not by
    # Django: a client's 100,000 findings still go in one statement (see FindingMonth).
    finding = models.ForeignKey(
        Finding, on_delete=models.DO_NOTHING, db_constraint=False, related_name="questions"
    )
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    asked_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    to_email = models.EmailField()
    question = models.TextField(max_length=QUESTION_LIMIT)
    nonce = models.CharField(max_length=43, unique=True, default=secrets.token_urlsafe)
    answer = models.TextField(max_length=ANSWER_LIMIT, blank=True)
    answered_by_name = models.CharField(max_length=NAME_LIMIT, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = FirmScopedQuerySet.as_manager()

    class Meta:
        ordering = ["asked_at", "pk"]

    def __str__(self) -> str:
        return f"Question on finding {self.finding_id} to {self.to_email}"

    @property
    def state(self) -> str:
        """answered, withdrawn, expired or waiting (an answer stands even after expiry)."""
        if self.answered_at:
            return "answered"
        if self.withdrawn_at:
            return "withdrawn"
        if timezone.now() >= self.expires_at:
            return "expired"
        return "waiting"
