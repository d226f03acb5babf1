"""The Jobber GraphQL schema the emulator serves: the one place Jobber's names live.

Type, field, enum and argument names follow Jobber's schema as api-facts-wave2.md E4-E6
records it (from 2022; correct them here when the current schema says otherwise).
Connections are Relay's (`nodes`, `edges{cursor node}`, `pageInfo`, `totalCount`) with
`first/after/last/before`; ids are `EncodedId`s (ids.py). Money is Decimal in the
database and Jobber's `Float` on the wire. Every query sees only the account its access
token was granted for (`info.context.request.jobber_account`, set by api_views.py).
"""

from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Generic, NewType, TypeVar

import strawberry
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.types import Info

from sandbox.routers import SANDBOX_DB

from . import models, ratelimit, store
from .ids import decode_cursor, decode_id, encode_cursor, encode_id
from .oauth import disconnect
from .webhooks import notify

EncodedId = NewType("EncodedId", str)  # base64 of gid://Jobber/<Type>/<number> (ids.py)

T = TypeVar("T")


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_iso(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError as error:
        raise GraphQLError(f"{value!r} is not an ISO 8601 date and time") from error
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _day(value: date | None) -> datetime | None:
    """Jobber types its dates (issued, due, entry) as ISO8601DateTime: midnight UTC."""
    return datetime.combine(value, time(), tzinfo=UTC) if value else None


def _money(value: Decimal) -> float:
    # Jobber's schema types money as Float; 2-dp Decimals print back exactly.
    return float(value)


def _account(info: Info) -> models.Account:
    return info.context.request.jobber_account


# --- enums -------------------------------------------------------------------------------


@strawberry.enum
class InvoiceStatusTypeEnum(Enum):
    draft = "draft"
    awaiting_payment = "awaiting_payment"
    paid = "paid"
    past_due = "past_due"
    bad_debt = "bad_debt"


@strawberry.enum
class JobStatusTypeEnum(Enum):
    requires_invoicing = "requires_invoicing"
    archived = "archived"
    late = "late"
    today = "today"
    upcoming = "upcoming"
    action_required = "action_required"
    on_hold = "on_hold"
    unscheduled = "unscheduled"
    active = "active"


@strawberry.enum
class JobTypeTypeEnum(Enum):
    ONE_OFF = "ONE_OFF"
    RECURRING = "RECURRING"


@strawberry.enum
class BillingStrategy(Enum):
    FIXED_PRICE = "FIXED_PRICE"
    VISIT_BASED = "VISIT_BASED"


@strawberry.enum
class QuoteStatusTypeEnum(Enum):
    draft = "draft"
    awaiting_response = "awaiting_response"
    archived = "archived"
    approved = "approved"
    converted = "converted"
    changes_requested = "changes_requested"


@strawberry.enum
class VisitStatusTypeEnum(Enum):
    ACTIVE = "ACTIVE"
    COMPLETED = "COMPLETED"
    LATE = "LATE"
    TODAY = "TODAY"
    UNSCHEDULED = "UNSCHEDULED"
    UPCOMING = "UPCOMING"


@strawberry.enum
class PaymentRecordAdjustmentTypeEnum(Enum):
    INVOICE = "INVOICE"
    REFUND = "REFUND"
    CORRECTION = "CORRECTION"
    INITIAL_BALANCE = "INITIAL_BALANCE"
    FAILED_ACH_PAYMENT = "FAILED_ACH_PAYMENT"
    PAYMENT = "PAYMENT"
    DEPOSIT = "DEPOSIT"
    BAD_DEBT = "BAD_DEBT"


# Webhook topics (E6): <OBJECT>_CREATE/UPDATE/DESTROY, plus the app's own.
WEBHOOK_OBJECTS = {
    models.Client: "CLIENT",
    models.Property: "PROPERTY",
    models.Quote: "QUOTE",
    models.Job: "JOB",
    models.Visit: "VISIT",
    models.Invoice: "INVOICE",
    models.PaymentRecord: "PAYMENT",
}
# The type in each record's encoded id.
ID_TYPES = {
    models.Account: "Account",
    models.Client: "Client",
    models.Property: "Property",
    models.Quote: "Quote",
    models.Job: "Job",
    models.Visit: "Visit",
    models.Invoice: "Invoice",
    models.LineItem: "LineItem",
    models.PaymentRecord: "PaymentRecord",
}


def gid(row) -> str:
    return encode_id(ID_TYPES[type(row)], row.pk)


def topic(row, action: str) -> tuple[str, str]:
    """The webhook event (topic, itemId) for a record created, updated or destroyed."""
    return f"{WEBHOOK_OBJECTS[type(row)]}_{action}", gid(row)


# --- connections -------------------------------------------------------------------------


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):  # noqa: UP046 - strawberry names generics from Generic
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):  # noqa: UP046
    nodes: list[T]
    edges: list[Edge[T]]
    page_info: PageInfo
    base: strawberry.Private[QuerySet]

    @strawberry.field(description="Expensive: counts every matching row.")
    def total_count(self) -> int:
        return self.base.count()


def paginate(
    rows: QuerySet,
    wrap,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection:
    """A Relay page of `rows` in primary-key order; cursors carry the key (ids.py)."""
    for name, value in (("first", first), ("last", last)):
        if value is not None and value < 0:
            raise GraphQLError(f"Argument '{name}' on Field must be a non-negative integer")
    base = rows.order_by("pk")
    window = base
    after_pk = decode_cursor(after) if after else None
    before_pk = decode_cursor(before) if before else None
    if (after and after_pk is None) or (before and before_pk is None):
        raise GraphQLError("Invalid cursor")
    if after_pk is not None:
        window = window.filter(pk__gt=after_pk)
    if before_pk is not None:
        window = window.filter(pk__lt=before_pk)
    if last is not None and first is None:
        found = list(window.order_by("-pk")[: last + 1])
        more_before = len(found) > last
        page = list(reversed(found[:last]))
        has_previous = more_before
        has_next = before_pk is not None and base.filter(pk__gte=before_pk).exists()
    else:
        size = ratelimit.DEFAULT_PAGE if first is None else first
        found = list(window[: size + 1])
        page = found[:size]
        has_next = len(found) > size
        has_previous = after_pk is not None and base.filter(pk__lte=after_pk).exists()
    edges = [Edge(cursor=encode_cursor(row.pk), node=wrap(row)) for row in page]
    return Connection(
        nodes=[edge.node for edge in edges],
        edges=edges,
        page_info=PageInfo(
            has_next_page=has_next,
            has_previous_page=has_previous,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        base=base,
    )


def _one(info: Info, model, kind: str, value: str):
    found = decode_id(value, kind)
    if found is None:
        return None
    return model.objects.filter(account=_account(info), pk=found[1]).first()


# --- shared value types ------------------------------------------------------------------


@strawberry.type
class ClientAddress:
    street1: str
    street2: str
    city: str
    province: str
    postal_code: str
    country: str


@strawberry.type
class PropertyAddress:
    street1: str
    street2: str
    city: str
    province: str
    postal_code: str
    country: str


def _address(row, kind):
    return kind(**{name: getattr(row, name) for name in store.ADDRESS_FIELDS})


@strawberry.type
class Email:
    address: str
    description: str
    primary: bool


@strawberry.type
class ClientPhoneNumber:
    number: str
    normalized_phone_number: str
    description: str
    primary: bool
    sms_allowed: bool


def _normalized(number: str) -> str:
    digits = "".join(c for c in number if c.isdigit())
    if len(digits) == 10:
        return f"+1{digits}"
    return f"+{digits}" if digits else ""


@strawberry.type
class LineItem:
    row: strawberry.Private[models.LineItem]

    @strawberry.field
    def id(self) -> EncodedId:
        return gid(self.row)

    @strawberry.field
    def name(self) -> str:
        return self.row.name

    @strawberry.field
    def description(self) -> str:
        return self.row.description

    @strawberry.field
    def quantity(self) -> float:
        return float(self.row.quantity)

    @strawberry.field
    def unit_price(self) -> float:
        return float(self.row.unit_price)

    @strawberry.field
    def total_price(self) -> float:
        return _money(self.row.total_price)

    @strawberry.field
    def taxable(self) -> bool:
        return self.row.taxable

    @strawberry.field
    def date(self) -> datetime | None:
        return _day(self.row.service_date)


@strawberry.type
class JobLineItem(LineItem):
    pass


@strawberry.type
class InvoiceLineItem(LineItem):
    pass


@strawberry.type
class QuoteLineItem(LineItem):
    pass


# --- records -----------------------------------------------------------------------------


@strawberry.type
class Account:
    row: strawberry.Private[models.Account]

    @strawberry.field
    def id(self) -> EncodedId:
        return gid(self.row)

    @strawberry.field
    def name(self) -> str:
        return self.row.name

    @strawberry.field
    def created_at(self) -> datetime:
        return self.row.created_at


@strawberry.type
class Client:
    row: strawberry.Private[models.Client]

    @strawberry.field
    def id(self) -> EncodedId:
        return gid(self.row)

    @strawberry.field
    def name(self) -> str:
        return store.display_name(self.row)

    @strawberry.field
    def title(self) -> str:
        return self.row.title

    @strawberry.field
    def first_name(self) -> str:
        return self.row.first_name

    @strawberry.field
    def last_name(self) -> str:
        return self.row.last_name

    @strawberry.field
    def company_name(self) -> str | None:
        return self.row.company_name or None

    @strawberry.field
    def is_company(self) -> bool:
        return self.row.is_company

    @strawberry.field
    def is_lead(self) -> bool:
        return self.row.is_lead

    @strawberry.field
    def is_archived(self) -> bool:
        return self.row.is_archived

    @strawberry.field
    def balance(self) -> float:
        return _money(store.client_balance(self.row))

    @strawberry.field
    def emails(self) -> list[Email]:
        return [
            Email(
                address=e.get("address", ""),
                description=e.get("description", "MAIN"),
                primary=bool(e.get("primary")),
            )
            for e in self.row.emails
        ]

    @strawberry.field
    def phones(self) -> list[ClientPhoneNumber]:
        return [
            ClientPhoneNumber(
                number=p.get("number", ""),
                normalized_phone_number=_normalized(p.get("number", "")),
                description=p.get("description", "MAIN"),
                primary=bool(p.get("primary")),
                sms_allowed=bool(p.get("smsAllowed")),
            )
            for p in self.row.phones
        ]

    @strawberry.field
    def billing_address(self) -> ClientAddress | None:
        return _address(self.row, ClientAddress)

    @strawberry.field
    def properties(self) -> list["Property"]:
        return [Property(row=p) for p in self.row.properties.order_by("pk")]

    @strawberry.field
    def client_properties(
        self,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection["Property"]:
        return paginate(self.row.properties.all(), _wrap(Property), first, after, last, before)

    @strawberry.field
    def jobs(
        self,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection["Job"]:
        return paginate(self.row.jobs.all(), _wrap(Job), first, after, last, before)

    @strawberry.field
    def invoices(
        self,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection["Invoice"]:
        return paginate(self.row.invoices.all(), _wrap(Invoice), first, after, last, before)

    @strawberry.field
    def quotes(
        self,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection["Quote"]:
        return paginate(self.row.quotes.all(), _wrap(Quote), first, after, last, before)

    @strawberry.field
    def created_at(self) -> datetime:
        return self.row.created_at

    @strawberry.field
    def updated_at(self) -> datetime:
        return self.row.updated_at

    @strawberry.field
    def jobber_web_uri(self) -> str:
        return f"https://secure.getjobber.com/clients/{self.row.pk}"


@strawberry.type
class Property:
    row: strawberry.Private[models.Property]

    @strawberry.field
    def id(self) -> EncodedId:
        return gid(self.row)

    @strawberry.field
    def address(self) -> PropertyAddress:
        return _address(self.row, PropertyAddress)

    @strawberry.field
    def is_billing_address(self) -> bool:
        return self.row.is_billing_address

    @strawberry.field
    def client(self) -> Client:
        return Client(row=self.row.client)

    @strawberry.field
    def jobs(
        self,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection["Job"]:
        rows = models.Job.objects.filter(property=self.row)
        return paginate(rows, _wrap(Job), first, after, last, before)


@strawberry.type
class QuoteAmounts:
    subtotal: float
    total: float


@strawberry.type
class Quote:
    row: strawberry.Private[models.Quote]

    @strawberry.field
    def id(self) -> EncodedId:
        return gid(self.row)

    @strawberry.field
    def quote_number(self) -> str:
        return self.row.quote_number

    @strawberry.field
    def title(self) -> str:
        return self.row.title

    @strawberry.field
    def quote_status(self) -> QuoteStatusTypeEnum:
        return QuoteStatusTypeEnum(self.row.quote_status)

    @strawberry.field
    def amounts(self) -> QuoteAmounts:
        subtotal = sum((line.total_price for line in self.row.lines.all()), store.ZERO)
        return QuoteAmounts(subtotal=_money(subtotal), total=_money(subtotal))

    @strawberry.field
    def client(self) -> Client:
        return Client(row=self.row.client)

    @strawberry.field
    def property(self) -> Property | None:
        return Property(row=self.row.property) if self.row.property else None

    @strawberry.field
    def line_items(
        self,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[QuoteLineItem]:
        return paginate(self.row.lines.all(), _wrap(QuoteLineItem), first, after, last, before)

    @strawberry.field
    def jobs(
        self,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection["Job"]:
        return paginate(self.row.jobs.all(), _wrap(Job), first, after, last, before)

    @strawberry.field
    def sent_at(self) -> datetime | None:
        return self.row.sent_at

    @strawberry.field
    def created_at(self) -> datetime:
        return self.row.created_at

    @strawberry.field
    def updated_at(self) -> datetime:
        return self.row.updated_at


@strawberry.type
class Job:
    row: strawberry.Private[models.Job]

    @strawberry.field
    def id(self) -> EncodedId:
        return gid(self.row)

    @strawberry.field
    def job_number(self) -> int:
        return self.row.job_number

    @strawberry.field
    def title(self) -> str:
        return self.row.title

    @strawberry.field
    def job_status(self) -> JobStatusTypeEnum:
        return JobStatusTypeEnum(self.row.job_status)

    @strawberry.field
    def job_type(self) -> JobTypeTypeEnum:
        return JobTypeTypeEnum(self.row.job_type)

    @strawberry.field
    def billing_type(self) -> BillingStrategy:
        return BillingStrategy(self.row.billing_type)

    @strawberry.field
    def total(self) -> float:
        return _money(self.row.total)

    @strawberry.field
    def client(self) -> Client:
        return Client(row=self.row.client)

    @strawberry.field
    def property(self) -> Property | None:
        return Property(row=self.row.property) if self.row.property else None

    @strawberry.field
    def quote(self) -> Quote | None:
        return Quote(row=self.row.quote) if self.row.quote else None

    @strawberry.field
    def line_items(
        self,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[JobLineItem]:
        return paginate(self.row.lines.all(), _wrap(JobLineItem), first, after, last, before)

    @strawberry.field
    def invoices(
        self,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection["Invoice"]:
        return paginate(self.row.invoices.all(), _wrap(Invoice), first, after, last, before)

    @strawberry.field
    def visits(
        self,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection["Visit"]:
        return paginate(self.row.visits.all(), _wrap(Visit), first, after, last, before)

    @strawberry.field(description="The payment records applied to this job's invoices")
    def payment_records(
        self,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection["PaymentRecord"]:
        rows = models.PaymentRecord.objects.filter(invoice__jobs=self.row)
        return paginate(rows, _wrap(PaymentRecord), first, after, last, before)

    @strawberry.field
    def start_at(self) -> datetime | None:
        return self.row.start_at

    @strawberry.field
    def end_at(self) -> datetime | None:
        return self.row.end_at

    @strawberry.field
    def completed_at(self) -> datetime | None:
        return self.row.completed_at

    @strawberry.field
    def created_at(self) -> datetime:
        return self.row.created_at

    @strawberry.field
    def updated_at(self) -> datetime:
        return self.row.updated_at

    @strawberry.field
    def jobber_web_uri(self) -> str:
        return f"https://secure.getjobber.com/work_orders/{self.row.pk}"


@strawberry.type
class Visit:
    row: strawberry.Private[models.Visit]

    @strawberry.field
    def id(self) -> EncodedId:
        return gid(self.row)

    @strawberry.field
    def title(self) -> str:
        return self.row.title

    @strawberry.field
    def visit_status(self) -> VisitStatusTypeEnum:
        return VisitStatusTypeEnum(self.row.visit_status)

    @strawberry.field
    def start_at(self) -> datetime | None:
        return self.row.start_at

    @strawberry.field
    def end_at(self) -> datetime | None:
        return self.row.end_at

    @strawberry.field
    def completed_at(self) -> datetime | None:
        return self.row.completed_at

    @strawberry.field
    def job(self) -> Job:
        return Job(row=self.row.job)

    @strawberry.field
    def invoice(self) -> "Invoice | None":
        return Invoice(row=self.row.invoice) if self.row.invoice else None


@strawberry.type
class InvoiceAmounts:
    subtotal: float
    tax_amount: float
    discount_amount: float
    deposit_amount: float
    payments_total: float
    tips_total: float
    invoice_balance: float
    total: float
    non_tax_amount: float


@strawberry.type
class Invoice:
    row: strawberry.Private[models.Invoice]

    @strawberry.field
    def id(self) -> EncodedId:
        return gid(self.row)

    @strawberry.field
    def invoice_number(self) -> str:
        return self.row.invoice_number

    @strawberry.field
    def subject(self) -> str:
        return self.row.subject

    @strawberry.field(description="Whole days after the issue date that payment is due")
    def invoice_net(self) -> int | None:
        row = self.row
        if row.issued_date is None or row.due_date is None:
            return None
        return (row.due_date - row.issued_date).days

    @strawberry.field
    def invoice_status(self) -> InvoiceStatusTypeEnum:
        return InvoiceStatusTypeEnum(self.row.invoice_status)

    @strawberry.field
    def issued_date(self) -> datetime | None:
        return _day(self.row.issued_date)

    @strawberry.field
    def due_date(self) -> datetime | None:
        return _day(self.row.due_date)

    @strawberry.field
    def received_date(self) -> datetime | None:
        return _day(self.row.received_date)

    @strawberry.field
    def amounts(self) -> InvoiceAmounts:
        found = store.amounts(self.row)
        return InvoiceAmounts(
            **{name: _money(getattr(found, name)) for name in InvoiceAmounts.__annotations__}
        )

    @strawberry.field
    def subtotal(self) -> float:
        return _money(store.amounts(self.row).subtotal)

    @strawberry.field
    def total(self) -> float:
        return _money(store.amounts(self.row).total)

    @strawberry.field
    def client(self) -> Client:
        return Client(row=self.row.client)

    @strawberry.field
    def job_ids(self) -> list[EncodedId]:
        return [gid(job) for job in self.row.jobs.order_by("pk")]

    @strawberry.field
    def jobs(
        self,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Job]:
        return paginate(self.row.jobs.all(), _wrap(Job), first, after, last, before)

    @strawberry.field
    def visits(
        self,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Visit]:
        return paginate(self.row.visits.all(), _wrap(Visit), first, after, last, before)

    @strawberry.field
    def line_items(
        self,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[InvoiceLineItem]:
        return paginate(self.row.lines.all(), _wrap(InvoiceLineItem), first, after, last, before)

    @strawberry.field
    def payment_records(
        self,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection["PaymentRecord"]:
        rows = self.row.payment_records.all()
        return paginate(rows, _wrap(PaymentRecord), first, after, last, before)

    @strawberry.field
    def created_at(self) -> datetime:
        return self.row.created_at

    @strawberry.field
    def updated_at(self) -> datetime:
        return self.row.updated_at

    @strawberry.field
    def jobber_web_uri(self) -> str:
        return f"https://secure.getjobber.com/invoices/{self.row.pk}"


@strawberry.type
class PaymentRecord:
    row: strawberry.Private[models.PaymentRecord]

    @strawberry.field
    def id(self) -> EncodedId:
        return gid(self.row)

    @strawberry.field
    def amount(self) -> float:
        return _money(self.row.amount)

    @strawberry.field
    def tip_amount(self) -> float:
        return _money(self.row.tip_amount)

    @strawberry.field
    def entry_date(self) -> datetime:
        return _day(self.row.entry_date)

    @strawberry.field
    def adjustment_type(self) -> PaymentRecordAdjustmentTypeEnum:
        return PaymentRecordAdjustmentTypeEnum(self.row.adjustment_type)

    @strawberry.field
    def payment_type(self) -> str:
        return self.row.payment_type

    @strawberry.field
    def details(self) -> str | None:
        return self.row.details or None

    @strawberry.field
    def client(self) -> Client:
        return Client(row=self.row.client)

    @strawberry.field
    def invoice(self) -> Invoice | None:
        return Invoice(row=self.row.invoice) if self.row.invoice else None


def _wrap(kind):
    return lambda row: kind(row=row)


# --- filters -----------------------------------------------------------------------------


@strawberry.input
class Iso8601DateTimeRangeInput:
    after: datetime | None = None
    before: datetime | None = None


def _in_range(rows: QuerySet, field: str, span, *, days: bool = False) -> QuerySet:
    """Rows whose `field` falls in the span; `days` compares a date column by its day."""
    if span is None:
        return rows
    for bound, lookup in ((span.after, "gte"), (span.before, "lte")):
        if bound is not None:
            value = bound.astimezone(UTC).date() if days else bound
            rows = rows.filter(**{f"{field}__{lookup}": value})
    return rows


@strawberry.input
class ClientFilterAttributes:
    is_company: bool | None = None
    is_lead: bool | None = None
    is_archived: bool | None = None
    updated_at: Iso8601DateTimeRangeInput | None = None
    created_at: Iso8601DateTimeRangeInput | None = None


@strawberry.input
class InvoiceFilterAttributes:
    client_id: EncodedId | None = None
    invoice_number: str | None = None
    status: InvoiceStatusTypeEnum | None = None
    issued_date: Iso8601DateTimeRangeInput | None = None
    due_date: Iso8601DateTimeRangeInput | None = None
    updated_at: Iso8601DateTimeRangeInput | None = None
    created_at: Iso8601DateTimeRangeInput | None = None


@strawberry.input
class JobFilterAttributes:
    job_type: JobTypeTypeEnum | None = None
    status: JobStatusTypeEnum | None = None
    created_at: Iso8601DateTimeRangeInput | None = None
    start_at: Iso8601DateTimeRangeInput | None = None
    completed_at: Iso8601DateTimeRangeInput | None = None


@strawberry.input
class QuoteFilterAttributes:
    client_id: EncodedId | None = None
    quote_number: str | None = None
    status: QuoteStatusTypeEnum | None = None
    updated_at: Iso8601DateTimeRangeInput | None = None
    created_at: Iso8601DateTimeRangeInput | None = None


@strawberry.input
class PaymentRecordFilterAttributes:
    entry_date: Iso8601DateTimeRangeInput | None = None
    adjustment_type: PaymentRecordAdjustmentTypeEnum | None = None


def _client_pk(value: str | None) -> int:
    found = decode_id(value or "", "Client")
    return found[1] if found else 0


@strawberry.type
class Query:
    @strawberry.field
    def account(self, info: Info) -> Account:
        return Account(row=_account(info))

    @strawberry.field
    def clients(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: ClientFilterAttributes | None = None,
        search_term: str | None = None,
    ) -> Connection[Client]:
        rows = models.Client.objects.filter(account=_account(info))
        if filter is not None:
            for name in ("is_company", "is_lead", "is_archived"):
                if getattr(filter, name) is not None:
                    rows = rows.filter(**{name: getattr(filter, name)})
            rows = _in_range(rows, "updated_at", filter.updated_at)
            rows = _in_range(rows, "created_at", filter.created_at)
        if search_term:
            rows = rows.filter(
                Q(first_name__icontains=search_term)
                | Q(last_name__icontains=search_term)
                | Q(company_name__icontains=search_term)
            )
        return paginate(rows, _wrap(Client), first, after, last, before)

    @strawberry.field
    def client(self, info: Info, id: EncodedId) -> Client | None:
        row = _one(info, models.Client, "Client", id)
        return Client(row=row) if row else None

    @strawberry.field
    def properties(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Property]:
        rows = models.Property.objects.filter(account=_account(info))
        return paginate(rows, _wrap(Property), first, after, last, before)

    @strawberry.field
    def property(self, info: Info, id: EncodedId) -> Property | None:
        row = _one(info, models.Property, "Property", id)
        return Property(row=row) if row else None

    @strawberry.field
    def quotes(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: QuoteFilterAttributes | None = None,
    ) -> Connection[Quote]:
        rows = models.Quote.objects.filter(account=_account(info))
        if filter is not None:
            if filter.client_id is not None:
                rows = rows.filter(client_id=_client_pk(filter.client_id))
            if filter.quote_number is not None:
                rows = rows.filter(quote_number=filter.quote_number)
            if filter.status is not None:
                rows = rows.filter(quote_status=filter.status.value)
            rows = _in_range(rows, "updated_at", filter.updated_at)
            rows = _in_range(rows, "created_at", filter.created_at)
        return paginate(rows, _wrap(Quote), first, after, last, before)

    @strawberry.field
    def quote(self, info: Info, id: EncodedId) -> Quote | None:
        row = _one(info, models.Quote, "Quote", id)
        return Quote(row=row) if row else None

    @strawberry.field
    def jobs(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: JobFilterAttributes | None = None,
    ) -> Connection[Job]:
        rows = models.Job.objects.filter(account=_account(info))
        if filter is not None:
            if filter.job_type is not None:
                rows = rows.filter(job_type=filter.job_type.value)
            if filter.status is not None:
                rows = rows.filter(job_status=filter.status.value)
            rows = _in_range(rows, "created_at", filter.created_at)
            rows = _in_range(rows, "start_at", filter.start_at)
            rows = _in_range(rows, "completed_at", filter.completed_at)
        return paginate(rows, _wrap(Job), first, after, last, before)

    @strawberry.field
    def job(self, info: Info, id: EncodedId) -> Job | None:
        row = _one(info, models.Job, "Job", id)
        return Job(row=row) if row else None

    @strawberry.field
    def visits(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Visit]:
        rows = models.Visit.objects.filter(account=_account(info))
        return paginate(rows, _wrap(Visit), first, after, last, before)

    @strawberry.field
    def invoices(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: InvoiceFilterAttributes | None = None,
        search_term: str | None = None,
    ) -> Connection[Invoice]:
        rows = models.Invoice.objects.filter(account=_account(info))
        if filter is not None:
            if filter.client_id is not None:
                rows = rows.filter(client_id=_client_pk(filter.client_id))
            if filter.invoice_number is not None:
                rows = rows.filter(invoice_number=filter.invoice_number)
            if filter.status is not None:
                rows = rows.filter(invoice_status=filter.status.value)
            rows = _in_range(rows, "issued_date", filter.issued_date, days=True)
            rows = _in_range(rows, "due_date", filter.due_date, days=True)
            rows = _in_range(rows, "updated_at", filter.updated_at)
            rows = _in_range(rows, "created_at", filter.created_at)
        if search_term:
            rows = rows.filter(
                Q(invoice_number__icontains=search_term) | Q(subject__icontains=search_term)
            )
        return paginate(rows, _wrap(Invoice), first, after, last, before)

    @strawberry.field
    def invoice(self, info: Info, id: EncodedId) -> Invoice | None:
        row = _one(info, models.Invoice, "Invoice", id)
        return Invoice(row=row) if row else None

    @strawberry.field
    def payment_records(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: PaymentRecordFilterAttributes | None = None,
    ) -> Connection[PaymentRecord]:
        rows = models.PaymentRecord.objects.filter(account=_account(info))
        if filter is not None:
            rows = _in_range(rows, "entry_date", filter.entry_date, days=True)
            if filter.adjustment_type is not None:
                rows = rows.filter(adjustment_type=filter.adjustment_type.value)
        return paginate(rows, _wrap(PaymentRecord), first, after, last, before)


# --- mutations ---------------------------------------------------------------------------


@strawberry.type
class MutationErrors:
    message: str
    path: list[str]


def _errors(problems: list[store.Problem]) -> list[MutationErrors]:
    return [MutationErrors(message=p.message, path=list(p.path)) for p in problems]


@strawberry.input
class EmailCreateAttributes:
    address: str
    description: str | None = "MAIN"
    primary: bool | None = False


@strawberry.input
class PhoneNumberCreateAttributes:
    number: str
    description: str | None = "MAIN"
    primary: bool | None = False
    sms_allowed: bool | None = False


@strawberry.input
class AddressAttributes:
    street1: str | None = None
    street2: str | None = None
    city: str | None = None
    province: str | None = None
    postal_code: str | None = None
    country: str | None = None


@strawberry.input
class ClientCreateInput:
    title: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    company_name: str | None = None
    is_company: bool | None = None
    emails: list[EmailCreateAttributes] | None = None
    phones: list[PhoneNumberCreateAttributes] | None = None
    billing_address: AddressAttributes | None = None


@strawberry.input
class ClientEditInput:
    title: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    company_name: str | None = None
    is_company: bool | None = None
    emails_to_add: list[EmailCreateAttributes] | None = None
    phones_to_add: list[PhoneNumberCreateAttributes] | None = None
    billing_address: AddressAttributes | None = None


def _client_values(given, emails, phones, existing: models.Client | None = None) -> dict:
    """Model field values from a create or edit input (fields left out stay as they are)."""
    values = {
        name: getattr(given, name)
        for name in ("title", "first_name", "last_name", "company_name", "is_company")
        if getattr(given, name) is not None
    }
    if given.billing_address is not None:
        for name in store.ADDRESS_FIELDS:
            value = getattr(given.billing_address, name)
            if value is not None:
                values[name] = value
    if emails is not None:
        old = list(existing.emails) if existing else []
        values["emails"] = old + [
            {
                "address": e.address,
                "description": e.description or "MAIN",
                "primary": bool(e.primary),
            }
            for e in emails
        ]
    if phones is not None:
        old = list(existing.phones) if existing else []
        values["phones"] = old + [
            {
                "number": p.number,
                "description": p.description or "MAIN",
                "primary": bool(p.primary),
                "smsAllowed": bool(p.sms_allowed),
            }
            for p in phones
        ]
    return values


@strawberry.type
class ClientCreatePayload:
    client: Client | None
    user_errors: list[MutationErrors]


@strawberry.type
class ClientEditPayload:
    client: Client | None
    user_errors: list[MutationErrors]


@strawberry.type
class ClientArchivePayload:
    client: Client | None
    user_errors: list[MutationErrors]


@strawberry.type
class AppDisconnectPayload:
    app: Account | None
    user_errors: list[MutationErrors]


@strawberry.input
class PaymentRecordCreateInput:
    """A payment on an invoice (api-facts E4 names the PaymentRecord fields; the mutation's
    own name and input are not in the 2022 facts: connections/jobber/schema.py keeps them)."""

    invoice_id: EncodedId
    amount: float
    entry_date: datetime | None = None
    payment_type: str | None = "OTHER"
    details: str | None = None


@strawberry.type
class PaymentRecordCreatePayload:
    payment_record: PaymentRecord | None
    user_errors: list[MutationErrors]


def _payment_problems(invoice: models.Invoice | None, amount: Decimal) -> list[MutationErrors]:
    def error(message: str, path: str) -> list[MutationErrors]:
        return [MutationErrors(message=message, path=[path])]

    if invoice is None:
        return error("Invoice not found", "invoiceId")
    if invoice.invoice_status in ("draft", "bad_debt"):
        return error(f"A payment cannot be recorded on a {invoice.invoice_status} invoice",
                     "invoiceId")  # fmt: skip
    if not amount.is_finite() or amount <= 0:
        return error("Amount must be greater than zero", "amount")
    if amount > store.amounts(invoice).invoice_balance:
        return error("Amount is more than the invoice balance", "amount")
    return []


def _not_found(path: str) -> list[MutationErrors]:
    return [MutationErrors(message="Client not found", path=[path])]


@strawberry.type
class Mutation:
    @strawberry.mutation
    def client_create(self, info: Info, input: ClientCreateInput) -> ClientCreatePayload:
        account = _account(info)
        values = _client_values(input, input.emails, input.phones)
        problems = store.check_client(values)
        if problems:
            return ClientCreatePayload(client=None, user_errors=_errors(problems))
        with transaction.atomic(using=SANDBOX_DB):
            row = store.create_client(account, values)
            notify(account, [topic(row, "CREATE")])
        return ClientCreatePayload(client=Client(row=row), user_errors=[])

    @strawberry.mutation
    def client_edit(
        self, info: Info, client_id: EncodedId, input: ClientEditInput
    ) -> ClientEditPayload:
        account = _account(info)
        with transaction.atomic(using=SANDBOX_DB):
            row = _one(info, models.Client, "Client", client_id)
            if row is None:
                return ClientEditPayload(client=None, user_errors=_not_found("clientId"))
            values = _client_values(input, input.emails_to_add, input.phones_to_add, row)
            problems = store.check_client(values, row)
            if problems:
                return ClientEditPayload(client=None, user_errors=_errors(problems))
            store.edit_client(row, values)
            notify(account, [topic(row, "UPDATE")])
        return ClientEditPayload(client=Client(row=row), user_errors=[])

    @strawberry.mutation
    def client_archive(self, info: Info, client_id: EncodedId) -> ClientArchivePayload:
        account = _account(info)
        with transaction.atomic(using=SANDBOX_DB):
            row = _one(info, models.Client, "Client", client_id)
            if row is None:
                return ClientArchivePayload(client=None, user_errors=_not_found("clientId"))
            if row.is_archived:
                message = MutationErrors(message="Client is already archived", path=["clientId"])
                return ClientArchivePayload(client=None, user_errors=[message])
            store.edit_client(row, {"is_archived": True})
            notify(account, [topic(row, "UPDATE")])
        return ClientArchivePayload(client=Client(row=row), user_errors=[])

    @strawberry.mutation
    def payment_record_create(
        self, info: Info, input: PaymentRecordCreateInput
    ) -> PaymentRecordCreatePayload:
        account = _account(info)
        amount = Decimal(str(input.amount)).quantize(Decimal("0.01"))
        with transaction.atomic(using=SANDBOX_DB):
            invoice = _one(info, models.Invoice, "Invoice", input.invoice_id)
            if invoice is not None:
                invoice = models.Invoice.objects.select_for_update().get(pk=invoice.pk)
            problems = _payment_problems(invoice, amount)
            if problems:
                return PaymentRecordCreatePayload(payment_record=None, user_errors=problems)
            row = models.PaymentRecord.objects.create(
                account=account,
                client=invoice.client,
                invoice=invoice,
                amount=amount,
                tip_amount=Decimal("0.00"),
                entry_date=(input.entry_date or timezone.now()).date(),
                payment_type=(input.payment_type or "OTHER")[:30],
                details=(input.details or "")[:255],
                created_at=timezone.now(),
                updated_at=timezone.now(),
            )
            store.settle(invoice)
            notify(account, [topic(row, "CREATE"), topic(invoice, "UPDATE")])
        return PaymentRecordCreatePayload(payment_record=PaymentRecord(row=row), user_errors=[])

    @strawberry.mutation
    def app_disconnect(self, info: Info) -> AppDisconnectPayload:
        account = _account(info)
        with transaction.atomic(using=SANDBOX_DB):
            notify(account, [("APP_DISCONNECT", gid(account))])
            disconnect(account)
        return AppDisconnectPayload(app=Account(row=account), user_errors=[])


# --- query cost --------------------------------------------------------------------------


class QueryCost(SchemaExtension):
    """Prices each operation, refuses it when the bucket is short, and reports the cost in
    `extensions.cost` as Jobber does (ratelimit.py has the rules)."""

    def on_execute(self):
        context = self.execution_context
        request = context.context.request
        account: models.Account = request.jobber_account
        requested = ratelimit.requested_cost(
            context.graphql_document, context.operation_name, context.variables or {}
        )
        limits = (account.pk, account.maximum_available, account.restore_rate)
        if account.rate_limits:
            allowed, status = ratelimit.try_spend(*limits, requested)
        else:
            allowed = True
            status = ratelimit.ThrottleStatus(
                account.maximum_available, account.maximum_available, account.restore_rate
            )
        if not allowed:
            error = GraphQLError("Throttled", extensions={"code": "THROTTLED"})
            context.result = GraphQLExecutionResult(data=None, errors=[error])
            self.cost = self._cost(requested, 0, status)
            yield
            return
        yield
        result = context.result
        actual = min(requested, ratelimit.actual_cost(result.data if result else None))
        if account.rate_limits:
            status = ratelimit.refund(*limits, requested - actual)
        self.cost = self._cost(requested, actual, status)

    @staticmethod
    def _cost(requested: int, actual: int, status: ratelimit.ThrottleStatus) -> dict:
        return {
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": status.as_json(),
        }

    def get_results(self) -> dict:
        results = {}
        if getattr(self, "cost", None):
            results["cost"] = self.cost
        warning = getattr(self.execution_context.context.request, "jobber_version_warning", "")
        if warning:
            results["versioning"] = {"warning": warning}
        return results


schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    extensions=[QueryCost],
    config=StrawberryConfig(
        scalar_map={
            datetime: strawberry.scalar(
                name="ISO8601DateTime",
                description="An ISO 8601 date and time, in UTC",
                serialize=_iso,
                parse_value=_parse_iso,
            ),
            EncodedId: strawberry.scalar(
                name="EncodedId",
                description="base64 of gid://Jobber/<Type>/<number>",
                serialize=str,
                parse_value=str,
            ),
        }
    ),
)
