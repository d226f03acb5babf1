"""The discrepancy detectors: plain functions over a snapshot of both systems.

Each detector returns findings with the amount at stake, which way it bends the books,
evidence from both sides and a proposed fix. They are written so that one planted problem
is reported once, under its own code: a deal with no invoice is `missing_invoice`, not also
a revenue mismatch; an invoice short of a line is `partial_invoice`, not also a balance
mismatch.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from operator import attrgetter

from syncfirm.money import money

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
    "duplicate_customer": "Duplicate customer",
    "unsure_pair": "Which books invoice?",
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
    remaining: Decimal | None = None  # credit not yet applied; None: not read


@dataclass(frozen=True)
class SnapPayment:
    """A payment received, with the part of it that no invoice uses (on the customer's
    account)."""

    id: str
    customer_id: str
    txn_date: date
    amount: Decimal
    unapplied: Decimal
    currency: str = "USD"


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
    # Records shown side by side that are not a deal or an invoice (two customers that are
    # one): ((title, ((what, value), ...)), ...).
    parties: tuple = ()


def _days(count: int) -> str:
    return f"{count} day{'' if count == 1 else 's'}"


def _severity(amount: Decimal) -> str:
    return "high" if amount >= 1000 else "medium" if amount >= 100 else "low"


ZERO = Decimal("0.00")
_by_date = attrgetter("txn_date", "id")


def _lines_total(lines) -> Decimal:
    return sum([line[2] for line in lines], ZERO)


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
        group.sort(key=_by_date)
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
                        f"bill the same lines to the same customer, "
                        f"{_days(abs((void.txn_date - keep.txn_date).days))} apart",
                        keep.deal_id or void.deal_id,
                        (keep.id, void.id),
                        keep.customer_id,
                        {"keep": keep.id, "void": void.id, "void_balance": str(void.balance)},
                        {
                            "action": "void_invoice",
                            "invoice_id": void.id,
                            "words": f"Void invoice {void.doc_number or void.id} "
                            f"({money(void.total, void.currency)}); "
                            f"keep {keep.doc_number or keep.id}.",
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
    credits_of: dict[str, list[SnapCredit]] = defaultdict(list)
    for credit in credits:
        if credit.deal_id:
            credits_of[credit.deal_id].append(credit)
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
                    {"deal_amount": str(deal.amount), "crm_paid": str(crm_paid(deal))},
                    {
                        "action": "create_invoice",
                        "deal_id": deal.id,
                        "words": "Create the invoice from the deal "
                        f"({money(deal.amount, deal.currency)}).",
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
                    f"deal's {len(deal.lines)} lines ({money(invoiced, invoice.currency)} of "
                    f"{money(deal_total, invoice.currency)})",
                    deal.id,
                    (invoice.id,),
                    invoice.customer_id,
                    {"deal_total": str(deal_total), "invoice_total": str(invoiced)},
                    {
                        "action": "add_missing_lines",
                        "invoice_id": invoice.id,
                        "deal_id": deal.id,
                        "words": f"Add the missing line(s), {money(short, invoice.currency)}, "
                        "to the invoice.",
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
                    f"{invoice.doc_number or invoice.id} is still open for "
                    f"{money(invoice.balance, invoice.currency)}",
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
                    f"the books have {money(paid_in_books, invoice.currency)} paid on invoice "
                    f"{invoice.doc_number or invoice.id}; the CRM says "
                    f"{money(deal.amount_paid, invoice.currency)}",
                    deal.id,
                    (invoice.id,),
                    invoice.customer_id,
                    {"books_paid": str(paid_in_books), "crm_paid": str(deal.amount_paid)},
                    {
                        "action": "update_crm_payment",
                        "deal_id": deal.id,
                        "invoice_id": invoice.id,
                        "words": "Update the deal's payment status: "
                        f"{money(paid_in_books, invoice.currency)} paid, "
                        f"{money(invoice.balance, invoice.currency)} due.",
                    },
                )
            )
            continue
        finding = _revenue_finding(deal, invoice, invoiced, credits_of.get(deal.id, []), deal_total)
        if finding is not None:
            found.append(finding)
    return found


def crm_paid(deal: SnapDeal) -> Decimal:
    """What the CRM says was paid on a deal: "paid" with no amount written means all of it."""
    if deal.payment_status == "paid" and not deal.amount_paid:
        return deal_value(deal)
    return deal.amount_paid


def deal_value(deal: SnapDeal) -> Decimal:
    """What the CRM says a deal is worth: its amount, or its lines when it has no amount."""
    return deal.amount if deal.amount or not deal.lines else _lines_total(deal.lines)


def _revenue_finding(
    deal: SnapDeal,
    invoice: SnapInvoice,
    invoiced: Decimal,
    credits: list[SnapCredit],
    lines: Decimal,
) -> Finding | None:
    """The deal's amount, its lines (`lines`: their total, or the amount when it has none)
    and what the books recognise for it (the invoice less the credits against the job)
    should be one figure; whichever disagrees is named."""
    amount = deal_value(deal)
    credited = sum((c.amount for c in credits), Decimal("0.00"))
    recognised = invoiced - credited
    if amount == lines == recognised:
        return None
    name = f"“{deal.name}”"
    doc = invoice.doc_number or invoice.id

    def m(amount: Decimal) -> str:
        return money(amount, invoice.currency)

    after = f" after {m(credited)} of credits" if credits else ""
    if amount != lines and lines == recognised:
        gap = amount - lines
        reason = (
            f"the deal amount of {name} is {m(amount)}, {m(abs(gap))} "
            f"{'above' if gap > 0 else 'below'} its line items and invoice {doc} "
            f"({m(lines)}{after}): the amount changed in the CRM and the lines did not"
        )
        words = (
            "Bill the extra work (add it to the deal's lines and the invoice), or put the "
            "deal's amount back to its lines."
        )
    elif amount == lines:
        reason = f"the CRM has {m(amount)} for {name}; the books recognise {m(recognised)}"
        reason += after
        words = "Check the credit against the job and correct the deal's amount or the credit."
    else:
        reason = (
            f"{name} disagrees three ways: deal amount {m(amount)}, its line items "
            f"{m(lines)}, the books {m(recognised)} (invoice {doc}{after})"
        )
        words = (
            "Decide which figure is right, then correct the deal's amount or lines and the invoice."
        )
    gap = abs(amount - recognised) or abs(lines - recognised)
    # The credits still unused on the customer's account lower the books' receivable, not
    # the invoice: the customer balances count them (`balances.EFFECTS`).
    unused = sum(
        (c.amount if c.remaining is None else c.remaining for c in credits), Decimal("0.00")
    )
    return Finding(
        "job_revenue_mismatch",
        _severity(gap),
        gap,
        invoice.currency,
        "revenue overstated in the CRM"
        if recognised < amount
        else "revenue understated in the CRM",
        reason,
        deal.id,
        (invoice.id,),
        invoice.customer_id,
        {
            "crm_revenue": str(amount),
            "deal_lines": str(lines),
            "invoice_total": str(invoiced),
            "credits": str(credited),
            "credits_unused": str(unused),
            "books_revenue": str(recognised),
        },
        {"action": "review", "words": words},
    )


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


def unapplied_money(
    invoices: list[SnapInvoice],
    payments: list[SnapPayment],
    credits: list[SnapCredit],
    found: list[Finding],
) -> list[Finding]:
    """Money the books received (payments) or owe back (credit memos) left on a customer's
    account while an invoice of theirs stays open: the invoice reads unpaid in the books and
    in the CRM. Matched per customer to the open invoice of that amount, else one it fits
    in, else one it covers; each invoice and each payment or credit used once.

    `found` are the other detectors' findings: an invoice the CRM already says is paid, or
    paid more than the books show (`paid_but_open` or `balance_mismatch` from the deal), gets
    the money attached to that finding (with the fix that applies it) rather than a second
    one; a credit against a deal that has a finding belongs to that finding; the copy
    of a duplicate to be voided takes no money. Returns `found` with these changes, plus the
    new findings, minus a stale-invoice finding whose invoice the money pays in full."""
    deal_claimed = {f.deal_id for f in found if f.deal_id}
    to_void = {f.fix.get("invoice_id") for f in found if f.code == "duplicate_invoice"}
    on_account_money = [
        ("payment", p.id, p.customer_id, p.unapplied, p.txn_date, "", p.currency)
        for p in payments
        if p.unapplied > 0
    ] + [
        ("credit", c.id, c.customer_id, c.remaining, c.txn_date, c.deal_id, "")
        for c in credits
        if c.remaining is not None and c.remaining > 0 and c.deal_id not in deal_claimed
    ]
    on_account_money.sort(key=lambda m: (m[4], m[0], m[1]))
    # Only the customers with money on account need their open invoices, in date order.
    holders = {m[2] for m in on_account_money}
    by_customer: dict[str, list[SnapInvoice]] = defaultdict(list)
    for invoice in invoices:
        open_ = not invoice.voided and invoice.balance > 0 and invoice.id not in to_void
        if open_ and invoice.customer_id in holders:
            by_customer[invoice.customer_id].append(invoice)
    for group in by_customer.values():
        group.sort(key=_by_date)
    # Where the CRM already says more was paid than the books show, the money on account
    # is most likely that payment: it joins the finding and gives it its fix.
    crm_paid = {f.invoice_ids[0]: n for n, f in enumerate(found) if _crm_says_more_paid(f)}
    out, used, settled = list(found), set(), set()
    for kind, record_id, customer_id, left, day, deal_id, currency in on_account_money:
        candidates = [
            i
            for i in by_customer.get(customer_id, ())
            if i.id not in used and (not currency or i.currency == currency)
        ]
        if not customer_id or not candidates:
            continue
        invoice = min(
            candidates,
            key=lambda i: (
                0 if i.balance == left else 1 if i.balance > left else 2,
                0 if deal_id and i.deal_id == deal_id else 1,
            ),
        )  # min keeps the oldest of equals: the list is in date order
        used.add(invoice.id)
        applied = min(left, invoice.balance)
        if applied == invoice.balance:
            settled.add(invoice.id)
        doc = invoice.doc_number or invoice.id
        # Named by its date, not its id: nobody knows a payment by QuickBooks' number.
        what = f"the {'payment' if kind == 'payment' else 'credit memo'} of {day:%-d %B %Y}"
        words = f"Apply {what} ({money(applied, invoice.currency)}) to invoice {doc}."
        fix = {"action": "apply_credit", f"{kind}_id": record_id, "invoice_id": invoice.id,
               "amount": str(applied), "words": words}  # fmt: skip
        on_account = (
            f"{what}, {money(left, invoice.currency)}, sits unapplied on the customer's account"
        )
        evidence = {f"{kind}_id": record_id, "unapplied": str(left),
                    "invoice_balance": str(invoice.balance), "applied": str(applied)}  # fmt: skip
        if invoice.id in crm_paid:
            n = crm_paid[invoice.id]
            f = out[n]
            out[n] = replace(
                f, reason=f"{f.reason}; {on_account}", evidence={**f.evidence, **evidence},
                fix=fix, record_ids=(record_id,),
            )  # fmt: skip
            continue
        out.append(
            Finding(
                "paid_but_open",
                _severity(applied),
                applied,
                invoice.currency,
                "AR overstated (money received is on no invoice)",
                f"{on_account} while invoice {doc} is open for "
                f"{money(invoice.balance, invoice.currency)}",
                invoice.deal_id,
                (invoice.id,),
                customer_id,
                evidence,
                fix,
                (record_id,),
            )
        )
    # An old invoice the money pays in full is not also stale: it was paid.
    return [f for f in out if not (f.code == "stale_open_invoice" and f.invoice_ids[0] in settled)]


def _crm_says_more_paid(f: Finding) -> bool:
    if not f.deal_id or f.code not in ("paid_but_open", "balance_mismatch"):
        return False
    paid = f.evidence
    return f.code == "paid_but_open" or Decimal(paid["crm_paid"]) > Decimal(paid["books_paid"])


def detect(
    *,
    invoices: list[SnapInvoice],
    credits: list[SnapCredit],
    deals: list[SnapDeal],
    today: date,
    stale_after_days: int = 90,
    payments: Iterable[SnapPayment] = (),
) -> list[Finding]:
    found = (
        duplicate_invoices(invoices)
        + deal_findings(deals, invoices, credits)
        + stale_open_invoices(invoices, today, stale_after_days)
    )
    return unapplied_money(invoices, list(payments), credits, found)
