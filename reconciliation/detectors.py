"""The discrepancy detectors: plain functions over a snapshot of both systems.

Each detector returns findings with the amount at stake, which way it bends the books,
evidence from both sides and a proposed fix. They are written so that one planted problem
is reported once, under its own code: a deal with no invoice is `missing_invoice`, not also
a revenue mismatch; an invoice short of a line is `partial_invoice`, not also a balance
mismatch.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

CENT = Decimal("0.01")
DUPLICATE_WINDOW = timedelta(days=14)
DUPLICATE_TOLERANCE = Decimal("0.005")  # 0.5 % of the total
AGING_BUCKETS = ((30, "0-30"), (60, "31-60"), (90, "61-90"), (120, "91-120"))
# The stable finding codes, and how a page names them.
CODES = {
    "duplicate_invoice": "Duplicate invoice",
    "missing_invoice": "Missing invoice",
    "partial_invoice": "Invoice short of lines",
    "paid_but_open": "Paid but still open",
    "balance_mismatch": "Balances differ",
    "stale_open_invoice": "Stale open invoice",
    "job_revenue_mismatch": "Job revenue differs",
}


@dataclass(frozen=True)
class SnapInvoice:
    id: str
    doc_number: str
    customer_id: str
    txn_date: date
    total: Decimal
    balance: Decimal
    currency: str = "USD"
    deal_id: str = ""  # the deal it was made from (link, private note or number)
    lines: tuple[tuple[str, Decimal, Decimal], ...] = ()  # (item, quantity, amount)
    due_date: date | None = None
    voided: bool = False


@dataclass(frozen=True)
class SnapCredit:
    id: str
    customer_id: str
    txn_date: date
    amount: Decimal
    deal_id: str = ""


@dataclass(frozen=True)
class SnapDeal:
    id: str
    name: str
    won: bool
    amount: Decimal
    payment_status: str = ""
    amount_paid: Decimal = Decimal("0.00")
    customer_id: str = ""  # the accounting customer, through the customer link
    lines: tuple[tuple[str, Decimal, Decimal], ...] = ()  # (product, quantity, amount)
    close_date: date | None = None
    currency: str = "USD"


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str  # high, medium, low
    amount: Decimal
    currency: str
    direction: str
    reason: str
    deal_id: str = ""
    invoice_ids: tuple[str, ...] = ()
    customer_id: str = ""
    evidence: dict = field(default_factory=dict)
    fix: dict = field(default_factory=dict)  # {"action": ..., "words": ..., ...}
    record_ids: tuple[str, ...] = ()


def _severity(amount: Decimal) -> str:
    return "high" if amount >= 1000 else "medium" if amount >= 100 else "low"


def _lines_total(lines) -> Decimal:
    return sum((amount for _, _, amount in lines), Decimal("0.00"))


def duplicate_invoices(invoices: list[SnapInvoice]) -> list[Finding]:
    """Two invoices for the same work: same customer, same lines, near total, close dates.
    The one made from a deal is kept; the other (keyed by hand) is proposed for voiding."""
    by_customer: dict[str, list[SnapInvoice]] = defaultdict(list)
    for invoice in invoices:
        if not invoice.voided and invoice.total > 0:
            by_customer[invoice.customer_id].append(invoice)
    found, used = [], set()
    billed: dict[str, list] = {}  # each invoice's (item, quantity) pairs, sorted once
    for group in by_customer.values():
        group.sort(key=lambda i: (i.txn_date, i.id))
        for n, first in enumerate(group):
            for second in group[n + 1 :]:
                if second.txn_date - first.txn_date > DUPLICATE_WINDOW:
                    break
                if first.id in used or second.id in used:
                    continue
                near = abs(first.total - second.total) <= first.total * DUPLICATE_TOLERANCE
                if not near:
                    continue
                for invoice in (first, second):
                    if invoice.id not in billed:
                        billed[invoice.id] = sorted((i, q) for i, q, _ in invoice.lines)
                if billed[first.id] != billed[second.id]:
                    continue
                synced_first = first.deal_id or not second.deal_id
                keep, void = (first, second) if synced_first else (second, first)
                used.update((first.id, second.id))
                found.append(
                    Finding(
                        "duplicate_invoice",
                        _severity(void.total),
                        void.total,
                        void.currency,
                        "AR and revenue overstated",
                        f"invoices {keep.doc_number or keep.id} and {void.doc_number or void.id} "
                        f"bill the same lines to the same customer "
                        f"{abs((void.txn_date - keep.txn_date).days)} day(s) apart",
                        keep.deal_id or void.deal_id,
                        (keep.id, void.id),
                        keep.customer_id,
                        {"keep": keep.id, "void": void.id},
                        {
                            "action": "void_invoice",
                            "invoice_id": void.id,
                            "words": f"Void invoice {void.doc_number or void.id} ({void.total:,.2f}"
                            f" {void.currency}); keep {keep.doc_number or keep.id}.",
                        },
                    )
                )
    return found


def deal_findings(
    deals: list[SnapDeal], invoices: list[SnapInvoice], credits: list[SnapCredit]
) -> list[Finding]:
    """What each won deal's invoice says against the deal: missing, partial, paid but
    open, a different balance, or less revenue than the job."""
    by_deal: dict[str, SnapInvoice] = {}
    for invoice in invoices:
        if invoice.deal_id and not invoice.voided:
            by_deal.setdefault(invoice.deal_id, invoice)
    credit_for: dict[str, Decimal] = defaultdict(Decimal)
    for credit in credits:
        if credit.deal_id:
            credit_for[credit.deal_id] += credit.amount
    found = []
    for deal in deals:
        if not deal.won:
            continue
        invoice = by_deal.get(deal.id)
        if invoice is None:
            found.append(
                Finding(
                    "missing_invoice",
                    _severity(deal.amount),
                    deal.amount,
                    deal.currency,
                    "revenue and AR understated",
                    f"deal “{deal.name}” is closed-won but the books have no invoice for it",
                    deal.id,
                    (),
                    deal.customer_id,
                    {"deal_amount": str(deal.amount)},
                    {
                        "action": "create_invoice",
                        "deal_id": deal.id,
                        "words": "Create the invoice from the deal "
                        f"({deal.amount:,.2f} {deal.currency}).",
                    },
                )
            )
            continue
        deal_total = _lines_total(deal.lines) if deal.lines else deal.amount
        invoiced = _lines_total(invoice.lines) if invoice.lines else invoice.total
        if invoiced < deal_total and len(invoice.lines) < len(deal.lines):
            short = deal_total - invoiced
            found.append(
                Finding(
                    "partial_invoice",
                    _severity(short),
                    short,
                    invoice.currency,
                    "revenue and AR understated",
                    f"invoice {invoice.doc_number or invoice.id} has {len(invoice.lines)} of the "
                    f"deal's {len(deal.lines)} lines ({invoiced:,.2f} of {deal_total:,.2f})",
                    deal.id,
                    (invoice.id,),
                    invoice.customer_id,
                    {"deal_total": str(deal_total), "invoice_total": str(invoiced)},
                    {
                        "action": "add_missing_lines",
                        "invoice_id": invoice.id,
                        "deal_id": deal.id,
                        "words": f"Add the missing line(s), {short:,.2f}, to the invoice.",
                    },
                )
            )
            continue
        paid_in_books = invoice.total - invoice.balance
        if deal.payment_status == "paid" and invoice.balance > 0:
            found.append(
                Finding(
                    "paid_but_open",
                    _severity(invoice.balance),
                    invoice.balance,
                    invoice.currency,
                    "AR overstated",
                    f"the CRM shows deal “{deal.name}” paid; invoice "
                    f"{invoice.doc_number or invoice.id} is still open for {invoice.balance:,.2f}",
                    deal.id,
                    (invoice.id,),
                    invoice.customer_id,
                    {"crm_status": deal.payment_status, "books_balance": str(invoice.balance)},
                    {
                        "action": "review",
                        "words": "Record the payment in the books if it was "
                        "received; otherwise correct the deal's payment status.",
                    },
                )
            )
            continue
        if deal.payment_status != "paid" and deal.amount_paid != paid_in_books:
            gap = abs(paid_in_books - deal.amount_paid)
            found.append(
                Finding(
                    "balance_mismatch",
                    _severity(gap),
                    gap,
                    invoice.currency,
                    "CRM shows more owed than the books"
                    if paid_in_books > deal.amount_paid
                    else "the books show more owed than the CRM",
                    f"the books have {paid_in_books:,.2f} paid on invoice "
                    f"{invoice.doc_number or invoice.id}; the CRM says {deal.amount_paid:,.2f}",
                    deal.id,
                    (invoice.id,),
                    invoice.customer_id,
                    {"books_paid": str(paid_in_books), "crm_paid": str(deal.amount_paid)},
                    {
                        "action": "update_crm_payment",
                        "deal_id": deal.id,
                        "invoice_id": invoice.id,
                        "words": f"Update the deal's payment status: {paid_in_books:,.2f} paid, "
                        f"{invoice.balance:,.2f} due.",
                    },
                )
            )
            continue
        recognised = invoiced - credit_for.get(deal.id, Decimal("0.00"))
        if recognised != deal_total:
            gap = abs(deal_total - recognised)
            found.append(
                Finding(
                    "job_revenue_mismatch",
                    _severity(gap),
                    gap,
                    invoice.currency,
                    "revenue overstated in the CRM"
                    if recognised < deal_total
                    else "revenue understated in the CRM",
                    f"the CRM has {deal_total:,.2f} for “{deal.name}”; "
                    f"the books recognise {recognised:,.2f}"
                    + (
                        f" after {credit_for[deal.id]:,.2f} of credits"
                        if deal.id in credit_for
                        else ""
                    ),
                    deal.id,
                    (invoice.id,),
                    invoice.customer_id,
                    {"crm_revenue": str(deal_total), "books_revenue": str(recognised)},
                    {
                        "action": "review",
                        "words": "Check the credit against the job and correct "
                        "the deal's amount or the credit.",
                    },
                )
            )
    return found


def stale_open_invoices(
    invoices: list[SnapInvoice], today: date, threshold_days: int
) -> list[Finding]:
    found = []
    for invoice in invoices:
        age = (today - invoice.txn_date).days
        if invoice.voided or invoice.balance <= 0 or age <= threshold_days:
            continue
        bucket = next((label for days, label in AGING_BUCKETS if age <= days), "120+")
        found.append(
            Finding(
                "stale_open_invoice",
                _severity(invoice.balance),
                invoice.balance,
                invoice.currency,
                "AR at risk of being overstated",
                f"invoice {invoice.doc_number or invoice.id} has been open {age} days "
                f"({bucket}), past the {threshold_days}-day threshold",
                invoice.deal_id,
                (invoice.id,),
                invoice.customer_id,
                {"age_days": age, "bucket": bucket},
                {"action": "review", "words": "Chase the payment, or write it off if it is lost."},
            )
        )
    return found


def detect(
    *,
    invoices: list[SnapInvoice],
    credits: list[SnapCredit],
    deals: list[SnapDeal],
    today: date,
    stale_after_days: int = 90,
) -> list[Finding]:
    return (
        duplicate_invoices(invoices)
        + deal_findings(deals, invoices, credits)
        + stale_open_invoices(invoices, today, stale_after_days)
    )
