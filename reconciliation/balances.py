"""Customer balances side by side: what the CRM says each customer owes (won deals less what
it says was paid) beside the books' receivable for them, and the difference explained by
the findings that cause it. What no finding explains is a `balance_mismatch` of its own.

Pure: plain records in, plain records out. The seed's first audit step ("compare customer
balances between your CRM and QuickBooks") as a function.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from syncfirm.money import money

from .detectors import CODES, Finding, SnapDeal, _severity, crm_paid, deal_value
from .wording import BOOKS, CRM, gone, quoted

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Receivable:
    """One customer as the books hold them: name and balance (open invoices less unused
    credit memos and unapplied payments, QuickBooks' Customer.Balance)."""

    customer_id: str
    name: str
    balance: Decimal
    currency: str = "USD"


@dataclass(frozen=True)
class Explained:
    code: str
    effect: Decimal  # on CRM owes - books owe
    words: str


@dataclass(frozen=True)
class BalanceRow:
    customer_id: str
    name: str
    currency: str
    crm_owed: Decimal
    books_owed: Decimal
    explained: Decimal
    unexplained: Decimal
    explained_by: tuple[Explained, ...] = ()

    @property
    def difference(self) -> Decimal:
        return self.crm_owed - self.books_owed


def _amount(finding: Finding, key: str, default: Decimal) -> Decimal:
    value = finding.evidence.get(key)
    return Decimal(str(value)) if value not in (None, "") else default


def _paid_but_open(f: Finding) -> Decimal:
    # What the finding's fix would change. From the deal (the CRM says paid, the books have
    # it open): the books owe the open balance the CRM does not, less any money on account
    # that the fix applies (applying moves nothing in the books: invoice and money on
    # account fall together). From the books (money on account, the CRM told the invoice
    # is open): the CRM counts owed what was paid; an invoice from no deal is not in the
    # CRM's balance at all.
    if f.evidence.get("crm_status") == "paid":
        return -(f.amount - _amount(f, "applied", ZERO))
    return f.amount if f.deal_id else ZERO


def _deal_balance(f: Finding) -> Decimal:
    # The CRM and the books disagree on what was paid on the deal's invoice; money on
    # account that the fix applies is paid in the books' balance already.
    if not f.deal_id:
        return ZERO  # a customer's own unexplained difference explains nothing
    paid = _amount(f, "books_paid", ZERO) + _amount(f, "applied", ZERO)
    return paid - _amount(f, "crm_paid", ZERO)


def _job_revenue(f: Finding) -> Decimal:
    # The CRM bills the deal's amount; the books the invoice, less credits still unused.
    crm = _amount(f, "crm_revenue", ZERO)
    invoiced = _amount(f, "invoice_total", crm)
    return crm - invoiced + _amount(f, "credits_unused", ZERO)


# How each finding moves a customer's CRM balance against the books' (CRM owes - books
# owe), the one place this is said. A code not here moves nothing (a stale invoice is open
# on both sides alike).
EFFECTS: dict[str, Callable[[Finding], Decimal]] = {
    "missing_invoice": lambda f: f.amount - _amount(f, "crm_paid", ZERO),
    "duplicate_invoice": lambda f: -_amount(f, "void_balance", f.amount),
    "partial_invoice": lambda f: f.amount,
    "paid_but_open": _paid_but_open,
    "balance_mismatch": _deal_balance,
    "job_revenue_mismatch": _job_revenue,
}


def effect(finding: Finding) -> Decimal:
    if "balance_effect" in finding.evidence:  # said by the detector itself (an audit's pair)
        return _amount(finding, "balance_effect", ZERO)
    rule = EFFECTS.get(finding.code)
    return rule(finding) if rule else ZERO


def crm_owed(deal: SnapDeal) -> Decimal:
    """What the CRM says the customer still owes on a won deal."""
    return deal_value(deal) - crm_paid(deal)


def customer_balances(
    deals: Iterable[SnapDeal],
    receivables: Iterable[Receivable],
    findings: Iterable[Finding],
    *,
    compared: set[str] | None = None,
    doc_numbers: Mapping[str, str] | None = None,
    deal_names: Mapping[str, str] | None = None,
    owed_in_crm: Mapping[str, Decimal] | None = None,
) -> tuple[list[BalanceRow], list[Finding]]:
    """Per customer, the CRM's balance beside the books', and a `balance_mismatch` for
    each difference the findings do not explain.

    `compared`: the customers both systems know (linked to the CRM); others get a row but
    no finding (the CRM has no view of them to disagree with). None: every customer.
    `doc_numbers`, `deal_names`: to name the explaining findings' invoices and deals.
    `owed_in_crm`: what the CRM says each customer owes, where it keeps a balance of its own (a
    field-service CRM's client balance) instead of deals."""
    crm: dict[str, Decimal] = defaultdict(Decimal, owed_in_crm or {})
    currency_of: dict[str, str] = {}
    for deal in deals:
        if deal.won and deal.customer_id:
            crm[deal.customer_id] += crm_owed(deal)
            currency_of.setdefault(deal.customer_id, deal.currency)
    books = {r.customer_id: r for r in receivables}
    because: dict[str, list[Explained]] = defaultdict(list)
    for f in findings:
        change = effect(f)
        if f.customer_id and change:
            named = _named(f, doc_numbers or {}, deal_names or {})
            because[f.customer_id].append(Explained(f.code, change, named))
    rows, found = [], []
    for customer_id in sorted(set(crm) | set(books) | set(because), key=_natural):
        held = books.get(customer_id)
        owed_crm = crm.get(customer_id, ZERO)
        owed_books = held.balance if held else ZERO
        explained_by = tuple(because.get(customer_id, ()))
        explained = sum((e.effect for e in explained_by), ZERO)
        if not (owed_crm or owed_books or explained):
            continue
        currency = held.currency if held and held.currency else currency_of.get(customer_id, "")
        row = BalanceRow(
            customer_id,
            held.name if held else "",
            currency or "USD",
            owed_crm,
            owed_books,
            explained,
            owed_crm - owed_books - explained,
            explained_by,
        )
        rows.append(row)
        if row.unexplained and (compared is None or customer_id in compared):
            found.append(_mismatch(row))
    return rows, found


def _mismatch(row: BalanceRow) -> Finding:
    gap = abs(row.unexplained)
    name = row.name or gone("customer", BOOKS, row.customer_id)
    more = "CRM" if row.unexplained > 0 else "books"

    def m(amount: Decimal) -> str:
        return money(amount, row.currency)

    because = (
        f"; {m(row.explained)} of the difference is explained by other findings"
        if row.explained_by
        else ""
    )
    return Finding(
        "balance_mismatch",
        _severity(gap),
        gap,
        row.currency,
        "CRM shows more owed than the books"
        if row.unexplained > 0
        else "the books show more owed than the CRM",
        f"{name} owes {m(row.crm_owed)} in the CRM and {m(row.books_owed)} in the books; "
        f"{m(gap)} more in the {more} that no other finding explains{because}",
        "",
        (),
        row.customer_id,
        {
            "crm_owed": str(row.crm_owed),
            "books_owed": str(row.books_owed),
            "explained": str(row.explained),
        },
        {
            "action": "review",
            "words": "Compare the customer's open invoices, payments and credits in the books "
            "with their deals in the CRM; correct the side that is wrong.",
        },
    )


def _named(f: Finding, doc_numbers: Mapping[str, str], deal_names: Mapping[str, str]) -> str:
    """A finding as the balances page names it: its kind and the records it is about, by
    their names and numbers."""
    what = [CODES.get(f.code, f.code)]
    if f.deal_id:
        name = deal_names.get(f.deal_id)
        what.append(f"deal {quoted(name)}" if name else gone("deal", CRM, f.deal_id))
    if f.invoice_ids:
        numbers = ", ".join(doc_numbers.get(i) or f"(id {i})" for i in f.invoice_ids)
        what.append(f"invoice{'s' if len(f.invoice_ids) > 1 else ''} {numbers}")
    if f.record_ids:
        what.append("a payment on account" if "payment_id" in f.fix else "a credit memo")
    return " · ".join(what)


def _natural(customer_id: str) -> tuple:
    return (len(customer_id), customer_id)
