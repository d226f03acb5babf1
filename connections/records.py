"""The plain records adapters return: what sync and reconciliation see of the providers.

Money is Decimal with its currency, never float.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError(f"Money needs a Decimal amount, not {type(self.amount).__name__}")

    def __str__(self) -> str:
        return f"{self.amount:,.2f} {self.currency}"


@dataclass(frozen=True)
class Address:
    line1: str = ""
    line2: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = ""


@dataclass(frozen=True)
class AccountInfo:
    """The connected company or portal."""

    external_id: str
    name: str
    currency: str = ""
    timezone: str = ""


@dataclass(frozen=True)
class Customer:
    """An accounting system's customer."""

    external_id: str
    display_name: str
    company_name: str = ""
    given_name: str = ""
    family_name: str = ""
    email: str = ""
    phone: str = ""
    billing_address: Address = field(default_factory=Address)
    tax_id: str = ""
    notes: str = ""
    balance: Money | None = None
    active: bool = True
    version: str = ""  # QuickBooks SyncToken
    updated_at: datetime | None = None


@dataclass(frozen=True)
class CrmCompany:
    external_id: str
    name: str
    domain: str = ""
    email: str = ""
    phone: str = ""
    address: Address = field(default_factory=Address)
    properties: dict[str, str] = field(default_factory=dict)
    updated_at: datetime | None = None


@dataclass(frozen=True)
class CrmRecord:
    """A CRM company or contact as sync sees it: its raw properties, which the client's
    field map turns into customer fields, and (contacts) the companies it belongs to."""

    crm_type: str  # "companies" or "contacts"
    external_id: str
    properties: dict[str, str] = field(default_factory=dict)
    company_ids: tuple[str, ...] = ()
    updated_at: datetime | None = None


@dataclass(frozen=True)
class WriteResult:
    """One record of a batched write: what the provider now holds, or why it refused."""

    key: str
    external_id: str = ""
    version: str = ""
    error_code: str = ""  # the provider's own code, shown to the accountant
    error: str = ""
    refusal: str = ""  # a `contract.Refusal`: what the engine does about it

    @property
    def ok(self) -> bool:
        return not self.error


@dataclass(frozen=True)
class Page[T]:
    """One page of records and the cursor for the next (None on the last page)."""

    records: list[T]
    next_cursor: str | None = None


@dataclass(frozen=True)
class DealLine:
    """One CRM line item of a deal."""

    external_id: str
    name: str
    sku: str = ""
    product_id: str = ""
    quantity: Decimal = Decimal(1)
    unit_price: Decimal = Decimal(0)
    discount: Decimal = Decimal(0)  # per unit, in the deal's currency
    description: str = ""


# The property of a "deals" record holding the CRM's own number for it, when its deals are
# invoices it issued (`Deal.number`): history is linked to the books by that number too.
CRM_NUMBER_PROPERTY = "invoice_number"
# The property of such a record naming the jobs it bills by their numbers ("57,58"): the
# books invoice says so in its note ("Job #57"), where reports and the audit find it.
CRM_JOBS_PROPERTY = "job_numbers"
# Their titles, one a line in the same order: the books' class, sub-customer or tracking
# option is named from number and title ("Job #57 - Kitchen remodel").
CRM_JOB_TITLES_PROPERTY = "job_titles"


@dataclass(frozen=True)
class Deal:
    """A CRM deal with what invoicing needs: stage, money, dates, lines and who it is for."""

    external_id: str
    name: str
    stage: str
    pipeline: str = ""
    amount: Money | None = None
    currency: str = ""
    close_date: datetime | None = None
    lines: tuple[DealLine, ...] = ()
    company_ids: tuple[str, ...] = ()
    contact_ids: tuple[str, ...] = ()
    properties: dict[str, str] = field(default_factory=dict)
    updated_at: datetime | None = None
    # Why the deal could not be read (a number that is no number): it is held, never
    # invoiced or compared, and the amounts above leave the bad values out.
    problems: tuple[str, ...] = ()
    # The CRM's own document number, when the deal is an invoice the CRM issued (a
    # field-service CRM's "1042"): the books invoice's number is made from it, not the id.
    number: str = ""


@dataclass(frozen=True)
class Item:
    """An accounting system's product or service."""

    external_id: str
    name: str
    sku: str = ""
    active: bool = True
    taxable: bool = True


@dataclass(frozen=True)
class LedgerAccount:
    """An account of the books' chart of accounts (QuickBooks' Account)."""

    external_id: str
    name: str
    account_type: str
    sub_type: str = ""
    active: bool = True


@dataclass(frozen=True)
class InvoiceLine:
    item_id: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    description: str = ""


@dataclass(frozen=True)
class Invoice:
    """An accounting invoice as read back: what sync checks and reports on."""

    external_id: str
    doc_number: str
    customer_id: str
    total: Money
    balance: Money
    txn_date: str = ""
    due_date: str = ""
    lines: tuple[InvoiceLine, ...] = ()
    discount: Decimal = Decimal(0)
    private_note: str = ""
    voided: bool = False
    version: str = ""
    updated_at: datetime | None = None  # QuickBooks gives whole seconds
    status: str = ""  # the provider's own status, where it has one (Xero's AUTHORISED)
    # The job the books file it under where they keep one outside the note: a QuickBooks
    # class or sub-customer, a Xero tracking option ("Job #57"); "" when none.
    job: str = ""


@dataclass(frozen=True)
class CrmInvoice:
    """An invoice the CRM itself issued (a field-service CRM bills its jobs): what an audit
    compares with the books, and what syncfirm posts when it does the posting."""

    external_id: str
    number: str  # as the CRM shows it ("1042")
    customer_id: str  # the CRM client it bills
    total: Money
    balance: Money  # still owed, as the CRM sees it
    issued: str = ""  # ISO date
    due: str = ""
    lines: tuple[InvoiceLine, ...] = ()
    status: str = ""  # the CRM's own word: draft, awaiting payment, paid, bad debt, void
    job_ids: tuple[str, ...] = ()  # the jobs it bills
    subject: str = ""
    updated_at: datetime | None = None

    @property
    def paid(self) -> bool:
        return self.balance.amount == 0 and self.total.amount != 0


@dataclass(frozen=True)
class CrmJob:
    """A job in a field-service CRM: the work its invoices bill."""

    external_id: str
    number: str
    title: str = ""
    customer_id: str = ""  # the CRM client
    total: Money | None = None  # what the job is worth, as the CRM sees it
    status: str = ""
    invoice_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class PaymentInfo:
    """A payment (or credit memo) and the invoices it is applied to, with amounts."""

    external_id: str
    kind: str  # "Payment" or "CreditMemo"
    txn_date: str
    applied: tuple[tuple[str, Decimal], ...] = ()  # (invoice id, amount)
    updated_at: datetime | None = None
    reference: str = ""  # its reference or note: syncfirm's own payments name their source
    currency: str = ""
    deleted: bool = False  # deleted or voided since it was recorded
    received: Decimal | None = None  # money received (less than applied: a credit pays some)


@dataclass(frozen=True)
class CrmPayment:
    """A payment a billing CRM recorded against one of its invoices."""

    external_id: str
    invoice_id: str  # the CRM invoice it pays ("" for a deposit on no invoice)
    amount: Money  # applied to the invoice; a refund is negative
    paid_on: str  # ISO date
    kind: str = "payment"  # the CRM's own word: payment, deposit, refund, bad debt
    details: str = ""  # its note: syncfirm's own payments name their source


@dataclass(frozen=True)
class NewPayment:
    """A payment syncfirm records: received from `customer_id` on `paid_on`, applied to one
    invoice; `reference` names where it came from, so it is found again before any retry."""

    invoice_id: str
    customer_id: str
    amount: Money
    paid_on: str
    reference: str


@dataclass(frozen=True)
class CreditMemo:
    external_id: str
    customer_id: str
    txn_date: str
    total: Decimal
    deal_id: str = ""  # the deal its private note names, if any
    remaining: Decimal | None = None  # credit not yet applied (QBO RemainingCredit)
    private_note: str = ""  # its note or reference (a job it is filed under: "Job #57")
    job: str = ""  # as on `Invoice.job`


@dataclass(frozen=True)
class Payment:
    """A payment received from a customer and how much of it no invoice uses yet."""

    external_id: str
    customer_id: str
    txn_date: str
    total: Money
    unapplied: Decimal  # QBO UnappliedAmt: money on the customer's account, on no invoice


@dataclass(frozen=True)
class Unreadable:
    """A provider record left out of a read because a value in it could not be read; the
    run that asked says so (held, with the reason), the rest of the read goes on."""

    kind: str  # "invoice", "payment", "credit memo"
    external_id: str
    reason: str
    number: str = ""  # its document number, when that much could be read

    def __str__(self) -> str:
        name = f"{self.kind} {self.external_id}" + (f" ({self.number})" if self.number else "")
        return f"{name} could not be read: {self.reason}"


ADDRESS_FIELDS = ("line1", "city", "region", "postal_code", "country")


def address_to_write(values: Mapping[str, str], current: Customer | None) -> dict[str, str] | None:
    """The whole billing address to send when any part of it is written, or None. QuickBooks
    and Xero both replace an address whole, so the parts not written are sent as the books
    hold them now: writing a postcode must not blank the city."""
    if not any(name in values for name in ADDRESS_FIELDS):
        return None
    held = current.billing_address if current is not None else Address()
    return {name: values.get(name, getattr(held, name)) for name in ADDRESS_FIELDS}
