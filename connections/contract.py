"""What every accounting adapter declares about its provider, so the engine reads facts
instead of one provider's constants (batch size 30, CDC's 1,000, DocNumber's 21 characters).

The operations themselves are the `AccountingAdapter` and `CrmAdapter` protocols in
`adapters.py`; the neutral errors are in `retries.py`; this module holds the facts and the
neutral kinds of refusal a batched write reports per record.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum


class Refusal(StrEnum):
    """Why a provider refused one record of a write, in words the engine acts on; the
    provider's own code stays on the result for the accountant (`WriteResult.error_code`)."""

    NAME_TAKEN = "name_taken"  # another record already bears this name (QuickBooks 6240)
    NUMBER_TAKEN = "number_taken"  # another invoice already bears this number (Xero)
    STALE = "stale"  # the record changed since it was read (SyncToken, UpdatedDateUTC)
    NOT_FOUND = "not_found"  # the record is gone, inactive or archived
    INVALID = "invalid"  # the provider's validation refused a value: the message says which
    OTHER = "other"


class ChangeFeed(StrEnum):
    CHANGE_DATA_CAPTURE = "cdc"  # one call for several entities since a time (QuickBooks)
    MODIFIED_SINCE = "modified_since"  # each list read with If-Modified-Since (Xero)


@dataclass(frozen=True)
class Capabilities:
    """Facts about one accounting provider that the engine must respect."""

    # Records per write request; 1 when the provider takes one record at a time.
    batch_size: int
    # How a retried write is kept from landing twice ("requestid" query parameter,
    # "Idempotency-Key" header), how long the provider replays its first answer, and
    # whether it can be relied on: where it cannot (QuickBooks ignores requestid at times),
    # the engine looks for what landed (by number, by reference) before any retry.
    idempotency: str
    idempotency_window: timedelta | None
    idempotency_reliable: bool
    # Sales invoice numbers: unique in the books, and their longest length.
    unique_invoice_numbers: bool
    invoice_number_length: int
    # Customer (contact) names: the provider refuses a second record with the same name.
    unique_customer_names: bool
    change_feed: ChangeFeed
    # Most records one change-feed answer holds (QuickBooks CDC: 1,000 per entity), and
    # how far back it reaches; None: no limit.
    change_feed_limit: int | None
    change_feed_reach: timedelta | None
    # In words for the accountant and the docs ("500 requests a minute per company").
    rate_limits: str
    # How a wrong invoice is taken back, in words ("voided: kept at zero").
    void: str
    invoice_statuses: tuple[str, ...]
    # Character limits of customer fields, by our neutral field names (validation).
    field_limits: dict[str, int] = field(default_factory=dict)
    # Where these books can file a posted invoice's job (`sync.models.JobReference`): the
    # note always; a QuickBooks class or sub-customer; a Xero tracking category option.
    job_references: tuple[str, ...] = ("note",)
    # Most tracking categories the books keep active at once (Xero: 2); None: no limit.
    active_tracking_categories: int | None = None


@dataclass(frozen=True)
class CrmCapabilities:
    """What a CRM holds beyond companies and contacts, so the engine and the pages know
    whether a client's CRM sells (deals, syncfirm makes the invoice) or bills (a
    field-service CRM issues its own invoices for jobs)."""

    # "deal" (HubSpot: a won deal becomes an invoice) or "invoice" (Jobber: the CRM's own
    # invoices are posted to the books, by syncfirm or by another integration).
    source: str
    # What pages call the CRM's unit of work and its invoices ("deal" / "job").
    work_word: str = "deal"
    issues_invoices: bool = False
    has_jobs: bool = False
    # Whether syncfirm can write payment status back to the CRM's records.
    writes_payment_status: bool = True
    # Whether the CRM records payments on its own invoices, which syncfirm reads and writes
    # when it posts them (`sync.models.PaymentRule`).
    records_payments: bool = False
