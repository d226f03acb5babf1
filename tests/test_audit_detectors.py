"""An audit of a sync syncfirm does not run: a CRM's own invoices against the books invoices
another integration posted, paired with no link, each planted problem reported once under
its own code and nothing else."""

from collections import Counter
from datetime import date
from decimal import Decimal

from reconciliation.audit import SnapCrmInvoice, SnapJob, audit
from reconciliation.detectors import SnapCredit, SnapInvoice
from sync.invoice_pairing import Side, pair

D = Decimal
TODAY = date(2026, 11, 30)
NOTHING = D("0.00")
ROOF = ("Shingle replacement", D(1), D("4250.00"))
INSPECT = ("Roof inspection", D(1), D("185.00"))
DRAIN = ("Drain cleaning", D(1), D("225.00"))
HEATER = ("Water heater install", D(1), D("1450.00"))


def crm(id_, number, customer, day, *lines, paid=NOTHING, jobs=(), status="awaiting_payment"):
    total = sum((amount for _, _, amount in lines), D("0.00"))
    return SnapCrmInvoice(id_, number, customer, day, total, total - paid, "USD", lines,
                          tuple(jobs), status)  # fmt: skip


def books(id_, number, customer, day, *lines, paid=NOTHING):
    total = sum((amount for _, _, amount in lines), D("0.00"))
    return SnapInvoice(id_, number, customer, day, total, total - paid, "USD", "", lines)


def side(invoice) -> Side:
    return Side(
        invoice.id,
        getattr(invoice, "number", "") or getattr(invoice, "doc_number", ""),
        invoice.customer_id,
        invoice.total,
        invoice.currency,
        getattr(invoice, "issued", None) or getattr(invoice, "txn_date", None),
        tuple(sorted((item.lower(), amount) for item, _, amount in invoice.lines)),
    )


# Each CRM invoice stands for one kind of problem, posted by the integration as "INV-<n>".
CRM = [
    crm("j1", "1001", "101", date(2026, 11, 2), ROOF, jobs=["job1"]),  # fine
    crm("j2", "1002", "102", date(2026, 11, 3), DRAIN, jobs=["job2"]),  # posted twice
    crm("j3", "1003", "103", date(2026, 11, 4), HEATER, jobs=["job3"]),  # never posted
    crm("j4", "1004", "104", date(2026, 11, 5), ROOF, INSPECT, jobs=["job4"]),  # a line dropped
    crm("j5", "1005", "105", date(2026, 11, 6), DRAIN, paid=D("225.00"), jobs=["job5"]),
    crm("j6", "1006", "106", date(2026, 11, 7), INSPECT, jobs=["job6"]),  # paid in the books
    crm("j7", "1007", "107", date(2026, 7, 1), HEATER, jobs=["job7"]),  # old and open
    crm("j8", "1008", "108", date(2026, 11, 9), ROOF, jobs=["job8"]),  # filed under job 1
    crm("j9", "1009", "109", date(2026, 11, 9), DRAIN, status="draft"),  # not issued yet
]
BOOKS = [
    books("b1", "INV-1001", "101", date(2026, 11, 2), ROOF),
    books("b2", "INV-1002", "102", date(2026, 11, 3), DRAIN),
    books("b2-again", "INV-1002", "102", date(2026, 11, 4), DRAIN),
    books("b4", "INV-1004", "104", date(2026, 11, 6), ROOF),
    books("b5", "INV-1005", "105", date(2026, 11, 6), DRAIN),  # its payment never posted
    books("b6", "INV-1006", "106", date(2026, 11, 7), INSPECT, paid=D("185.00")),
    books("b7", "INV-1007", "107", date(2026, 7, 1), HEATER),
    books("b8", "INV-1008", "108", date(2026, 11, 9), ROOF),
]
JOBS = [SnapJob(f"job{k}", str(k), f"Job {k}") for k in range(1, 9)]
# The books file each invoice under its job's number (a class); b8 went under job 1's.
FILED = {"b1": "1", "b2": "2", "b2-again": "2", "b4": "4", "b5": "5", "b6": "6", "b7": "7",
         "b8": "1"}  # fmt: skip


def audited(**kwargs):
    pairing = pair([side(i) for i in CRM], [side(i) for i in BOOKS])
    args = {"crm_invoices": CRM, "invoices": BOOKS, "pairing": pairing, "jobs": JOBS,
            "job_of": FILED, "today": TODAY} | kwargs  # fmt: skip
    return audit(**args)


def test_each_planted_problem_is_found_once_under_its_own_code():
    found = audited()
    by = {(f.code, f.deal_id) for f in found}
    assert ("duplicate_invoice", "j2") in by
    assert ("missing_invoice", "j3") in by
    assert ("partial_invoice", "j4") in by
    assert ("paid_but_open", "j5") in by and ("paid_but_open", "j6") in by
    assert ("stale_open_invoice", "") in by or any(
        f.code == "stale_open_invoice" and f.invoice_ids == ("b7",) for f in found
    )
    jobs = [f for f in found if f.code == "job_revenue_mismatch"]
    assert {f.evidence["job_id"] for f in jobs} == {"job1", "job8"}  # b8 counted for job 1
    assert Counter(f.code for f in found) == {
        "duplicate_invoice": 1,
        "missing_invoice": 1,
        "partial_invoice": 1,
        "paid_but_open": 2,
        "stale_open_invoice": 1,
        "job_revenue_mismatch": 2,
    }


def test_the_copy_is_the_one_to_void_and_the_words_say_how_it_came_about():
    copy = next(f for f in audited() if f.code == "duplicate_invoice")
    assert copy.fix == {
        "action": "void_invoice",
        "invoice_id": "b2-again",
        "words": "Void invoice INV-1002 (225.00 USD); keep INV-1002.",
    }
    assert "CRM invoice #1002 is in the books twice (posted twice)" in copy.reason
    assert copy.amount == D("225.00") and copy.currency == "USD"


def test_paid_but_open_is_told_in_both_directions():
    found = {f.deal_id: f for f in audited() if f.code == "paid_but_open"}
    assert "paid in the CRM; invoice INV-1005 is still open in the books" in found["j5"].reason
    assert found["j5"].direction == "AR overstated"
    assert "INV-1006 is paid in the books; CRM invoice #1006 is still open" in found["j6"].reason
    assert found["j6"].evidence["side"] == "books"


def test_a_draft_in_the_crm_is_not_missing_and_a_missing_invoice_is_not_also_a_job_gap():
    found = audited()
    assert not any(f.deal_id == "j9" for f in found)
    assert not any(f.code == "job_revenue_mismatch" and f.evidence["job_id"] == "job3"
                   for f in found)  # fmt: skip


def test_without_job_references_a_jobs_books_revenue_is_its_paired_invoices():
    found = audited(job_of=None)
    assert [f for f in found if f.code == "job_revenue_mismatch"] == []


def test_a_credit_filed_under_a_job_lowers_what_the_books_recognise_for_it():
    credit = SnapCredit("cm1", "108", date(2026, 11, 20), D("500.00"))
    filed = FILED | {"b8": "8", "cm1": "8"}
    found = audited(job_of=filed, credits=[credit])
    gap = next(f for f in found if f.code == "job_revenue_mismatch")
    assert gap.evidence["job_id"] == "job8" and gap.amount == D("500.00")
    assert "after 500.00 USD of credits" in gap.reason
