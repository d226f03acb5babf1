"""Deals to invoices and invoices back to deals, as plain functions: building an invoice from
a closed-won deal (or the reasons it cannot be), checking what the accounting system stored
against it, and the payment status a deal should show. Money is Decimal, dates are the
client's."""

import hashlib
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from connections import numbers
from connections.job_filing import NOTE, JobFiling, names_job
from connections.records import (
    CRM_JOB_TITLES_PROPERTY,
    CRM_JOBS_PROPERTY,
    Deal,
    Invoice,
    Item,
    PaymentInfo,
)
from syncfirm.money import money

CENT = Decimal("0.01")
MAX_QUANTITY = Decimal(100_000)  # more than this of anything on one line is a typo
# Where an invoice names its deal (the books' private note, Xero's reference): "HubSpot
# deal 1203". The CRM's name varies; the shape is what `referenced_deal` reads back.
DEAL_REFERENCE = "{crm} {record} {deal_id}"  # "HubSpot deal 1203", "Jobber invoice Z2lk…"
REFERENCED_DEAL = re.compile(r"\w+ deal (\d+)")
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
    tax_code: str = ""  # TAX / NON, when the books charge sales tax


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
    # The job the books file it under beyond the note (a class, sub-customer or tracking
    # option, by the client's setting); None: the note only.
    job: JobFiling | None = None


@dataclass(frozen=True)
class PaymentState:
    status: str  # unpaid, partially_paid, paid, overdue, voided
    amount_paid: Decimal
    balance: Decimal
    last_payment_date: str = ""


@dataclass(frozen=True)
class Books:
    """The accounting system as invoicing sees it (from the registry and the adapter's
    capabilities): its name for messages and its longest invoice number."""

    name: str
    number_limit: int
    crm: str = "CRM"  # the CRM's name, in the reference an invoice keeps to its deal
    record: str = "deal"  # what the CRM calls the record ("invoice": Jobber's own)


def doc_number(pattern: str, deal_id: str, books: Books | None = None) -> str:
    """The invoice number for a deal: a per-client pattern, deterministic, so it is also
    the deal's reference in the books (searched for before any retry). With `books`, one
    longer than they hold is refused; without, a number read back is only rebuilt."""
    number = pattern.format(deal_id=deal_id)
    if books is not None and len(number) > books.number_limit:
        raise ValueError(
            f"the invoice number {number!r} is longer than {books.name} allows "
            f"({books.number_limit} characters); shorten the client's invoice number pattern"
        )
    return number


def deal_reference(deal_id: str, crm: str, record: str = "deal") -> str:
    return DEAL_REFERENCE.format(crm=crm, record=record, deal_id=deal_id)


def referenced_deal(note: str) -> str | None:
    """The deal id an invoice's private note names, if any."""
    found = REFERENCED_DEAL.search(note or "")
    return found.group(1) if found else None


FALLBACK = "fallback"  # the index's entry for the client's unmatched-products item


def item_index(items: list[Item], fallback: str = "") -> dict[str, Item]:
    """Items by SKU and by case-folded name (SKU first when both are asked); and, when the
    client bills products the books lack as one item, that item (if the books have it)."""
    index: dict[str, Item] = {}
    for item in items:
        if not item.active:
            continue
        if item.sku:
            index.setdefault(f"sku:{item.sku.casefold()}", item)
        index.setdefault(f"name:{item.name.casefold()}", item)
    if fallback and (chosen := index.get(f"name:{fallback.casefold()}")):
        index[FALLBACK] = chosen
    return index


def find_item(index: dict[str, Item], sku: str, name: str) -> Item | None:
    return own_item(index, sku, name) or index.get(FALLBACK)


def own_item(index: dict[str, Item], sku: str, name: str) -> Item | None:
    """The books' item for this product itself, never the stand-in."""
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
    books: Books,
    sales_tax: bool = False,
    txn_date: date | None = None,
    job_reference: str = NOTE,
    job_category: str = "",
) -> InvoiceDraft | list[str]:
    """The invoice for a closed-won deal, or the reasons it is held (nothing is written).
    Dated the deal's close day unless `txn_date` says otherwise (a fix approved by a person
    dates it after the books' closing date). `job_reference`, `job_category`: where the
    client's books file a CRM invoice's job (`JobFiling`)."""
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
        if item is not None and line.name and own_item(items, line.sku, line.name) is None:
            # Billed as the client's stand-in item: the line still says which product.
            description = f"{line.name}: {description}" if line.description else line.name
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
            f"the lines add up to {total:,} {currency}: more than {books.name} can hold "
            f"on one invoice (under {numbers.LIMIT:,})"
        )
    if deal.number and deal.amount and lines and abs(deal.amount.amount - total) > CENT:
        # A CRM's own invoice bills its total; a discount or tax on the whole invoice makes
        # it differ from the lines, and posting the lines would post another amount.
        problems.append(
            f"{books.crm}'s total {money(deal.amount.amount, currency)} is not what its lines "
            f"add up to ({money(total, currency)}): a discount or tax on the whole invoice, "
            "which syncfirm does not post; post this invoice by hand"
        )
    try:
        # A CRM that issues its own invoices names them: the books invoice keeps that number.
        number = doc_number(pattern, deal.number or deal.external_id, books)
    except (KeyError, ValueError) as error:
        problems.append(f"invoice number: {error}")
        number = ""
    if problems:
        return problems
    txn_date = txn_date or close_day(deal, timezone)
    try:
        due_date = txn_date + timedelta(days=terms_days)
    except OverflowError:  # a CRM date in the year 9999: this invoice waits, not the run
        return [f"the date {txn_date.isoformat()} leaves no room for its due date"]
    return InvoiceDraft(
        deal_id=deal.external_id,
        customer_id=customer_id,
        doc_number=number,
        txn_date=txn_date,
        due_date=due_date,
        currency=currency,
        lines=tuple(lines),
        total=total,
        private_note=deal_reference(deal.external_id, books.crm, books.record) + _jobs(deal),
        job=job_filing(deal, job_reference, job_category),
    )


def _job_numbers(deal: Deal) -> list[str]:
    return [n for n in deal.properties.get(CRM_JOBS_PROPERTY, "").split(",") if n]


def _jobs(deal: Deal) -> str:
    """The jobs a CRM's invoice bills, as the books' note keeps them: " · Job #57"."""
    return "".join(f" · Job #{n}" for n in _job_numbers(deal))


def job_filing(deal: Deal, kind: str, category: str = "") -> JobFiling | None:
    """The job the books file this invoice under beyond its note, or None: the client keeps
    jobs in the note, or the invoice bills no job or several (one invoice is filed under one
    class, customer or option; the note still names every job)."""
    numbers = _job_numbers(deal)
    if kind == NOTE or len(numbers) != 1:
        return None
    titles = deal.properties.get(CRM_JOB_TITLES_PROPERTY, "").split("\n")
    return JobFiling(kind, numbers[0], titles[0] if titles else "", category)


def close_day(deal: Deal, timezone: str) -> date:
    """The day the deal closed, in the client's timezone: its invoice's date. A CRM's own
    invoice has its issue date as a day, with no time to convert: that day, in any
    timezone (noon UTC is already tomorrow in New Zealand)."""
    issued = deal.properties.get("issued_date") if deal.number else ""
    try:
        return date.fromisoformat(issued) if issued else _in_zone(deal, timezone)
    except ValueError:
        return _in_zone(deal, timezone)


def _in_zone(deal: Deal, timezone: str) -> date:
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
    # Lines, not the total: with sales tax on, the books add the tax to the total.
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
    if draft.job and not names_job(invoice.job, draft.job.number):
        problems.append(f"not filed under job #{draft.job.number} in the books")
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


# -- a won deal that changed after its invoice was issued ------------------------------
# What was invoiced is kept on the deal's link (`snapshot`): the deal's lines in the CRM's
# terms, the books' item and amount of each, the deal's amount and the total. Each sync
# compares the deal's fingerprint with the one kept, so an unchanged deal costs no read of
# the invoice; a changed one is compared line by line (`compare`).


def _plain(value: Decimal) -> str:
    """A number as text that does not depend on how it was written (40, 40.0, 4E+1)."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def _line_key(line) -> tuple[str, str, str, str, str]:
    return (
        line.name,
        line.sku,
        _plain(line.quantity),
        _plain(line.unit_price),
        _plain(line.discount),
    )


def deal_amount(deal: Deal) -> Decimal | None:
    """The deal's own amount, or None when it has none (a CRM may leave it blank or 0)."""
    if deal.amount is None or not deal.amount.amount:
        return None
    return cents(deal.amount.amount)


def lines_total(deal: Deal) -> Decimal:
    return sum(
        (cents(line.quantity * (line.unit_price - line.discount)) for line in deal.lines),
        Decimal("0.00"),
    )


def deal_fingerprint(deal: Deal) -> str:
    """What invoicing reads of a deal (its lines, in any order, and its amount) as a hash."""
    amount = deal_amount(deal)
    body = repr(
        (sorted(_line_key(line) for line in deal.lines), str(amount or ""), deal.currency.upper())
    )
    return hashlib.sha256(body.encode()).hexdigest()


def snapshot(deal: Deal, draft: InvoiceDraft | None = None) -> dict:
    """What is invoiced from `deal` (by `draft`), as kept on its link. Without a draft (an
    invoice syncfirm did not build) the books' side of each line is unknown."""
    amount = deal_amount(deal)
    drafted = draft.lines if draft else ()
    lines = []
    for n, line in enumerate(deal.lines):
        made = drafted[n] if n < len(drafted) else None
        lines.append(
            {
                "key": list(_line_key(line)),
                "item_id": made.item_id if made else "",
                "amount": str(
                    made.amount
                    if made
                    else cents(line.quantity * (line.unit_price - line.discount))
                ),
            }
        )
    return {
        "lines": lines,
        "books_known": draft is not None,
        "amount": str(amount) if amount is not None else "",
        "total": str(draft.total if draft else lines_total(deal)),
        "currency": (draft.currency if draft else deal.currency or "").upper(),
    }


def _priced(key, currency: str = "") -> str:
    _, _, quantity, price, discount = key
    return f"{quantity} x {_money(Decimal(price) - Decimal(discount), currency)}"


def _describe(key, currency: str = "") -> str:
    return f"{key[0] or key[1] or 'no product'}: {_priced(key, currency)}"


def _money(value: Decimal | None, currency: str = "") -> str:
    return "none" if value is None else money(value, currency)


@dataclass(frozen=True)
class DealChange:
    """How a deal now differs from what its invoice was built from."""

    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[str, ...]
    lines_before: int | None  # None: not known (an invoice syncfirm did not build)
    lines_now: int
    total_before: Decimal  # what the invoice's lines add up to
    total_now: Decimal  # what the deal's lines add up to now
    amount_before: Decimal | None  # the deal's own amount when it was invoiced
    amount_now: Decimal | None
    currency: str

    @property
    def lines_changed(self) -> bool:
        return bool(self.added or self.removed or self.changed) or (
            self.total_before != self.total_now
        )

    @property
    def amount_changed(self) -> bool:
        return self.amount_before != self.amount_now

    @property
    def correctable(self) -> bool:
        """The deal says what its invoice should be: its lines changed, and its amount
        either agrees with them or was not touched. An amount that moved on its own (or
        away from the new lines) leaves open which is right: a person decides."""
        if not self.lines_changed:
            return False
        return (
            self.amount_now is None or self.amount_now == self.total_now or not self.amount_changed
        )

    def _kinds(self):
        """(what, lines) for each kind of change that has lines."""
        found = (("added", self.added), ("changed", self.changed), ("removed", self.removed))
        return [(what, lines) for what, lines in found if lines]

    def line_words(self) -> str:
        """'1 line added (Solar panel: 1 x 900.00)'; several kinds joined by '; '."""
        return "; ".join(
            f"{len(lines)} {'line' if len(lines) == 1 else 'lines'} {what} ({'; '.join(lines)})"
            for what, lines in self._kinds()
        )

    def counts_words(self) -> str:
        """'1 line added, 1 line removed' (no detail: the run's one-line summary)."""
        said = [
            f"{len(lines)} {'line' if len(lines) == 1 else 'lines'} {what}"
            for what, lines in self._kinds()
        ]
        return ", ".join(said) or "lines changed"

    def reason(self, doc_number: str, why: str = "") -> str:
        """The change in words: what the deal says now against what was invoiced."""
        c = self.currency
        number = doc_number or "its invoice"
        if self.lines_changed:
            detail = self.line_words()
            head = (
                f"The deal's lines now add up to {_money(self.total_now, c)} "
                f"({self.lines_now} line{'s' if self.lines_now != 1 else ''}); invoice "
                f"{number} was built from lines adding up to {_money(self.total_before, c)}"
                + (
                    f" ({self.lines_before} line{'s' if self.lines_before != 1 else ''})"
                    if self.lines_before is not None
                    else ""
                )
                + "."
            )
            if detail:
                head += f" Since it was invoiced: {detail}."
            if self.amount_changed:
                head += (
                    f" The deal's amount went from {_money(self.amount_before, c)} to "
                    f"{_money(self.amount_now, c)}"
                    + (
                        ", which is not what its lines add up to."
                        if self.amount_now is not None and self.amount_now != self.total_now
                        else "."
                    )
                )
        else:
            head = (
                f"The deal's amount went from {_money(self.amount_before, c)} to "
                f"{_money(self.amount_now, c)} while its lines stayed at "
                f"{_money(self.total_now, c)}, the total of invoice {number}: the lines do "
                "not say which is right."
            )
        return f"{head} {why}".strip()

    def sides(self, snapshot_lines: list | None, deal: Deal) -> tuple[dict, dict]:
        """(what the deal says now, what was invoiced) for the review queue's table."""
        c = self.currency
        now_lines = "; ".join(_describe(_line_key(line), c) for line in deal.lines) or "none"
        before = (
            "; ".join(_describe(line["key"], c) for line in snapshot_lines)
            if snapshot_lines is not None
            else "not known (an invoice syncfirm did not build)"
        )
        return (
            {
                "lines": now_lines,
                "lines total": _money(self.total_now, c),
                "deal amount": _money(self.amount_now, c),
            },
            {
                "lines": before or "none",
                "lines total": _money(self.total_before, c),
                "deal amount": _money(self.amount_before, c),
            },
        )


def compare(
    kept: dict, deal: Deal, expected_total: Decimal | None = None, books_currency: str = ""
) -> DealChange | None:
    """How `deal` differs from what was invoiced (`kept`, a `snapshot`), or None when it
    says the same. With nothing kept (history), the deal's lines are held against the
    invoice's total (`expected_total`) alone."""
    currency = (deal.currency or kept.get("currency") or books_currency).upper()
    total_now, amount_now = lines_total(deal), deal_amount(deal)
    if not kept:
        if expected_total is None or total_now == expected_total:
            return None
        return DealChange(
            (),
            (),
            (),
            None,
            len(deal.lines),
            expected_total,
            total_now,
            amount_now,
            amount_now,
            currency,
        )
    before = Counter(tuple(line["key"]) for line in kept["lines"])
    now = Counter(_line_key(line) for line in deal.lines)
    gone, new = before - now, now - before
    changed = []
    for key in list(gone.elements()):
        twin = next((k for k in new if new[k] and k[:2] == key[:2]), None)
        if twin is not None:
            changed.append(f"{_describe(key, currency)} → {_priced(twin, currency)}")
            gone[key] -= 1
            new[twin] -= 1
    amount_before = Decimal(kept["amount"]) if kept.get("amount") else None
    change = DealChange(
        added=tuple(_describe(k, currency) for k in (+new).elements()),
        removed=tuple(_describe(k, currency) for k in (+gone).elements()),
        changed=tuple(changed),
        lines_before=len(kept["lines"]),
        lines_now=len(deal.lines),
        total_before=Decimal(kept["total"]),
        total_now=total_now,
        amount_before=amount_before,
        amount_now=amount_now,
        currency=currency,
    )
    if not change.lines_changed and not change.amount_changed:
        return None
    return change


def books_edited(kept: dict, invoice: Invoice) -> bool:
    """Whether the invoice's lines are no longer the ones syncfirm wrote (someone changed
    them in the books since). Without the books' side kept, its lines' total is compared."""
    subtotal = sum((cents(line.amount) for line in invoice.lines), Decimal("0.00"))
    if not kept.get("books_known"):
        return subtotal != Decimal(kept.get("total") or "0")
    wrote = sorted((line["item_id"], Decimal(line["amount"])) for line in kept["lines"])
    has = sorted((line.item_id, cents(line.amount)) for line in invoice.lines)
    return wrote != has


def correction_words(
    doc_number: str, change: DealChange, before: Decimal, after: Decimal, currency: str
) -> str:
    """'Invoice SF-1044 updated: 1 line added, 2,400.00 → 3,300.00 USD'."""
    return (
        f"Invoice {doc_number} updated: {change.counts_words()}, "
        f"{before:,.2f} → {after:,.2f} {currency}"
    )
