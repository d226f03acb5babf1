"""The detectors of an audit: a CRM that issues its own invoices (a field-service CRM), another
integration posting them into the books, syncfirm reading both sides and writing nothing.

Nothing links a CRM invoice to its books invoice: `sync.invoice_pairing` pairs them first,
and these detectors read the pairing. As with deals (`detectors.py`), one planted problem is
reported once, under its own code: an invoice never posted is `missing_invoice`, not also a
job whose revenue differs or a customer whose balance differs; a copy is
`duplicate_invoice`, and neither it nor its money counts anywhere else.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from sync.invoice_pairing import Pairing
from syncfirm.money import money

from .detectors import (
    ZERO,
    Finding,
    SnapCredit,
    SnapInvoice,
    SnapPayment,
    _severity,
    duplicate_invoices,
    stale_open_invoices,
    unapplied_money,
)

SKIPPED_STATUSES = frozenset({"draft", "void", "voided", "bad_debt"})  # nothing to post


@dataclass(frozen=True)
class SnapCrmInvoice:
    """An invoice the CRM issued, as the audit reads it."""

    id: str
    number: str
    customer_id: str  # the books customer its CRM client is linked to; "" when not linked
    issued: date
    total: Decimal
    balance: Decimal
    currency: str = "USD"
    lines: tuple[tuple[str, Decimal, Decimal], ...] = ()  # (item, quantity, amount)
    job_ids: tuple[str, ...] = ()
    status: str = ""
    client_name: str = ""
    system: str = "CRM"  # how pages name the CRM ("Jobber")

    @property
    def paid(self) -> Decimal:
        return self.total - self.balance

    @property
    def name(self) -> str:
        return f"{self.system} invoice #{self.number or self.id}"

    @property
    def where(self) -> str:
        """ "Jobber", or "the CRM" while the CRM has no name."""
        return "the CRM" if self.system == "CRM" else self.system


@dataclass(frozen=True)
class SnapJob:
    id: str
    number: str
    title: str
    currency: str = "USD"

    @property
    def name(self) -> str:
        return f"job #{self.number} “{self.title}”" if self.title else f"job #{self.number}"


def _doc(invoice: SnapInvoice) -> str:
    return invoice.doc_number or invoice.id


def _copies(pairing: Pairing, books: dict[str, SnapInvoice], crm: dict[str, SnapCrmInvoice]):
    for copy in pairing.copies:
        kept, void = books[copy.kept], books[copy.copy]
        if void.voided:
            continue
        how = "posted twice" if copy.same_number else "keyed again by hand"
        yield Finding(
            "duplicate_invoice",
            _severity(void.total),
            void.total,
            void.currency,
            "AR and revenue overstated",
            f"{crm[copy.crm].name} is in the books twice ({how}): invoices {_doc(kept)} and "
            f"{_doc(void)}",
            copy.crm,
            (kept.id, void.id),
            kept.customer_id,
            {
                "keep": kept.id,
                "void": void.id,
                "void_balance": str(void.balance),
                "probability": round(copy.probability, 4),
                "reason": ", ".join(c.words() for c in copy.contributions),
            },
            {
                "action": "void_invoice",
                "invoice_id": void.id,
                "words": f"Void invoice {_doc(void)} ({money(void.total, void.currency)}); "
                f"keep {_doc(kept)}.",
            },
        )


def _missing(invoice: SnapCrmInvoice) -> Finding:
    return Finding(
        "missing_invoice",
        _severity(invoice.total),
        invoice.total,
        invoice.currency,
        "revenue and AR understated",
        f"{invoice.name} ({invoice.client_name or 'its client'}, {invoice.issued:%-d %b %Y}, "
        f"{money(invoice.total, invoice.currency)}) is not in the books",
        invoice.id,
        (),
        invoice.customer_id,
        {"crm_total": str(invoice.total), "crm_paid": str(invoice.paid)},
        {
            "action": "review",
            "words": "Post it in the books (it never reached them), or void it in "
            f"{invoice.where} if it was never owed.",
        },
    )


def _compared(crm: SnapCrmInvoice, books: SnapInvoice) -> Finding | None:
    """What a paired invoice says against its CRM invoice: short of lines or amounts, paid
    on one side and open on the other (either way), or paid amounts that differ."""
    doc = _doc(books)
    # How the pair moves the customer's balance in the CRM against the books'.
    moved = {"balance_effect": str(crm.balance - books.balance)}

    def m(amount: Decimal) -> str:
        return money(amount, books.currency)

    if books.total != crm.total:
        gap = abs(crm.total - books.total)
        fewer = len(books.lines) < len(crm.lines)
        what = (
            f"has {len(books.lines)} of its {len(crm.lines)} lines"
            if fewer
            else "bills another amount"
        )
        return Finding(
            "partial_invoice",
            _severity(gap),
            gap,
            books.currency,
            "revenue and AR understated" if books.total < crm.total else "revenue overstated",
            f"invoice {doc} in the books {what} ({m(books.total)} of {crm.name}'s {m(crm.total)})",
            crm.id,
            (books.id,),
            books.customer_id,
            {"crm_total": str(crm.total), "invoice_total": str(books.total), **moved},
            {
                "action": "review",
                "words": f"Correct invoice {doc} to {m(crm.total)} as in {crm.where}, or "
                f"{crm.name} if the books are right.",
            },
        )
    books_paid = books.total - books.balance
    if crm.balance == 0 and books.balance > 0:
        return Finding(
            "paid_but_open",
            _severity(books.balance),
            books.balance,
            books.currency,
            "AR overstated",
            f"{crm.name} is paid in {crm.where}; invoice {doc} is still open in the books for "
            f"{m(books.balance)}",
            crm.id,
            (books.id,),
            books.customer_id,
            {"crm_paid": str(crm.paid), "books_paid": str(books_paid), "side": "crm", **moved},
            {
                "action": "review",
                "words": "Record the payment in the books if it was received (it never "
                f"reached them); otherwise correct {crm.name} in {crm.where}.",
            },
        )
    if books.balance == 0 and crm.balance > 0:
        return Finding(
            "paid_but_open",
            _severity(crm.balance),
            crm.balance,
            books.currency,
            f"{crm.where} shows money owed that the books have received",
            f"invoice {doc} is paid in the books; {crm.name} is still open in {crm.where} for "
            f"{m(crm.balance)}",
            crm.id,
            (books.id,),
            books.customer_id,
            {"crm_paid": str(crm.paid), "books_paid": str(books_paid), "side": "books", **moved},
            {
                "action": "review",
                "words": f"If the books' payment is real, record it in {crm.where}, so that "
                f"nobody chases the customer for money they paid; if {crm.where} shows a "
                "refund or a correction the books lack, record that in the books instead.",
            },
        )
    if crm.paid != books_paid:
        gap = abs(crm.paid - books_paid)
        return Finding(
            "balance_mismatch",
            _severity(gap),
            gap,
            books.currency,
            f"{crm.where} shows more owed than the books"
            if books_paid > crm.paid
            else f"the books show more owed than {crm.where}",
            f"the books have {m(books_paid)} paid on invoice {doc}; {crm.where} has {m(crm.paid)} "
            f"paid on {crm.name}",
            crm.id,
            (books.id,),
            books.customer_id,
            {"crm_paid": str(crm.paid), "books_paid": str(books_paid), **moved},
            {"action": "review", "words": "Record the missing payment on the side without it."},
        )
    return None


def _job_revenue(
    job: SnapJob,
    crm_invoices: list[SnapCrmInvoice],
    books_invoices: list[SnapInvoice],
    credits: list[SnapCredit],
) -> Finding | None:
    """The job's invoiced total in the CRM against what the books recognise for it: the
    invoices (less credits) the books file under the job's reference."""
    invoiced = sum((i.total for i in crm_invoices), ZERO)
    credited = sum((c.amount for c in credits), ZERO)
    where = crm_invoices[0].where if crm_invoices else "the CRM"
    # A credit still unused lowers the books' receivable for the customer, not the CRM's.
    unused = sum((c.amount if c.remaining is None else c.remaining for c in credits), ZERO)
    recognised = sum((i.total for i in books_invoices), ZERO) - credited
    if invoiced == recognised:
        return None
    gap = abs(invoiced - recognised)
    after = f" after {money(credited, job.currency)} of credits" if credits else ""
    named = ", ".join(_doc(i) for i in books_invoices) or "none"
    return Finding(
        "job_revenue_mismatch",
        _severity(gap),
        gap,
        job.currency,
        "revenue overstated in the CRM"
        if recognised < invoiced
        else "revenue understated in the CRM",
        f"{where} has invoiced {money(invoiced, job.currency)} for {job.name}; the books "
        f"recognise {money(recognised, job.currency)} for it{after} (invoices: {named})",
        crm_invoices[0].id if crm_invoices else "",
        tuple(i.id for i in books_invoices),
        (books_invoices or [None])[0].customer_id if books_invoices else "",
        {
            "job_id": job.id,
            "crm_revenue": str(invoiced),
            "books_revenue": str(recognised),
            "credits": str(credited),
            "credit_ids": [c.id for c in credits],
            "balance_effect": str(unused),  # an invoice filed under another job moves nothing
        },
        {
            "action": "review",
            "words": "File the job's invoices and credits under its reference in the books, "
            f"or correct the job's invoices in {where}.",
        },
    )


def audit(
    *,
    crm_invoices: list[SnapCrmInvoice],
    invoices: list[SnapInvoice],
    pairing: Pairing,
    jobs: Iterable[SnapJob] = (),
    job_of: dict[str, str] | None = None,
    credits: list[SnapCredit] = (),
    payments: Iterable[SnapPayment] = (),
    today: date,
    stale_after_days: int = 90,
) -> list[Finding]:
    """Every finding of an audit. `job_of`: books invoice or credit id → the job reference
    the books file it under (class, tracking category or sub-customer), where they keep one;
    without it, a job's books revenue is what its CRM invoices are paired with."""
    # A books invoice is named by the CRM invoice it pairs with, never by a link: the same
    # problem keeps one identity whoever posted the invoice (audit only, then syncfirm).
    crm_of = {p.books: p.crm for p in pairing.sure}
    invoices = [replace(i, deal_id=crm_of.get(i.id, "")) for i in invoices]
    books = {i.id: i for i in invoices}
    crm = {i.id: i for i in crm_invoices}
    live = [i for i in crm_invoices if i.status.lower() not in SKIPPED_STATUSES]
    found = list(_copies(pairing, books, crm))
    copies = {c.copy for c in pairing.copies}
    for invoice in live:
        if invoice.id in pairing.crm_only:
            found.append(_missing(invoice))
    for pair in pairing.sure:
        if pair.crm in crm and pair.books in books:
            finding = _compared(crm[pair.crm], books[pair.books])
            if finding is not None:
                found.append(finding)
    # A books invoice the pairing did not explain may still be a copy: of a paired one (keyed
    # again by hand under another number, which the pairing's model may weigh below "near"
    # in a small book) or of another unexplained one (a sale keyed twice that never was in
    # the CRM). The paired one is kept, named by its CRM invoice.
    unexplained = set(pairing.books_only)
    pool = [i for i in invoices if i.id in unexplained or i.id in crm_of]
    found += [f for f in duplicate_invoices(pool) if set(f.invoice_ids) & unexplained]
    copies |= {f.fix["invoice_id"] for f in found if f.code == "duplicate_invoice"}
    found += _jobs(live, invoices, pairing, jobs, job_of, list(credits), found, copies)
    active = [i for i in invoices if i.id not in copies]
    found += stale_open_invoices(active, today, stale_after_days)
    # A credit filed under a job whose revenue is a finding belongs to that finding, not to
    # the customer's account.
    claimed = {c: f.deal_id for f in found for c in f.evidence.get("credit_ids", ())}
    credits = [replace(c, deal_id=claimed[c.id]) if c.id in claimed else c for c in credits]
    return unapplied_money(active, list(payments), credits, found)


def _jobs(live, invoices, pairing, jobs, job_of, credits, found, copies) -> list[Finding]:
    """A job's revenue, unless a finding on one of its invoices already says why it differs
    (a missing or short invoice): one problem, one finding."""
    books = {i.id: i for i in invoices}
    posted = pairing.books_of()
    explained = {f.deal_id for f in found if f.code in ("missing_invoice", "partial_invoice")}
    crm_of_job: dict[str, list[SnapCrmInvoice]] = defaultdict(list)
    for invoice in live:
        for job_id in invoice.job_ids:
            crm_of_job[job_id].append(invoice)
    out = []
    for job in jobs:
        mine = crm_of_job.get(job.id, [])
        if not mine or any(i.id in explained for i in mine):
            continue
        if any(len(i.job_ids) > 1 for i in mine):
            continue  # an invoice billing several jobs has no share per job to compare
        # The books' own reference to the job where they keep one; an invoice they file
        # under no job counts for the job of the CRM invoice it is paired with.
        refs = {job.id, job.number}
        job_of = job_of or {}
        filed = [i for i in invoices if job_of.get(i.id) in refs and i.id not in copies]
        filed += [books[b] for i in mine if (b := posted.get(i.id)) and b not in job_of]
        against = [c for c in credits if job_of.get(c.id) in refs]
        finding = _job_revenue(job, mine, [i for i in filed if not i.voided], against)
        if finding is not None:
            out.append(finding)
    return out
