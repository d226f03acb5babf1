"""The two interfaces the rest of syncfirm talks to: one for accounting systems, one for
CRMs. Sync and reconciliation never import a provider library; they get an adapter here.

Every operation the engine uses is declared below, with neutral records (`records.py`) and
neutral errors (`retries.py`: `Stale`, `NotFound`, `RateLimited` with its wait, `Transient`
— for a write sent once, "outcome unknown" — and `ProviderError` carrying the provider's
reasons); a batched write reports each record's refusal as a `contract.Refusal`. Each
adapter declares its `contract.Capabilities`; the engine reads them instead of constants.
A new provider is a package `connections/<provider>/` whose adapter passes the contract
suite (`tests/contract/`).
"""

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar, Protocol

from .contract import Capabilities, CrmCapabilities
from .models import Connection
from .providers import Kind, System, provider
from .records import (
    AccountInfo,
    CreditMemo,
    CrmCompany,
    CrmInvoice,
    CrmJob,
    CrmPayment,
    CrmRecord,
    Customer,
    Deal,
    Invoice,
    Item,
    LedgerAccount,
    Money,
    NewPayment,
    Page,
    Payment,
    PaymentInfo,
    Unreadable,
    WriteResult,
)


class AccountingAdapter(Protocol):
    capabilities: ClassVar[Capabilities]
    connection: Connection
    # Records its reads left out because a value could not be read (`numbers.BadValue`);
    # the run that read them holds each with its reason. (CRM deals carry theirs in
    # `Deal.problems` instead: invoicing holds the deal itself.)
    unreadable: list[Unreadable]

    def account_info(self) -> AccountInfo: ...

    def record_url(self, kind: str, record_id: str) -> str:
        """Where a person opens this invoice or customer in the provider's own app."""
        ...

    def books_closed_through(self) -> date | None: ...

    # Customers (Xero: contacts).
    def customers(self, cursor: str | None = None) -> Page[Customer]: ...

    def all_customers(self) -> list[Customer]: ...  # with each one's balance

    def customer_by_id(self, customer_id: str) -> Customer | None: ...

    def customers_changed_since(self, since: datetime) -> list[Customer]: ...

    def customers_named(self, display_name: str) -> list[Customer]: ...

    def write_customers(
        self, writes: Iterable[tuple[str, Mapping[str, str], Customer | None]], request_id: str
    ) -> list[WriteResult]:
        """Create (no current customer) or update at most `capabilities.batch_size`
        customers; `request_id` makes a retried write replay the first answer."""
        ...

    def make_customer_inactive(self, customer_id: str) -> Customer: ...

    # Products and the accounts they post to: `patient=False` tries once, for a page.
    def items(self, *, patient: bool = True) -> list[Item]: ...

    def create_items(
        self, wanted: list[tuple[str, str]], income_account_id: str, request_id: str
    ) -> list[WriteResult]: ...

    def income_accounts(self, *, patient: bool = True) -> list[LedgerAccount]: ...

    def income_account(self, name: str) -> str | None: ...

    # Active tracking categories by name: none in books without them (QuickBooks).
    def tracking_categories(self, *, patient: bool = True) -> list[str]: ...

    # Invoices.
    def create_invoices(self, drafts: list, request_id: str) -> list[WriteResult]:
        """Invoices from `sync.invoicing.InvoiceDraft`s, keyed by deal id, sent once: a
        `Transient` means the outcome is unknown and the caller looks before any retry."""
        ...

    def invoices_numbered(self, doc_numbers: list[str]) -> list[Invoice]: ...

    def invoices_by_id(self, ids: list[str]) -> list[Invoice]: ...

    def all_invoices(self) -> list[Invoice]: ...

    def void_invoice(self, invoice_id: str) -> Invoice: ...

    def add_invoice_lines(self, invoice_id: str, lines: list) -> Invoice: ...

    def replace_invoice_lines(self, invoice_id: str, version: str, lines: list) -> Invoice: ...

    def receivable(self) -> Decimal: ...

    # Money received, and how the reconciliation applies it.
    def payments(self) -> list[Payment]: ...

    def payments_by_id(self, ids: list[str]) -> list[Payment]: ...

    def credit_memos(self) -> list[CreditMemo]: ...

    def credit_memos_by_id(self, ids: list[str]) -> list[CreditMemo]: ...

    def open_transactions(
        self, customer_id: str
    ) -> tuple[list[Invoice], list[Payment], list[CreditMemo]]: ...

    def apply_payment(self, payment_id: str, invoice_id: str, amount: Decimal) -> None: ...

    def apply_credit_memo(self, credit_id: str, invoice_id: str, amount: Decimal) -> None: ...

    def record_payment(self, payment: NewPayment, request_id: str) -> WriteResult:
        """A payment received, applied to one invoice, sent once: a `Transient` means the
        outcome is unknown and the caller looks (`payments_of_invoice`) before any retry."""
        ...

    def payments_of_invoice(self, invoice_id: str) -> list[PaymentInfo]: ...

    # The change feed: invoices, payments and credit memos changed after `since`.
    def money_changed_since(self, since: datetime) -> tuple[list[Invoice], list[PaymentInfo]]: ...


class CrmAdapter(Protocol):
    connection: Connection

    def account_info(self) -> AccountInfo: ...

    def record_url(self, kind: str, record_id: str) -> str: ...

    def companies(self, cursor: str | None = None) -> Page[CrmCompany]: ...

    def records(
        self, crm_type: str, cursor: str | None = None, properties: list[str] | None = None
    ) -> Page[CrmRecord]: ...

    def records_changed_since(
        self, crm_type: str, since: datetime, properties: list[str] | None = None
    ) -> list[CrmRecord]: ...

    def read_records(
        self, crm_type: str, ids: list[str], properties: list[str] | None = None
    ) -> list[CrmRecord]: ...

    def update_records(
        self, crm_type: str, updates: Mapping[str, Mapping[str, str]]
    ) -> list[WriteResult]: ...

    def won_stages(self) -> set[str]: ...

    def deals(self, records: list[CrmRecord]) -> list[Deal]: ...

    def deals_of_line_items(self, line_ids: list[str]) -> list[str]: ...

    # What a field map may read: (name, label) of each property of companies or contacts.
    def record_properties(
        self, crm_type: str, *, patient: bool = True
    ) -> list[tuple[str, str]]: ...

    def ensure_deal_properties(self) -> int: ...

    # -- a CRM that bills its own work (a field-service CRM; see `CrmCapabilities`) -------
    crm_capabilities: ClassVar[CrmCapabilities]

    def crm_invoices(self, since: datetime | None = None) -> list[CrmInvoice]:
        """Every invoice the CRM issued (changed since `since`), drafts included: the audit
        skips what was never issued. [] from a CRM that issues none."""
        ...

    def jobs(self) -> list[CrmJob]: ...  # [] from a CRM without jobs

    def client_balances(self) -> dict[str, Money]: ...  # CRM client id → what it owes

    # Payments a billing CRM records on its invoices (`CrmCapabilities.records_payments`).
    def crm_payments(self, invoice_ids: list[str]) -> list[CrmPayment]: ...

    def record_crm_payment(self, payment: NewPayment) -> WriteResult:
        """A payment recorded on the CRM's invoice `payment.invoice_id`, sent once; the CRM
        takes no idempotency key, so the caller looks (`crm_payments`) before any retry."""
        ...


def accounting_adapter(connection: Connection, *, job_category: str = "") -> AccountingAdapter:
    """The books' adapter. `job_category`: the tracking category whose options are the
    client's jobs (`SyncSettings.job_tracking_category`), where the books keep categories;
    `Invoice.job` is read from it."""
    if provider(connection.system).kind != Kind.ACCOUNTING:
        raise ValueError(f"{connection.system} is not an accounting system")
    from .quickbooks.adapter import QuickBooksAdapter
    from .xero.adapter import XeroAdapter

    if System(connection.system) == System.XERO:
        return XeroAdapter(connection, job_category=job_category)
    return QuickBooksAdapter(connection)


def crm_adapter_class(system: str) -> type[CrmAdapter]:
    """The adapter class of a CRM: what it can do is known without reaching it."""
    if provider(system).kind != Kind.CRM:
        raise ValueError(f"{system} is not a CRM")
    from .hubspot.adapter import HubSpotAdapter
    from .jobber.adapter import JobberAdapter

    return {System.HUBSPOT: HubSpotAdapter, System.JOBBER: JobberAdapter}[System(system)]


def crm_adapter(connection: Connection) -> CrmAdapter:
    return crm_adapter_class(connection.system)(connection)


def webhook_changes(system: str, body: bytes) -> list[tuple[str, str]]:
    """What a verified delivery of `system` names: (kind, record id) pairs — a CRM object
    type ("deals") or a books kind ("invoice"); "" for a kind sync does not read. Raises
    the provider's `MalformedWebhook` (a ValueError) on a body it cannot read."""
    from .hubspot import webhooks as hubspot
    from .jobber import webhooks as jobber
    from .quickbooks import webhooks as quickbooks
    from .xero import webhooks as xero

    readers = {
        System.QUICKBOOKS: quickbooks.changes,
        System.HUBSPOT: hubspot.changes,
        System.XERO: xero.changes,
        System.JOBBER: jobber.changes,
    }
    return readers[System(system)](body)
