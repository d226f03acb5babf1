"""A reconciliation of one client for one month: the snapshot of both systems it checked,
and the findings it stored."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from clients.models import Client, FirmScopedQuerySet

from .detectors import CODES


class ReconStatus(models.TextChoices):
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    PARTIAL = "partial", "Done, with parts it could not check"
    FAILED = "failed", "Failed"


class Reconciliation(models.Model):
    firm_lookup = "client__firm"

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="reconciliations")
    period = models.DateField(help_text="The month reconciled (its first day).")
    status = models.CharField(
        max_length=20, choices=ReconStatus.choices, default=ReconStatus.RUNNING
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    stage = models.CharField(max_length=120, blank=True)
    counts = models.JSONField(default=dict)
    not_checked = models.JSONField(default=list)  # what it could not check, in plain words
    error = models.TextField(blank=True)
    # The monthly report of this run: when it went, and why the last try did not.
    report_sent_at = models.DateTimeField(null=True, blank=True)
    report_attempts = models.PositiveSmallIntegerField(default=0)
    report_error = models.TextField(blank=True)

    objects = FirmScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at"]
        # The dashboard's last reconciliation of each client, read from the index alone.
        indexes = [
            models.Index(
                fields=["client", "-started_at"],
                include=["period", "status"],
                name="recon_latest",
            )
        ]

    def __str__(self) -> str:
        return f"{self.client} {self.period:%Y-%m} ({self.status})"


class SnapshotInvoice(models.Model):
    firm_lookup = "reconciliation__client__firm"

    reconciliation = models.ForeignKey(
        Reconciliation, on_delete=models.CASCADE, related_name="invoices"
    )
    external_id = models.CharField(max_length=64)
    doc_number = models.CharField(max_length=40, blank=True)
    customer_id = models.CharField(max_length=64, blank=True)
    txn_date = models.DateField()
    due_date = models.DateField(null=True, blank=True)
    total = models.DecimalField(max_digits=14, decimal_places=2)
    balance = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3, blank=True)
    deal_id = models.CharField(max_length=64, blank=True)
    lines = models.JSONField(default=list)  # [[item, quantity, amount], ...] as strings
    voided = models.BooleanField(default=False)

    objects = FirmScopedQuerySet.as_manager()

    class Meta:
        # A finding's records, looked up by id within its reconciliation (the queue's
        # side-by-side): one probe each however big the snapshot.
        indexes = [models.Index(fields=["reconciliation", "external_id"])]

    def __str__(self) -> str:
        return f"invoice {self.doc_number or self.external_id}"


class SnapshotCredit(models.Model):
    firm_lookup = "reconciliation__client__firm"

    reconciliation = models.ForeignKey(
        Reconciliation, on_delete=models.CASCADE, related_name="credits"
    )
    external_id = models.CharField(max_length=64)
    customer_id = models.CharField(max_length=64, blank=True)
    txn_date = models.DateField()
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    deal_id = models.CharField(max_length=64, blank=True)

    objects = FirmScopedQuerySet.as_manager()

    def __str__(self) -> str:
        return f"credit {self.external_id}"


class SnapshotDeal(models.Model):
    firm_lookup = "reconciliation__client__firm"

    reconciliation = models.ForeignKey(
        Reconciliation, on_delete=models.CASCADE, related_name="deals"
    )
    external_id = models.CharField(max_length=64)
    name = models.CharField(max_length=300, blank=True)
    won = models.BooleanField(default=False)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3, blank=True)
    payment_status = models.CharField(max_length=20, blank=True)
    amount_paid = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    customer_id = models.CharField(max_length=64, blank=True)
    close_date = models.DateField(null=True, blank=True)
    lines = models.JSONField(default=list)

    objects = FirmScopedQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["reconciliation", "external_id"])]

    def __str__(self) -> str:
        return f"deal {self.external_id}"


class FindingStatus(models.TextChoices):
    OPEN = "open", "Open"
    FIXED = "fixed", "Fixed"
    DISMISSED = "dismissed", "Dismissed"
    FIX_FAILED = "fix_failed", "Fix failed"


class Finding(models.Model):
    """One discrepancy: the amount at stake, which way it bends the books, evidence from both
    sides and a proposed fix. `fingerprint` names the finding and its data: a dismissed one
    does not come back next month unless the data changed."""

    firm_lookup = "client__firm"

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="findings")
    reconciliation = models.ForeignKey(
        Reconciliation, on_delete=models.CASCADE, related_name="findings"
    )
    code = models.CharField(max_length=30, db_index=True)
    severity = models.CharField(max_length=10)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    direction = models.CharField(max_length=80)
    reason = models.TextField()
    deal_id = models.CharField(max_length=64, blank=True)
    invoice_ids = models.JSONField(default=list)
    customer_id = models.CharField(max_length=64, blank=True)
    evidence = models.JSONField(default=dict)
    fix = models.JSONField(default=dict)
    fingerprint = models.CharField(max_length=64, db_index=True)
    status = models.CharField(
        max_length=20, choices=FindingStatus.choices, default=FindingStatus.OPEN
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = FirmScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-amount"]
        indexes = [
            models.Index(fields=["client", "status", "code"]),
            # The review queue, worst first: walked in order, so a page reads 50 rows.
            models.Index(fields=["status", "-amount", "id"], name="finding_queue_order"),
            # Per client: the dashboard's open count and amount at stake read from the index
            # alone, and the queue filtered to one client comes out in its order.
            models.Index(fields=["client", "status", "-amount", "id"], name="finding_client_queue"),
        ]

    def __str__(self) -> str:
        return f"{self.code}: {self.amount} {self.currency}"

    @property
    def code_label(self) -> str:
        return CODES.get(self.code, self.code)

    @property
    def can_decide(self) -> bool:
        return self.status in (FindingStatus.OPEN, FindingStatus.FIX_FAILED)


class OpenTotals(models.Model):
    """A client's open findings counted and summed per currency, kept by `totals.refresh`
    whenever its findings change, so the dashboard and the findings queue need not add up
    every open finding of the firm on every view. Always recomputed from the findings, never
    incremented, so it cannot drift from them."""

    firm_lookup = "client__firm"

    client = models.OneToOneField(
        Client, on_delete=models.CASCADE, primary_key=True, related_name="open_totals"
    )
    count = models.PositiveIntegerField(default=0)
    amount = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    by_currency = models.JSONField(default=dict)  # {"USD": [count, "amount"]}

    objects = FirmScopedQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.client_id}: {self.count} open, {self.amount}"


class CustomerBalance(models.Model):
    """One customer's balance in the CRM beside the books' for a client and month, and how
    much of the difference findings explain (`balances.customer_balances`)."""

    firm_lookup = "client__firm"

    # MERGE: models.DB_CASCADE (asked for) once every reference to Client is database-level;
    # Django refuses a mix in one chain (fields.E323), and today the others are CASCADE.
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="customer_balances")
    period = models.DateField(help_text="The month (its first day).")
    customer_id = models.CharField(max_length=64)
    name = models.CharField(max_length=500, blank=True)
    currency = models.CharField(max_length=3)
    crm_owed = models.DecimalField(max_digits=14, decimal_places=2)
    books_owed = models.DecimalField(max_digits=14, decimal_places=2)
    explained = models.DecimalField(max_digits=14, decimal_places=2)
    unexplained = models.DecimalField(max_digits=14, decimal_places=2)
    # [{"code", "effect", "words"}]: the findings that explain the difference.
    explained_by = models.JSONField(default=list)

    objects = FirmScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client", "period", "customer_id"], name="customer_balance_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.period:%Y-%m}: {self.crm_owed} / {self.books_owed}"

    @property
    def difference(self):
        return self.crm_owed - self.books_owed
