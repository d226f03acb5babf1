"""Deals to invoices and invoices back to deals, as plain functions: building an invoice from
a closed-won deal (or the reasons it cannot be), checking what the accounting system stored
against it, and the payment status a deal should show. Money is Decimal, dates are the
client's."""

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from .. import numbers
from ..records import Deal, Invoice, Item, PaymentInfo

CENT = Decimal("0.01")
MAX_QUANTITY = Decimal(100_000)  # more than this of anything on one line is a typo
DOC_NUMBER_LIMIT = 21  # QuickBooks' DocNumber length
DEAL_REFERENCE = "HubSpot deal {deal_id}"
DEFAULT_PATTERN = "SF-{deal_id}"


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class DraftLine:
    item_id: str
    name: str
    quantity: Decimal
    unit_price: Decimal  # net of the line's per-unit discount
    amount: Decimal
    description: str = ""
    service_date: str = ""
    tax_code: str = ""  # QuickBooks' TAX / NON, when the books charge sales tax


@dataclass(frozen=True)
class InvoiceDraft:
    """The invoice a deal should become."""

    deal_id: str
    customer_id: str
    doc_number: str
    txn_date: date
    due_date: date
    currency: str
    lines: tuple[DraftLine, ...]
    total: Decimal
    private_note: str


@dataclass(frozen=True)
class PaymentState:
    status: str  # unpaid, partially_paid, paid, overdue, voided
    amount_paid: Decimal
    balance: Decimal
    last_payment_date: str = ""


def doc_number(pattern: str, deal_id: str) -> str:
    """The DocNumber for a deal: a per-client pattern, deterministic, so it is also the
    deal's reference in the books (searched for before any retry)."""
    number = pattern.format(deal_id=deal_id)
    if len(number) > DOC_NUMBER_LIMIT:
        raise ValueError(
            f"the invoice number {number!r} is longer than QuickBooks' {DOC_NUMBER_LIMIT} "
            "characters; shorten the client's invoice number pattern"
        )
    return number


def deal_reference(deal_id: str) -> str:
    return DEAL_REFERENCE.format(deal_id=deal_id)


def referenced_deal(note: str) -> str | None:
    """The deal id an invoice's private note names, if any."""
    found = re.search(r"HubSpot deal (\d+)", note or "")
    return found.group(1) if found else None


def item_index(items: list[Item]) -> dict[str, Item]:
    """Items by SKU and by case-folded name (SKU first when both are asked)."""
    index: dict[str, Item] = {}
    for item in items:
        if not item.active:
            continue
        if item.sku:
            index.setdefault(f"sku:{item.sku.casefold()}", item)
        index.setdefault(f"name:{item.name.casefold()}", item)
    return index


def find_item(index: dict[str, Item], sku: str, name: str) -> Item | None:
    if sku and (hit := index.get(f"sku:{sku.casefold()}")):
        return hit
    return index.get(f"name:{name.casefold()}")


def missing_items(deal: Deal, index: dict[str, Item]) -> list[tuple[str, str]]:
    """(name, sku) of the deal's products the books do not have yet."""
    out = []
    for line in deal.lines:
        if line.name and find_item(index, line.sku, line.name) is None:
            out.append((line.name, line.sku))
    return out


def build_invoice(
    deal: Deal,
    *,
    customer_id: str,
    items: dict[str, Item],
    company_currency: str,
    timezone: str,
    terms_days: int,
    pattern: str,
    sales_tax: bool = False,
    txn_date: date | None = None,
) -> InvoiceDraft | list[str]:
    """The invoice for a closed-won deal, or the reasons it is held (nothing is written).
    Dated the deal's close day unless `txn_date` says otherwise (a fix approved by a person
    dates it after the books' closing date)."""
    if deal.problems:  # a number that is no number: nothing else about it is sure
        return [f"could not be read: {problem}" for problem in deal.problems]
    problems: list[str] = []
    currency = (deal.currency or company_currency).upper()
    if company_currency and currency != company_currency.upper():
        problems.append(f"the deal is in {currency}; the books are kept in {company_currency}")
    if not customer_id:
        problems.append("the deal has no customer in the books (no company or contact synced)")
    if deal.close_date is None:
        problems.append("the deal has no close date to date the invoice")
    if not deal.lines:
        problems.append("the deal has no line items to invoice")
    lines = []
    for n, line in enumerate(deal.lines, start=1):
        label = f"line {n} ({line.name or 'no name'})"
        item = find_item(items, line.sku, line.name)
        if not line.name and not line.sku:
            problems.append(f"{label}: no product")
        elif item is None:
            problems.append(f"{label}: no product {line.sku or line.name!r} in the books")
        if line.quantity <= 0 or line.quantity > MAX_QUANTITY:
            problems.append(
                f"{label}: quantity {line.quantity} is not between 0 and {MAX_QUANTITY}"
            )
        if line.unit_price < 0:
            problems.append(f"{label}: negative unit price {line.unit_price}")
        if line.discount < 0 or line.discount > line.unit_price:
            problems.append(f"{label}: discount {line.discount} is more than the price")
        net = line.unit_price - line.discount
        description = line.description or line.name
        if line.discount:
            description += f" (less {line.discount} discount per unit)"
        tax_code = ("TAX" if item is None or item.taxable else "NON") if sales_tax else ""
        lines.append(
            DraftLine(
                item.external_id if item else "",
                line.name,
                line.quantity,
                net,
                cents(line.quantity * net),
                description[:4000],
                tax_code=tax_code,
            )
        )
    total = sum((line.amount for line in lines), Decimal("0.00"))
    if lines and total <= 0:
        problems.append(f"the lines add up to {total} {currency}: nothing to invoice")
    if total >= numbers.LIMIT or any(line.amount >= numbers.LIMIT for line in lines):
        problems.append(
            f"the lines add up to {total:,} {currency}: more than QuickBooks can hold "
            f"on one invoice (under {numbers.LIMIT:,})"
        )
    try:
        number = doc_number(pattern, deal.external_id)
    except (KeyError, ValueError) as error:
        problems.append(f"invoice number: {error}")
        number = ""
    if problems:
        return problems
    txn_date = txn_date or close_day(deal, timezone)
    return InvoiceDraft(
        deal_id=deal.external_id,
        customer_id=customer_id,
        doc_number=number,
        txn_date=txn_date,
        due_date=txn_date + timedelta(days=terms_days),
        currency=currency,
        lines=tuple(lines),
        total=total,
        private_note=deal_reference(deal.external_id),
    )


def close_day(deal: Deal, timezone: str) -> date:
    """The day the deal closed, in the client's timezone: its invoice's date."""
    return deal.close_date.astimezone(ZoneInfo(timezone)).date()


def first_open_day(day: date, books_closed_through: date | None) -> date:
    """`day` when the books are open on it, else the first day after their closing date:
    nothing is written into a closed period."""
    if books_closed_through is None or day > books_closed_through:
        return day
    return books_closed_through + timedelta(days=1)


def readback_problems(draft: InvoiceDraft, invoice: Invoice) -> list[str]:
    """Where the invoice the books hold differs from the one we asked for."""
    problems = []
    # Lines, not the total: with sales tax on, QuickBooks adds the tax to the total.
    subtotal = sum((cents(line.amount) for line in invoice.lines), Decimal("0.00"))
    if subtotal != draft.total:
        problems.append(f"lines add up to {subtotal} in the books, {draft.total} on the deal")
    if invoice.customer_id != draft.customer_id:
        problems.append(f"customer {invoice.customer_id}, expected {draft.customer_id}")
    got = sorted((line.item_id, line.quantity, cents(line.amount)) for line in invoice.lines)
    wanted = sorted((line.item_id, line.quantity, line.amount) for line in draft.lines)
    if got != wanted:
        problems.append(
            f"{len(invoice.lines)} line(s) in the books, {len(draft.lines)} on the deal"
        )
    return problems


def payment_state(invoice: Invoice, payments: list[PaymentInfo], today: date) -> PaymentState:
    """What the deal should say about its invoice's payment."""
    total, balance = invoice.total.amount, invoice.balance.amount
    paid = cents(total - balance)
    applied = [p.txn_date for p in payments if any(i == invoice.external_id for i, _ in p.applied)]
    last = max(applied) if applied else ""
    if invoice.voided:
        return PaymentState("voided", Decimal("0.00"), Decimal("0.00"), last)
    if total > 0 and balance <= 0:
        status = "paid"
    elif invoice.due_date and balance > 0 and date.fromisoformat(invoice.due_date) < today:
        status = "overdue"
    elif 0 < balance < total:
        status = "partially_paid"
    else:
        status = "unpaid"
    return PaymentState(status, paid, cents(balance), last)
