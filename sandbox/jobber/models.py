"""State of the Jobber emulator: accounts, OAuth grants, and the contractor's records.

Records are real rows (not stored JSON) because GraphQL resolves across them: a job's
invoices, an invoice's jobs and payments, a client's balance. Money is Decimal in the
database; the GraphQL layer (schema.py) is the only place that knows Jobber's field names.
A record's numeric primary key is the number inside its encoded id (ids.py).
"""

from decimal import Decimal

from django.db import models

MONEY = {"max_digits": 14, "decimal_places": 2, "default": Decimal("0.00")}


class Account(models.Model):
    """One contractor's Jobber account, with the app's view of it (one app: syncfirm)."""

    name = models.CharField(max_length=200)
    webhook_url = models.URLField(blank=True, max_length=500)
    # Query-cost bucket and request guard (api-facts E3); the control API can shrink them.
    rate_limits = models.BooleanField(default=True)
    maximum_available = models.PositiveIntegerField(default=10_000)
    restore_rate = models.PositiveIntegerField(default=500)
    request_limit = models.PositiveIntegerField(default=2_500)  # per 5 minutes
    # Off only for apps made before 2024-01-02 (E2); then the same token comes back.
    refresh_token_rotation = models.BooleanField(default=True)
    connected = models.BooleanField(default=False)
    next_client_number = models.PositiveIntegerField(default=1)
    next_job_number = models.PositiveIntegerField(default=1)
    next_quote_number = models.PositiveIntegerField(default=1)
    next_invoice_number = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.pk})"


class AuthorizationCode(models.Model):
    code = models.CharField(max_length=64, unique=True)
    client_id = models.CharField(max_length=200)
    redirect_uri = models.CharField(max_length=500)
    account = models.ForeignKey(Account, on_delete=models.CASCADE)
    expires_at = models.DateTimeField()
    used = models.BooleanField(default=False)

    def __str__(self) -> str:
        return "authorization code"


class RefreshToken(models.Model):
    token = models.CharField(max_length=80, unique=True)
    client_id = models.CharField(max_length=200)
    account = models.ForeignKey(Account, on_delete=models.CASCADE)
    expires_at = models.DateTimeField()
    # Set when a refresh used it: with rotation on, it is dead from that moment (E2).
    used_at = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(default=False)

    def __str__(self) -> str:
        return "refresh token"


class AccessToken(models.Model):
    token = models.CharField(max_length=2000, unique=True)
    client_id = models.CharField(max_length=200)
    account = models.ForeignKey(Account, on_delete=models.CASCADE)
    expires_at = models.DateTimeField()
    revoked = models.BooleanField(default=False)

    def __str__(self) -> str:
        return "access token"


class Record(models.Model):
    """What every record shares: its account and timestamps."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        abstract = True


class Client(Record):
    title = models.CharField(max_length=40, blank=True)
    first_name = models.CharField(max_length=255, blank=True)
    last_name = models.CharField(max_length=255, blank=True)
    company_name = models.CharField(max_length=255, blank=True)
    is_company = models.BooleanField(default=False)
    is_lead = models.BooleanField(default=False)
    is_archived = models.BooleanField(default=False)
    # [{"address", "description", "primary"}] and [{"number", "description", "primary",
    # "smsAllowed"}], as clientCreate takes them.
    emails = models.JSONField(default=list)
    phones = models.JSONField(default=list)
    street1 = models.CharField(max_length=255, blank=True)
    street2 = models.CharField(max_length=255, blank=True)
    city = models.CharField(max_length=255, blank=True)
    province = models.CharField(max_length=255, blank=True)
    postal_code = models.CharField(max_length=40, blank=True)
    country = models.CharField(max_length=255, blank=True)

    def __str__(self) -> str:
        return self.company_name or f"{self.first_name} {self.last_name}".strip()


class Property(Record):
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="properties")
    street1 = models.CharField(max_length=255, blank=True)
    street2 = models.CharField(max_length=255, blank=True)
    city = models.CharField(max_length=255, blank=True)
    province = models.CharField(max_length=255, blank=True)
    postal_code = models.CharField(max_length=40, blank=True)
    country = models.CharField(max_length=255, blank=True)
    is_billing_address = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.street1}, {self.city}"


class Quote(Record):
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="quotes")
    property = models.ForeignKey(Property, null=True, blank=True, on_delete=models.SET_NULL)
    quote_number = models.CharField(max_length=40)  # "a non-unique number" (E4)
    title = models.CharField(max_length=255, blank=True)
    quote_status = models.CharField(max_length=30, default="draft")
    sent_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"quote {self.quote_number}"


class Job(Record):
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="jobs")
    property = models.ForeignKey(Property, null=True, blank=True, on_delete=models.SET_NULL)
    quote = models.ForeignKey(
        Quote, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    job_number = models.PositiveIntegerField()
    title = models.CharField(max_length=255, blank=True)
    job_status = models.CharField(max_length=30, default="active")
    job_type = models.CharField(max_length=20, default="ONE_OFF")
    billing_type = models.CharField(max_length=20, default="FIXED_PRICE")
    total = models.DecimalField(**MONEY)
    start_at = models.DateTimeField(null=True, blank=True)
    end_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"job #{self.job_number}"


class Invoice(Record):
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="invoices")
    jobs = models.ManyToManyField(Job, related_name="invoices", blank=True)
    invoice_number = models.CharField(max_length=40)
    subject = models.CharField(max_length=255, blank=True)
    invoice_status = models.CharField(max_length=30, default="awaiting_payment")
    issued_date = models.DateField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    received_date = models.DateField(null=True, blank=True)
    tax_amount = models.DecimalField(**MONEY)
    discount_amount = models.DecimalField(**MONEY)
    deposit_amount = models.DecimalField(**MONEY)

    def __str__(self) -> str:
        return f"invoice {self.invoice_number}"


class Visit(Record):
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="visits")
    invoice = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.SET_NULL, related_name="visits"
    )
    title = models.CharField(max_length=255, blank=True)
    visit_status = models.CharField(max_length=20, default="UPCOMING")
    start_at = models.DateTimeField(null=True, blank=True)
    end_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"visit {self.pk}"


class LineItem(models.Model):
    """A line of a quote, a job or an invoice (exactly one of the three)."""

    quote = models.ForeignKey(Quote, null=True, on_delete=models.CASCADE, related_name="lines")
    job = models.ForeignKey(Job, null=True, on_delete=models.CASCADE, related_name="lines")
    invoice = models.ForeignKey(Invoice, null=True, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(default=0)
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    quantity = models.DecimalField(max_digits=14, decimal_places=4, default=Decimal("1"))
    unit_price = models.DecimalField(max_digits=14, decimal_places=4, default=Decimal("0"))
    total_price = models.DecimalField(**MONEY)
    taxable = models.BooleanField(default=False)
    service_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.name


class PaymentRecord(Record):
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="payment_records")
    invoice = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.CASCADE, related_name="payment_records"
    )
    amount = models.DecimalField(**MONEY)
    tip_amount = models.DecimalField(**MONEY)
    entry_date = models.DateField()
    adjustment_type = models.CharField(max_length=30, default="PAYMENT")
    payment_type = models.CharField(max_length=30, default="CHECK")
    details = models.CharField(max_length=255, blank=True)

    def __str__(self) -> str:
        return f"payment {self.amount}"
