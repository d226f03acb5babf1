"""A month's reconciliation of a client whose CRM bills its own work (a field-service CRM):
the CRM's invoices, jobs and client balances read through the adapter, paired with the
books' invoices (`sync.invoice_pairing`: no link ties the two sides when another
integration posts), judged by the audit's detectors (`audit.py`).

The same path serves both ways a client runs: when syncfirm posts, its invoices carry the
CRM invoice's number and reference, so they pair at once; when it only audits, the pairing
is the accountant's own reading of numbers, customers, amounts, dates and lines.
"""

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from connections.job_filing import job_number
from connections.records import CreditMemo, CrmInvoice, CrmJob, Invoice
from sync import invoice_pairing
from sync.invoice_pairing import Pair, Pairing
from syncfirm.money import money

from . import audit, balances, detectors

ZERO = Decimal("0.00")
# Where the books file an invoice under a job when they keep no job field: its note or
# reference says so ("Job #57", "job 57"), as integrations and bookkeepers write it; a
# whole word, so "Jobber invoice …" is not job "ber", and a number with a digit in it, so
# "Job Site" or "Job - Residential" is no job.
_JOB_NOTE = re.compile(r"\bjob\b\s*#?\s*(?P<number>[A-Za-z-]*\d[A-Za-z0-9-]*)", re.IGNORECASE)


@dataclass
class CrmSide:
    """What the CRM said, read once per run."""

    invoices: list[audit.SnapCrmInvoice] = field(default_factory=list)
    jobs: list[audit.SnapJob] = field(default_factory=list)
    owed: dict[str, Decimal] = field(default_factory=dict)  # books customer → CRM balance
    pairing: Pairing = field(default_factory=Pairing)
    job_of: dict[str, str] = field(default_factory=dict)  # books invoice id → job number
    system: str = "the CRM"  # its name as people say it: "Jobber"
    undated: tuple[str, ...] = ()  # issued invoices whose date cannot be read: left out, said


def job_reference(note: str) -> str:
    found = _JOB_NOTE.search(note or "")
    return found["number"] if found else ""


def job_of(record: Invoice | CreditMemo) -> str:
    """The job number a books invoice or credit is filed under: the books' own job
    reference first (a class, sub-customer or tracking option "Job #57 - Kitchen remodel";
    one naming no job, such as a department's class, says nothing), then its note."""
    return job_number(record.job) or job_reference(record.private_note)


def read_side(
    crm_invoices: list[CrmInvoice],
    jobs: list[CrmJob],
    client_balances: dict,
    books_invoices: list[Invoice],
    books_credits: list[CreditMemo],
    customer_of: dict[str, str],
    client_names: dict[str, str],
    currency: str,
    system: str = "CRM",
) -> CrmSide:
    """The CRM's records as the audit reads them, paired with the books' invoices; the books'
    invoices and credits filed under a job by their job reference or note (`job_of`).
    `customer_of`: CRM client id → the books customer it is linked to."""
    snaps, undated = [], []
    for invoice in crm_invoices:
        issued = _day(invoice.issued)
        if issued is None:
            if invoice.issued:  # a date, but none that can be read: said, not taken for a draft
                undated.append(f"#{invoice.number or invoice.external_id} ({invoice.issued!r})")
            continue  # never issued (a draft): nothing to post, nothing to compare
        snaps.append(
            audit.SnapCrmInvoice(
                id=invoice.external_id,
                number=invoice.number,
                customer_id=customer_of.get(invoice.customer_id, ""),
                issued=issued,
                total=invoice.total.amount,
                balance=invoice.balance.amount,
                currency=invoice.total.currency or currency,
                lines=tuple(
                    (ln.item_id or ln.description, ln.quantity, ln.amount) for ln in invoice.lines
                ),
                job_ids=invoice.job_ids,
                status=invoice.status,
                client_name=client_names.get(invoice.customer_id, ""),
                system=system,
            )
        )
    dated = {i.id for i in snaps}
    pairing = invoice_pairing.pair(
        [invoice_pairing.crm_side(i, customer_of) for i in crm_invoices if i.external_id in dated],
        [invoice_pairing.books_side(i) for i in books_invoices if i.txn_date and not i.voided],
    )
    owed: dict[str, Decimal] = {}
    for client_id, balance in client_balances.items():
        customer = customer_of.get(client_id)
        if customer:
            owed[customer] = owed.get(customer, ZERO) + balance.amount
    return CrmSide(
        invoices=snaps,
        jobs=[audit.SnapJob(j.external_id, j.number, j.title, currency) for j in jobs],
        owed=owed,
        pairing=pairing,
        job_of={
            r.external_id: ref for r in [*books_invoices, *books_credits] if (ref := job_of(r))
        },
        system=system,
        undated=tuple(undated),
    )


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


def in_month(side: CrmSide, period_end: date) -> list[audit.SnapCrmInvoice]:
    return [i for i in side.invoices if i.issued <= period_end]


def pairing_counts(side: CrmSide, period_end: date) -> dict:
    """How the month's CRM invoices were paired, for the report: each is paired with a
    books invoice, put to a person, or in the CRM only."""
    month = {i.id for i in in_month(side, period_end)}
    return {
        "crm_system": side.system,
        "crm_invoices": len(month),
        "paired": sum(1 for p in side.pairing.sure if p.crm in month),
        "unsure": sum(1 for p in side.pairing.near if p.crm in month),
        "crm_only": sum(1 for c in side.pairing.crm_only if c in month),
    }


def findings(
    side: CrmSide,
    records: dict,
    all_invoices: list[detectors.SnapInvoice],
    period_end: date,
    stale_after_days: int,
) -> list[detectors.Finding]:
    """The audit of the month: CRM invoices issued by its end against the books. A books
    invoice paired with one of them counts even when the books dated it after the month's
    end (an integration posts a day or two late): the invoice is not missing."""
    crm = in_month(side, period_end)
    wanted = {p.books for p in side.pairing.sure if p.crm in {i.id for i in crm}}
    books = {i.id: i for i in records["invoices"]}
    books |= {i.id: i for i in all_invoices if i.id in wanted}
    found = audit.audit(
        crm_invoices=crm,
        invoices=list(books.values()),
        pairing=side.pairing,
        jobs=side.jobs,
        job_of=side.job_of or None,
        credits=records["credits"],
        payments=records["payments"],
        today=period_end,
        stale_after_days=stale_after_days,
    )
    return found + unsure_pairs(side.pairing.near, {i.id: i for i in crm}, books)


def unsure_pairs(
    near: tuple[Pair, ...],
    crm: dict[str, audit.SnapCrmInvoice],
    books: dict[str, detectors.SnapInvoice],
) -> list[detectors.Finding]:
    """A CRM invoice and a books invoice that may be one: a person says, the audit does not
    guess (neither missing nor compared until then)."""
    out = []
    for pair in near:
        if pair.crm not in crm or pair.books not in books:
            continue
        ours, theirs = crm[pair.crm], books[pair.books]
        why = ", ".join(c.words() for c in pair.contributions)
        out.append(
            detectors.Finding(
                "unsure_pair",
                "low",
                ours.total,
                ours.currency,
                "not compared until a person says",
                f"{ours.name} ({money(ours.total, ours.currency)}) may be invoice "
                f"{theirs.doc_number or theirs.id} in the books "
                f"({money(theirs.total, theirs.currency)}); probability "
                f"{pair.probability:.2f}: {why}",
                ours.id,
                (theirs.id,),
                theirs.customer_id,
                {"probability": round(pair.probability, 4), "reason": why, "balance_effect": "0"},
                {
                    "action": "review",
                    "words": f"Open both: if they are the same sale, correct the one that is "
                    f"wrong; if not, post {ours.name} in the books.",
                },
            )
        )
    return out


def as_deals(side: CrmSide) -> dict[str, detectors.SnapDeal]:
    """The CRM's invoices as the records a finding keeps of its deal (its number for a
    name), so pages say "Jobber invoice “#1025”" and show what the CRM holds."""
    return {
        i.id: detectors.SnapDeal(
            id=i.id,
            name=f"#{i.number}" if i.number else i.id,
            won=True,
            amount=i.total,
            payment_status="paid" if i.balance == 0 and i.total else "",
            amount_paid=i.paid,
            customer_id=i.customer_id,
            lines=i.lines,
            close_date=i.issued,
            currency=i.currency,
        )
        for i in side.invoices
    }


def customer_balances(side: CrmSide, receivables, found, **names):
    """The CRM's client balances beside the books' receivable, explained by the findings."""
    return balances.customer_balances((), receivables, found, owed_in_crm=side.owed, **names)
