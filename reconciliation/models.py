"""Reconciliations (one client, one month, one run) and the client's ledger of findings they
keep: each problem once, carried across months."""

import uuid

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
    # Touched at each stage and every few seconds while a worker runs it: a run whose
    # heartbeat stopped was left by a worker that died (lifecycle.end_dead).
    heartbeat_at = models.DateTimeField(default=timezone.now)
    counts = models.JSONField(default=dict)
    not_checked = models.JSONField(default=list)  # what it could not check, in plain words
    error = models.TextField(blank=True)  # what failed, in words an accountant can act on
    error_detail = models.TextField(blank=True)  # the technical cause, for support and logs
    # The monthly report of this run: when it went, and why the last try did not.
    report_sent_at = models.DateTimeField(null=True, blank=True)
    report_attempts = models.PositiveSmallIntegerField(default=0)
    report_error = models.TextField(blank=True)

    objects = FirmScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at"]
        # The dashboard's last reconciliation of each client (its latest month, that month's
        # latest run), read from the index alone.
        indexes = [
            models.Index(
                fields=["client", "-period", "-started_at"],
                include=["status", "id"],
                name="recon_latest_month",
            )
        ]

    def __str__(self) -> str:
        return f"{self.client} {self.period:%Y-%m} ({self.status})"

    @property
    def finished(self) -> bool:
        """It compared the month (all of it, or all it could): its findings can be read."""
        return self.status in (ReconStatus.DONE, ReconStatus.PARTIAL)


class FindingStatus(models.TextChoices):
    OPEN = "open", "Open"
    FIXED = "fixed", "Fixed"
    DISMISSED = "dismissed", "Dismissed"
    RESOLVED = "resolved", "Resolved"  # no longer seen in either system


class Finding(models.Model):
    """One problem in the client's ledger, for as long as it exists. Its identity (`key`) is
    its code and the records it is about, never its amounts: each reconciliation carries it
    forward (amount now, `last_period`), resolves it when no longer seen, or opens a new one.
    `fingerprint` names its data: a dismissed finding stays dismissed until that changes.
    `records` holds both systems' records as the last run that changed it saw them."""

    firm_lookup = "client__firm"

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="findings")
    # The run that last changed it (opened, updated, resolved). Neither indexed nor held by a
    # constraint: nothing looks findings up by run, and deleting a run that last touched
    # 100,000 findings must not rewrite them (4 s): a deleted run reads as none (select it
    # with select_related, which joins it as nullable).
    reconciliation = models.ForeignKey(
        Reconciliation,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        db_index=False,
        related_name="findings",
    )
    key = models.CharField(max_length=64)
    code = models.CharField(max_length=30, db_index=True)
    severity = models.CharField(max_length=10)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    direction = models.CharField(max_length=80)
    reason = models.TextField()
    deal_id = models.CharField(max_length=64, blank=True)
    invoice_ids = models.JSONField(default=list)
    customer_id = models.CharField(max_length=64, blank=True)
    record_ids = models.JSONField(default=list)  # payments, credits: part of its identity
    evidence = models.JSONField(default=dict)
    records = models.JSONField(default=dict)  # {"deal": [...] | None, "invoices": [[...]]}
    fix = models.JSONField(default=dict)
    fingerprint = models.CharField(max_length=64, db_index=True)
    state = models.CharField(max_length=64, blank=True)  # digest of what the last run wrote
    status = models.CharField(
        max_length=20, choices=FindingStatus.choices, default=FindingStatus.OPEN
    )
    first_period = models.DateField(help_text="The first month it was seen in.")
    last_period = models.DateField(help_text="The latest month it was seen in.")
    resolved_period = models.DateField(null=True, blank=True)
    change_note = models.TextField(blank=True)  # why it was reopened: what changed
    # A fix that failed leaves the finding open and counted, with the reason and a retry.
    fix_error = models.TextField(blank=True)
    fix_failed_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = FirmScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-amount"]
        constraints = [
            models.UniqueConstraint(fields=["client", "key"], name="one_finding_per_problem")
        ]
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

    def save(self, *args, **kwargs) -> None:
        # Made outside a reconciliation's ledger update (by hand, in the admin): a problem of
        # its own, in its run's month.
        if self.first_period is None:
            run = self.reconciliation
            self.first_period = run.period if run else timezone.localdate().replace(day=1)
        self.last_period = self.last_period or self.first_period
        self.key = self.key or uuid.uuid4().hex
        super().save(*args, **kwargs)

    @property
    def code_label(self) -> str:
        return CODES.get(self.code, self.code)

    @property
    def can_decide(self) -> bool:
        return self.status == FindingStatus.OPEN

    @property
    def months_open(self) -> int:
        """Months from the first it was seen in to the last (or the one that resolved it)."""
        end = self.resolved_period or self.last_period
        return (end.year - self.first_period.year) * 12 + end.month - self.first_period.month + 1


class FindingMonth(models.Model):
    """A finding as a month's reconciliation saw it: the dated view a month's report and the
    trend read. One row per finding and month; re-running the month rewrites only what
    changed."""

    firm_lookup = "client__firm"

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    # Deleted with its finding by the database (ON DELETE CASCADE, migration 0008), not by
    # Django: so a client's findings go in one statement, not in batches of 100 with theirs.
    finding = models.ForeignKey(
        Finding, on_delete=models.DO_NOTHING, db_constraint=False, related_name="months"
    )
    period = models.DateField()
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    severity = models.CharField(max_length=10)
    dismissed = models.BooleanField(default=False)  # seen, but dismissed with its data

    objects = FirmScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["finding", "period"], name="one_sighting_a_month")
        ]
        indexes = [models.Index(fields=["client", "period"], name="finding_month_view")]

    def __str__(self) -> str:
        return f"{self.finding_id} in {self.period:%Y-%m}"


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
    high = models.PositiveIntegerField(default=0)  # open and material: the attention flag
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

    @property
    def shown_name(self) -> str:
        """The customer by name, or in words when the books no longer name them."""
        from .wording import BOOKS, gone

        return self.name or gone("customer", BOOKS, self.customer_id)


class MonthClose(models.Model):
    """A client's month signed off by a person (decision 0021): who, when, and what the month
    showed then (`snapshot`: each finding's amount and decision, the totals and the run). A
    later run of the month changes the ledger as any run does; the close page and the
    report show the snapshot and what differs from it, never the new figures as signed off.
    Reopening clears the sign-off (kept, with the reason, in the audit log)."""

    firm_lookup = "client__firm"

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="month_closes")
    period = models.DateField(help_text="The month (its first day).")
    signed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    signed_off_at = models.DateTimeField(null=True, blank=True)
    snapshot = models.JSONField(default=dict)
    reopened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reopened_at = models.DateTimeField(null=True, blank=True)
    reopen_reason = models.TextField(blank=True)

    objects = FirmScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "period"], name="one_close_a_month")
        ]

    def __str__(self) -> str:
        state = "closed" if self.signed_off_at else "open"
        return f"{self.client_id} {self.period:%Y-%m} ({state})"

    @property
    def closed(self) -> bool:
        return self.signed_off_at is not None


class CarryNote(models.Model):
    """Why an open finding is carried into the next month rather than decided, written at a
    month's close: with it, the finding no longer blocks that month's sign-off."""

    firm_lookup = "client__firm"

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    # Deleted with its finding by the database (migration 0012), as FindingMonth is: a
    # client's findings still go in one statement.
    finding = models.ForeignKey(
        Finding, on_delete=models.DO_NOTHING, db_constraint=False, related_name="carry_notes"
    )
    period = models.DateField(help_text="The month it is carried out of (its first day).")
    note = models.TextField()
    noted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    noted_at = models.DateTimeField(default=timezone.now)

    objects = FirmScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["finding", "period"], name="one_carry_note_a_month")
        ]
        indexes = [models.Index(fields=["client", "period"], name="carry_note_month")]

    def __str__(self) -> str:
        return f"{self.finding_id} carried out of {self.period:%Y-%m}"
