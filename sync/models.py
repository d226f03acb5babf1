"""What the sync engine keeps: per-client settings, the links between CRM records and
accounting customers, a local mirror of the accounting side's customers (matching reads it,
not the API), cursors for the batched pull, every run with each record's outcome, and the
review queue of conflicts a person decides.

Imported by `connections.models`, so these are models of the `connections` app.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from clients.models import Client, FirmScopedQuerySet

from .mapping import DEFAULT_COMPANY_MAP, DEFAULT_CONTACT_MAP

# Who owns each customer field when both sides changed it since the last sync (or hold
# different values when first linked). The CRM owns contact details; the name a customer
# carries in the books (on every invoice) stays the accountant's unless the CRM renames it.
CRM, ACCOUNTING, REVIEW = "crm", "accounting", "review"
DEFAULT_FIELD_OWNERS = {
    "display_name": ACCOUNTING,
    "company_name": ACCOUNTING,
    "given_name": CRM,
    "family_name": CRM,
    "email": CRM,
    "phone": CRM,
    "line1": CRM,
    "city": CRM,
    "region": CRM,
    "postal_code": CRM,
    "country": CRM,
    "tax_id": CRM,
    "notes": CRM,
}


def default_field_map() -> dict:
    return {"companies": dict(DEFAULT_COMPANY_MAP), "contacts": dict(DEFAULT_CONTACT_MAP)}


def default_field_owners() -> dict:
    return dict(DEFAULT_FIELD_OWNERS)


CRM_LABELS = {"companies": "company", "contacts": "contact", "deals": "deal"}


# Invoice numbers as the books hold them: QuickBooks' are at most 21 characters, Xero's 255.
DOC_NUMBER_COLUMN = 255


class CrmLabelled:
    """`crm_label`: "company 195" reads better than "companies/195"."""

    crm_type: str

    @property
    def crm_label(self) -> str:
        return CRM_LABELS.get(self.crm_type, self.crm_type)


class Direction(models.TextChoices):
    BOTH = "both", "Both ways"
    TO_ACCOUNTING = "to_accounting", "CRM → accounting only"
    TO_CRM = "to_crm", "Accounting → CRM only"
    OFF = "off", "Off"


class Posting(models.TextChoices):
    """Who posts a billing CRM's invoices (a field-service CRM issues its own) to the books."""

    SYNCFIRM = "syncfirm", "syncfirm posts them"
    AUDIT = "audit", "Audit only: another integration posts them; syncfirm writes nothing"


class PaymentRule(models.TextChoices):
    """When syncfirm posts a billing CRM's invoices: which system's payments are recorded in
    the other (decision 0038). Each payment is carried once (`PaymentLink`); one the other
    side already shows paid is matched, never recorded twice."""

    BOTH = "both", "Both ways"
    CRM_TO_BOOKS = "crm", "From the CRM to the books"
    BOOKS_TO_CRM = "books", "From the books to the CRM"
    NONE = "none", "Not carried"


class JobReference(models.TextChoices):
    """Where the books file a posted invoice's job, so their reports can show job revenue."""

    NOTE = "note", 'In the invoice\'s note ("Job #57")'
    # Which of these the books offer is theirs to say (`Capabilities.job_references`).
    CLASS = "class", "A class per job"
    SUB_CUSTOMER = "sub_customer", "A sub-customer per job, under the client's customer"
    TRACKING = "tracking", "An option of a tracking category per job"


class CrmSource(models.TextChoices):
    COMPANIES_AND_HOMEOWNERS = "companies_and_homeowners", "Companies, and contacts with no company"
    COMPANIES = "companies", "Companies only"
    CONTACTS = "contacts", "Contacts only"


class IssuedInvoiceChanges(models.TextChoices):
    """What sync does when a won deal changes after its invoice was issued."""

    REVIEW = "review", "Ask for review (the books keep the invoice as issued)"
    UPDATE_UNPAID = "update_unpaid", "Update the invoice to match the deal while nothing is paid"


class SyncSettings(models.Model):
    """How one client's systems sync: direction, which CRM records are customers, the field
    map and who owns each field. Created with defaults on first use."""

    firm_lookup = "client__firm"

    client = models.OneToOneField(Client, on_delete=models.CASCADE, related_name="sync_settings")
    customer_direction = models.CharField(
        max_length=20, choices=Direction.choices, default=Direction.BOTH
    )
    crm_source = models.CharField(
        max_length=30, choices=CrmSource.choices, default=CrmSource.COMPANIES_AND_HOMEOWNERS
    )
    field_map = models.JSONField(default=default_field_map)
    field_owners = models.JSONField(default=default_field_owners)
    schedule_minutes = models.PositiveIntegerField(
        default=15, help_text="How often the batched pull runs (catches missed webhooks)."
    )
    invoices_on = models.BooleanField(
        default=True, help_text="Closed-won deals become invoices; payments go back to deals."
    )
    invoice_number_pattern = models.CharField(
        max_length=40,
        default="SF-{deal_id}",
        help_text="The invoice number of a deal's invoice; {deal_id} is the deal's id.",
    )
    payment_terms_days = models.PositiveIntegerField(default=30)
    # Accounting owns issued invoices (DESIGN.md), so a changed deal waits for a person
    # unless the client lets the CRM correct an invoice nobody has paid anything on yet.
    issued_invoice_changes = models.CharField(
        max_length=20,
        choices=IssuedInvoiceChanges.choices,
        default=IssuedInvoiceChanges.REVIEW,
        help_text="A won deal whose lines change after it was invoiced. A paid or partly paid "
        "invoice, one changed in the books, or a deal whose amount alone moved always waits "
        "for review.",
    )
    income_account = models.CharField(
        max_length=100,
        default="Services",
        help_text="Income account for products the books do not have yet.",
    )
    # A deal's product the books do not have: billed as this item of the books (the deal's
    # product named in the line's description), or, when empty, created in income_account.
    unmatched_item = models.CharField(
        max_length=100,
        blank=True,
        default="",
        help_text="Item of the books a deal's product is billed as when the books lack it.",
    )
    # A CRM that issues its own invoices: who posts them. Empty until the first import
    # decides (audit when the books already hold the CRM's invoices); a sales CRM's won
    # deals are always syncfirm's to invoice.
    posting = models.CharField(
        max_length=10,
        choices=Posting.choices,
        blank=True,
        default="",
        help_text="When the CRM issues its own invoices: syncfirm posts them to the books, or "
        "another integration does and syncfirm only audits, writing nothing unless a fix is "
        "approved.",
    )
    payment_rule = models.CharField(
        max_length=10,
        choices=PaymentRule.choices,
        default=PaymentRule.BOTH,
        help_text="When syncfirm posts the CRM's invoices: whose payments are recorded in the "
        "other system.",
    )
    job_reference = models.CharField(
        max_length=20,
        choices=JobReference.choices,
        default=JobReference.NOTE,
        help_text="Where the books file each posted invoice's job, for job revenue reports.",
    )
    job_tracking_category = models.CharField(
        max_length=100,
        default="Job",
        help_text="The tracking category whose options are the jobs (where the books keep "
        "tracking categories).",
    )
    books_currency = models.CharField(max_length=3, default="USD")
    sales_tax = models.BooleanField(
        default=False,
        help_text="The books charge sales tax: each invoice line carries a TAX or NON code "
        "(from the product), and the books work out the amount.",
    )
    won_stages = models.JSONField(default=list, blank=True)  # read from the CRM's pipelines
    report_contractor_email = models.EmailField(
        blank=True,
        help_text="Also send the monthly reconciliation report to the contractor (leave empty "
        "to send it to the firm's staff only).",
    )
    stale_after_days = models.PositiveIntegerField(
        default=90, help_text="An open invoice older than this is a stale-receivable finding."
    )
    # Customer matching (decision 0026): a pair links without a person at or above
    # `link_sure_percent`, goes to review from `review_from_percent`, is new below it.
    link_sure_percent = models.DecimalField(max_digits=4, decimal_places=1, default=90)
    review_from_percent = models.DecimalField(max_digits=4, decimal_places=1, default=20)
    # The client's own words for names, one per line ("Htg = Heating"; "Kft").
    match_abbreviations = models.TextField(blank=True, default="")
    match_legal_forms = models.TextField(blank=True, default="")
    # Deals already closed-won when invoicing started are history: linked to their invoice
    # when the books have one, left to reconciliation when not, never invoiced by sync.
    invoice_baseline_at = models.DateTimeField(null=True, blank=True)
    # Webhooks and the schedule sync a client only once its historical import has been
    # previewed and approved: before that, nothing is created behind the accountant's back.
    import_done_at = models.DateTimeField(null=True, blank=True)
    # One sync of a client at a time, across every worker (see `sync.leases`): who holds
    # the lease (host:pid:token), the run working under it, and when it lapses unless the
    # holder's heartbeat renews it.
    lease_holder = models.CharField(max_length=80, blank=True)
    lease_run = models.PositiveBigIntegerField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    # Work asked for while the lease was held (see `sync.pending`): since when, the
    # requests folded together, and what the holder took on (kept until its run ends, so
    # the next holder redoes it if the worker died).
    pending_at = models.DateTimeField(null=True, blank=True)
    pending_work = models.JSONField(default=list, blank=True)
    claimed_work = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = FirmScopedQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "sync settings"

    def __str__(self) -> str:
        return f"Sync settings for {self.client}"

    @classmethod
    def for_client(cls, client: Client) -> "SyncSettings":
        found, _ = cls.objects.get_or_create(client=client)
        return found


class LearntMatching(models.Model):
    """The matching weights last learnt from this client's own records (a run with enough
    on both sides): later runs too small to learn from score with them (decision 0026)."""

    firm_lookup = "client__firm"

    client = models.OneToOneField(Client, on_delete=models.CASCADE, related_name="learnt_matching")
    model = models.JSONField()  # linkage Model.to_dict(): m, u, prior, comparisons' fingerprint
    # The prior's basis: the share of incoming records that found a likely partner; the
    # prior of a later run is this over its own larger side (the book's size today).
    partner_share = models.FloatField()
    books_records = models.PositiveIntegerField()  # accounting customers learnt from
    crm_records = models.PositiveIntegerField()  # CRM records learnt from
    vocabulary = models.JSONField(default=dict)  # the client's words in use when learnt
    # Each record's best probability in that run, binned: [[bin, records, sum of p], ...]
    best_pairs = models.JSONField(default=list)
    run = models.ForeignKey(
        "SyncRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    learnt_at = models.DateTimeField(default=timezone.now)

    objects = FirmScopedQuerySet.as_manager()

    def __str__(self) -> str:
        return f"Matching learnt for {self.client}"


class CustomerLink(models.Model):
    """One CRM record and the accounting customer it is. `synced_values` are the mapped
    fields as both sides held them after the last sync: a side whose values still equal
    them has not changed, and a change syncfirm wrote itself comes back equal (no loop)."""

    firm_lookup = "client__firm"

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="customer_links")
    crm_type = models.CharField(max_length=20)  # "companies" or "contacts"
    crm_id = models.CharField(max_length=64)
    accounting_id = models.CharField(max_length=64)
    synced_values = models.JSONField(default=dict)
    accounting_version = models.CharField(max_length=32, blank=True)
    how = models.CharField(max_length=120, blank=True, help_text="Why these two were linked.")
    created_at = models.DateTimeField(default=timezone.now)
    synced_at = models.DateTimeField(default=timezone.now)

    objects = FirmScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client", "crm_type", "crm_id"], name="one_link_per_crm_record"
            ),
            models.UniqueConstraint(
                fields=["client", "accounting_id"], name="one_link_per_accounting_customer"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.crm_type}/{self.crm_id} ↔ customer {self.accounting_id}"


class MirroredCustomer(models.Model):
    """The accounting side's customers as the last pull saw them."""

    firm_lookup = "client__firm"

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="mirrored_customers")
    external_id = models.CharField(max_length=64)
    display_name = models.CharField(max_length=500)
    values = models.JSONField(default=dict)  # mapped customer fields, as validation sees them
    version = models.CharField(max_length=32, blank=True)
    active = models.BooleanField(default=True)
    seen_at = models.DateTimeField(default=timezone.now)

    objects = FirmScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client", "external_id"], name="one_mirror_row_per_customer"
            )
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.external_id})"


class SyncCursor(models.Model):
    """Where the batched pull of one object group on one connection left off."""

    firm_lookup = "client__firm"

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="sync_cursors")
    system = models.CharField(max_length=20)
    group = models.CharField(max_length=30)
    value = models.DateTimeField()

    objects = FirmScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "system", "group"], name="one_cursor")
        ]

    def __str__(self) -> str:
        return f"{self.system}/{self.group} since {self.value:%Y-%m-%d %H:%M}"


class RunKind(models.TextChoices):
    WEBHOOK = "webhook", "Webhook"
    SCHEDULED = "scheduled", "Scheduled pull"
    MANUAL = "manual", "Run by hand"
    FULL = "full", "Full sync"
    IMPORT_PREVIEW = "import_preview", "Historical import (preview)"
    IMPORT = "import", "Historical import"


class RunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    ATTENTION = "attention", "Finished, some records need attention"
    FAILED = "failed", "Failed"
    WAITING = "waiting", "Not run: the historical import comes first"


# A run that went through (some records may wait for a person): the sync is not behind.
FINISHED_STATUSES = (RunStatus.SUCCEEDED, RunStatus.ATTENTION)


class SyncRun(models.Model):
    """One sync of one client: what it was asked to do, how far it got and what came of it."""

    firm_lookup = "client__firm"

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="sync_runs")
    kind = models.CharField(max_length=20, choices=RunKind.choices)
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.RUNNING)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    stage = models.CharField(max_length=120, blank=True)
    error = models.TextField(blank=True)
    approved_preview = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = FirmScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at"]
        # A client's latest run (the dashboard's last sync) without sorting all its runs
        # (a run every 15 minutes is ~670 a week, and nothing prunes them), its status read
        # from the index too (PostgreSQL; SQLite ignores INCLUDE, see settings).
        indexes = [
            models.Index(
                fields=["client", "-started_at"], include=["status"], name="syncrun_latest_status"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.client} ({self.status})"


class Outcome(models.TextChoices):
    CREATED = "created", "Created"
    LINKED = "linked", "Linked to an existing customer"
    UPDATED = "updated", "Updated"
    SKIPPED = "skipped", "Unchanged"
    HELD = "held", "Held"
    FAILED = "failed", "Failed"


class RecordOutcome(CrmLabelled, models.Model):
    """What one run did with one record, in words an accountant can act on."""

    firm_lookup = "run__client__firm"

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="outcomes")
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    side = models.CharField(max_length=20)  # where the change was written: accounting / crm
    crm_type = models.CharField(max_length=20, blank=True)
    crm_id = models.CharField(max_length=64, blank=True)
    accounting_id = models.CharField(max_length=64, blank=True)
    name = models.CharField(max_length=500, blank=True)
    reason = models.TextField(blank=True)

    objects = FirmScopedQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["run", "outcome"])]

    def __str__(self) -> str:
        return f"{self.name or self.crm_id}: {self.outcome}"


class ConflictKind(models.TextChoices):
    NEAR_MATCH = "near_match", "Possible existing customer"
    NAME_CLASH = "name_clash", "Name already used in the accounting system"
    FIELD = "field", "Both sides changed a field"
    INVALID = "invalid", "Record fails validation"
    DEAL_CHANGED = "deal_changed", "Deal changed after its invoice was issued"


class ConflictStatus(models.TextChoices):
    OPEN = "open", "Waiting for review"
    DECIDED = "decided", "Decided by rule"
    RESOLVED = "resolved", "Resolved"
    DISMISSED = "dismissed", "Dismissed"


class SyncConflict(CrmLabelled, models.Model):
    """A decision about a record: taken by the client's rule (logged), or waiting for a
    person. At most one open item per record, kind and field, however often sync runs."""

    firm_lookup = "client__firm"

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="sync_conflicts")
    kind = models.CharField(max_length=20, choices=ConflictKind.choices)
    status = models.CharField(
        max_length=20, choices=ConflictStatus.choices, default=ConflictStatus.OPEN
    )
    crm_type = models.CharField(max_length=20)
    crm_id = models.CharField(max_length=64)
    accounting_id = models.CharField(max_length=64, blank=True)
    field = models.CharField(max_length=40, blank=True)
    crm_value = models.JSONField(default=dict)  # the CRM record's mapped fields (or one value)
    accounting_value = models.JSONField(default=dict)  # the other side's, same shape
    winner = models.CharField(max_length=20, blank=True)
    reason = models.TextField()
    # A possible match's weighed evidence, per field (`sync.evidence`); {} for other kinds
    # and for items raised before it was kept.
    evidence = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolution = models.CharField(max_length=20, blank=True)  # link / create / keep_crm / ...
    note = models.TextField(blank=True)

    objects = FirmScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "kind", "crm_type", "crm_id", "field"],
                condition=models.Q(status="open"),
                name="one_open_conflict_per_record",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.crm_type}/{self.crm_id}"

    @property
    def resolution_words(self) -> str:
        """The decision as its button said it ("Leave it unsynced"), or as the rule logged it."""
        words = DECISIONS.get(self.kind, {}).get(self.resolution)
        return words or self.resolution.replace("_", " ") or self.get_status_display()


# What a person may decide on each kind of review item, as its buttons say it.
DECISIONS = {
    ConflictKind.NEAR_MATCH: {
        "link": "Same customer: link them",
        "create": "Different customer: create it",
        "dismiss": "Leave it unsynced",
    },
    ConflictKind.NAME_CLASH: {
        "link": "Same customer: link them",
        "dismiss": "Leave it unsynced",
    },
    ConflictKind.FIELD: {
        "keep_crm": "Keep the CRM's value",
        "keep_accounting": "Keep the accounting system's value",
    },
    ConflictKind.INVALID: {"dismiss": "Dismiss (fix it in the CRM; the next sync retries)"},
    ConflictKind.DEAL_CHANGED: {
        "update": "Update the invoice to match the deal",
        "keep": "Keep the invoice as issued",
        "dismiss": "Dismiss",
    },
}


class Alert(models.Model):
    """Something went wrong that a person must see: shown on the client page until resolved,
    and emailed to the assigned staff once."""

    firm_lookup = "client__firm"

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="alerts")
    source = models.CharField(max_length=40)  # e.g. "customer sync"
    message = models.TextField()
    run = models.ForeignKey(SyncRun, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    objects = FirmScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.source}: {self.message[:60]}"


class InvoiceState(models.TextChoices):
    HISTORICAL = "historical", "Closed before invoicing started"
    HELD = "held", "Held"
    WRITING = "writing", "Being written"
    CREATED = "created", "Invoiced"
    UNCERTAIN = "uncertain", "Outcome unknown: needs a person"


class ChangeState(models.TextChoices):
    """Where a change of an invoiced deal stands (`InvoiceLink.change_fingerprint`)."""

    NONE = "", "No change"
    REVIEW = "review", "Flagged for review (or kept as issued)"
    APPROVED = "approved", "A person approved updating the invoice"
    UPDATING = "updating", "Invoice update sent"


class InvoiceLink(CrmLabelled, models.Model):
    """One closed-won deal and its invoice: the outbox row of exactly-once invoicing.

    The row is marked WRITING (and committed) before the create is sent, so a worker killed
    mid-call, a lost answer or a second worker all find it and look for the invoice by its
    number before anything is sent again; a write that cannot be settled that way becomes
    UNCERTAIN and waits for a person."""

    firm_lookup = "client__firm"
    crm_type = "deals"

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="invoice_links")
    deal_id = models.CharField(max_length=64)
    deal_name = models.CharField(max_length=300, blank=True)
    state = models.CharField(max_length=20, choices=InvoiceState.choices)
    doc_number = models.CharField(max_length=DOC_NUMBER_COLUMN, blank=True)
    accounting_id = models.CharField(max_length=64, blank=True)
    customer_id = models.CharField(max_length=64, blank=True)
    expected_total = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    reason = models.TextField(blank=True)
    payment_status = models.CharField(max_length=20, blank=True)
    amount_paid = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    balance = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    last_payment_date = models.CharField(max_length=10, blank=True)
    due_date = models.CharField(max_length=10, blank=True)
    # What the invoice was built from (`invoicing.snapshot`) and the deal's fingerprint
    # then: a sync that sees the deal again compares fingerprints, and reads the invoice
    # only when they differ.
    invoiced = models.JSONField(default=dict, blank=True)
    invoiced_fingerprint = models.CharField(max_length=64, blank=True)
    # The deal's version that differs from its invoice and what became of it: flagged once
    # (a replay or the next sync does not flag it again; a further change does), approved
    # by a person, or an update sent (the outbox: re-checked until settled).
    change_fingerprint = models.CharField(max_length=64, blank=True)
    change_state = models.CharField(
        max_length=10, choices=ChangeState.choices, blank=True, default=ChangeState.NONE
    )
    # The CRM's payments on it are to be looked at (just posted, or a read of them failed):
    # the payment step does, whatever the change feed says, and clears it.
    payments_due = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = FirmScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "deal_id"], name="one_invoice_per_deal"),
        ]
        indexes = [models.Index(fields=["client", "accounting_id"])]

    def __str__(self) -> str:
        return f"deal {self.deal_id}: {self.state} {self.doc_number}"


class PaymentState(models.TextChoices):
    WRITING = "writing", "Being written"
    CREATED = "created", "Recorded"
    MATCHED = "matched", "Already shown paid there: nothing written"
    HELD = "held", "Held: needs a person"
    UNCERTAIN = "uncertain", "Outcome unknown: needs a person"
    HANDLED = "handled", "Handled by a person"


WAITING_PAYMENTS = (PaymentState.HELD, PaymentState.UNCERTAIN)


class PaymentLink(models.Model):
    """One payment carried from one system to the other: the outbox row of exactly-once
    payment recording, as `InvoiceLink` is for invoices. WRITING is committed before the
    write is sent; the reference written with the payment (`source_id`) is looked for before
    anything is sent again. A payment syncfirm wrote is never carried back (its target id)."""

    TO_BOOKS, TO_CRM = "to_books", "to_crm"
    firm_lookup = "client__firm"

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="payment_links")
    direction = models.CharField(
        max_length=10, choices=[(TO_BOOKS, "CRM to books"), (TO_CRM, "books to CRM")]
    )
    # The payment in the system it was recorded in; a books payment paying several invoices
    # is carried once per invoice ("<payment id>:<invoice id>").
    source_id = models.CharField(max_length=160)
    deal_id = models.CharField(max_length=64)  # the CRM invoice it pays
    invoice_id = models.CharField(max_length=64, blank=True)  # the books invoice it pays
    target_id = models.CharField(max_length=160, blank=True)  # the payment syncfirm wrote
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3, blank=True)
    paid_on = models.CharField(max_length=10, blank=True)
    state = models.CharField(max_length=20, choices=PaymentState.choices)
    attempts = models.PositiveSmallIntegerField(default=0)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = FirmScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client", "direction", "source_id"], name="one_copy_per_payment"
            ),
        ]
        indexes = [models.Index(fields=["client", "target_id"])]

    def __str__(self) -> str:
        return f"payment {self.source_id} {self.direction}: {self.state}"


class ArrivalCheck(models.Model):
    """The daily probe's second half for one client (`sync.arrival`): how many changes made
    in the last day were checked, and those that reached the other system late or not yet."""

    firm_lookup = "client__firm"

    client = models.OneToOneField(Client, on_delete=models.CASCADE, related_name="arrival_check")
    checked_at = models.DateTimeField(default=timezone.now)
    changes = models.PositiveIntegerField(default=0)
    # [{"origin": "HubSpot", "name": "Acme Roofing", "lag_minutes": 95 or null}]
    late = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)  # the check could not read a system: said, not judged

    objects = FirmScopedQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.client}: {len(self.late)} of {self.changes} changes late"


class IncidentLevel(models.TextChoices):
    DEGRADED = "degraded", "Degraded"
    BROKEN = "broken", "Broken"


class Incident(models.Model):
    """A stretch of time a client's integration was not healthy, for one kind of reason
    (`sync.health`): opened when the reason appears, resolved when it is gone. One open
    incident per kind, so a lasting condition is one incident, told once."""

    firm_lookup = "client__firm"

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="incidents")
    kind = models.CharField(max_length=80)  # "webhooks", "sync", "connection:HubSpot" …
    level = models.CharField(max_length=10, choices=IncidentLevel.choices)
    words = models.TextField()
    opened_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    objects = FirmScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "kind"],
                condition=models.Q(resolved_at=None),
                name="one_open_incident_per_kind",
            )
        ]
        indexes = [models.Index(fields=["client", "-opened_at"], name="incident_client_latest")]

    def __str__(self) -> str:
        return f"{self.kind}: {self.level}"
