"""A month's audit of a CRM that bills its own work, from the records the adapters read:
who posts is decided from what the books hold, an invoice posted a day after the month's
end is not missing, the books' "Job #" note files an invoice under its job, a pair the
pairing is unsure of goes to a person, and the CRM's client balance is set beside the
books' receivable with the findings that explain the difference."""

from datetime import date
from decimal import Decimal

from connections.records import CrmInvoice, CrmJob, Invoice, InvoiceLine, Money
from reconciliation import audit_run
from reconciliation.balances import Receivable
from sandbox.third_party_sync import Faults, simulate
from sync.models import Posting
from sync.posting import default_posting

D = Decimal
END = date(2026, 11, 30)


def usd(amount: str) -> Money:
    return Money(D(amount), "USD")


def line(what: str, amount: str) -> InvoiceLine:
    return InvoiceLine(what, D(1), D(amount), D(amount), what)


def crm(id_, number, client, day, amount, *, paid="0.00", jobs=(), what="Roof repair"):
    return CrmInvoice(id_, number, client, usd(amount), usd(str(D(amount) - D(paid))), day,
                      lines=(line(what, amount),), status="awaiting_payment",
                      job_ids=tuple(jobs))  # fmt: skip


def books(id_, number, customer, day, amount, *, paid="0.00", note="", what="Roof repair"):
    return Invoice(id_, number, customer, usd(amount), usd(str(D(amount) - D(paid))), day,
                   lines=(line(what, amount),), private_note=note)  # fmt: skip


def test_the_books_holding_the_crms_invoices_makes_the_client_audit_only():
    world = simulate(invoices=200, seed=3, faults=Faults())
    chosen, why = default_posting(world.crm, world.books, world.customer_of, "Jobber")
    assert chosen == Posting.AUDIT
    assert "invoices Jobber issued are in the books already" in why

    chosen, why = default_posting(world.crm, [], world.customer_of, "Jobber")
    assert chosen == Posting.SYNCFIRM and "none of the 200 invoices" in why
    assert default_posting([], world.books, {}, "Jobber")[0] == Posting.SYNCFIRM


def month(crm_invoices, books_invoices, *, jobs=(), balances=None, customer_of=None):
    customer_of = customer_of or {"C1": "101", "C2": "102", "C3": "103"}
    side = audit_run.read_side(crm_invoices, list(jobs), balances or {}, books_invoices, [],
                               customer_of, {}, "USD", "Jobber")  # fmt: skip
    from reconciliation.run import snap_invoice

    snaps = [snap_invoice(i, {}, "SF-{deal_id}", "USD") for i in books_invoices]
    records = {"invoices": snaps, "credits": [], "payments": []}
    records["invoices"] = [s for s in snaps if s.txn_date <= END]
    return side, records, audit_run.findings(side, records, snaps, END, 9999)


def test_an_invoice_posted_after_the_months_end_is_not_missing():
    _, _, found = month(
        [crm("j1", "1001", "C1", "2026-11-30", "400.00")],
        [books("b1", "INV-1001", "101", "2026-12-02", "400.00")],
    )
    assert [f.code for f in found] == []


def test_a_books_note_files_an_invoice_under_its_job():
    jobs = [CrmJob("job7", "7", "Kitchen"), CrmJob("job8", "8", "Deck")]
    _, _, found = month(
        [crm("j1", "1001", "C1", "2026-11-03", "900.00", jobs=["job7"])],
        [
            books("b1", "INV-1001", "101", "2026-11-03", "900.00", note="Job #7"),
            # a sale keyed in the books under the deck's job that the CRM never billed
            books("b2", "517", "102", "2026-11-20", "250.00", note="Job #8", what="Extra"),
        ],
        jobs=jobs,
    )
    assert [f.code for f in found] == []  # job 8 has no CRM invoice: nothing to set beside

    _, _, found = month(
        [crm("j1", "1001", "C1", "2026-11-03", "900.00", jobs=["job7"])],
        [
            books("b1", "INV-1001", "101", "2026-11-03", "900.00", note="Job #7"),
            books("b2", "517", "102", "2026-11-20", "250.00", note="Job #7", what="Extra"),
        ],
        jobs=jobs,
    )
    (gap,) = found
    assert gap.code == "job_revenue_mismatch" and gap.amount == D("250.00")
    assert "for job #7 “Kitchen”" in gap.reason and "(invoices: INV-1001, 517)" in gap.reason


def test_an_invoice_billing_two_jobs_raises_no_job_revenue_finding():
    """Jobber's one invoice for jobs #41 and #42, noted "Job #41 · Job #42" in the books: its
    total has no share per job to set beside the books, so neither job is called short."""
    jobs = [CrmJob("job41", "41", "Furnace"), CrmJob("job42", "42", "Ducts")]
    _, _, found = month(
        [crm("j1", "1001", "C1", "2026-11-03", "1000.00", jobs=["job41", "job42"])],
        [books("b1", "INV-1001", "101", "2026-11-03", "1000.00", note="Job #41 · Job #42")],
        jobs=jobs,
    )
    assert [f.code for f in found] == []


def test_a_pair_the_pairing_is_unsure_of_is_put_to_a_person_not_called_missing():
    world = simulate(invoices=300, seed=13)  # two pairs come out short of sure
    side, _, found = month(world.crm, world.books, customer_of=world.customer_of)
    near = {p.crm: p for p in side.pairing.near}
    assert len(near) == 2
    asked = {f.deal_id: f for f in found if f.code == "unsure_pair"}
    assert set(asked) == set(near)
    for crm_id, pair in near.items():
        assert asked[crm_id].invoice_ids == (pair.books,)
        assert "probability" in asked[crm_id].reason and asked[crm_id].severity == "low"
    # neither missing nor compared until a person says
    assert not any(f.deal_id in near for f in found if f.code != "unsure_pair")


def test_paid_in_jobber_open_in_the_books_explains_the_balance_difference():
    side, _, found = month(
        [crm("j1", "1001", "C1", "2026-11-03", "500.00", paid="500.00")],
        [books("b1", "INV-1001", "101", "2026-11-03", "500.00")],
        balances={"C1": usd("0.00")},
    )
    (paid,) = found
    assert paid.code == "paid_but_open" and "Jobber invoice #1001 is paid" in paid.reason
    rows, unexplained = audit_run.customer_balances(
        side, [Receivable("101", "Cedar Roofing", D("500.00"))], found, compared={"101"}
    )
    assert unexplained == []  # the paid-but-open finding says why
    (row,) = rows
    assert (row.crm_owed, row.books_owed, row.unexplained) == (D("0.00"), D("500.00"), D("0"))


def test_a_balance_no_finding_explains_is_its_own_finding():
    side, _, found = month(
        [crm("j1", "1001", "C1", "2026-11-03", "500.00")],
        [books("b1", "INV-1001", "101", "2026-11-03", "500.00")],
        balances={"C1": usd("650.00")},  # Jobber says 150 more is owed
    )
    assert found == []
    _, unexplained = audit_run.customer_balances(
        side, [Receivable("101", "Cedar Roofing", D("500.00"))], found, compared={"101"}
    )
    (mismatch,) = unexplained
    assert mismatch.code == "balance_mismatch" and mismatch.amount == D("150.00")


def test_the_job_a_books_note_names_is_read_from_syncfirms_own_note_too():
    assert audit_run.job_reference("Jobber invoice Z2lkOi8vSm9i · Job #37") == "37"
    assert audit_run.job_reference("job 57, deck") == "57"
    assert audit_run.job_reference("Jobber invoice Z2lkOi8vSm9i") == ""


def test_an_invoice_whose_partner_cannot_be_read_is_said_once_not_missing_or_stale_again():
    """Jobber #1011 unreadable (a line of 99,999,999,999): its books invoice INV-1011 would
    look unpaired and stale, a second finding for a problem already open; books INV-1010
    unreadable: Jobber #1010 would look missing. Both are left to the 'could not be read'
    note of the run."""
    from types import SimpleNamespace as Row

    from reconciliation.run import _without_unread_partners

    side = Row(invoices=[Row(id="j1010", number="1010"), Row(id="j1011", number="1011"),
                         Row(id="j1012", number="1012")])  # fmt: skip
    snapshot = {
        "unread_numbers": {"1010", "1011"},
        "invoices": [
            Row(id="b1011", doc_number="INV-1011"),
            Row(id="b1012", doc_number="INV-1012"),
        ],
    }
    found = [
        Row(code="missing_invoice", deal_id="j1010", invoice_ids=()),
        Row(code="stale_open_invoice", deal_id="", invoice_ids=("b1011",)),
        Row(code="stale_open_invoice", deal_id="j1012", invoice_ids=("b1012",)),
    ]
    kept = _without_unread_partners(found, side, snapshot)
    assert [(f.code, f.deal_id) for f in kept] == [("stale_open_invoice", "j1012")]


def test_an_issued_invoice_whose_date_cannot_be_read_is_said_not_taken_for_a_draft():
    side, _, found = month(
        [crm("j1", "1001", "C1", "1-01-01T00:00:00Z", "400.00"),
         crm("j2", "1002", "C1", "2026-11-03", "300.00")],
        [books("b2", "INV-1002", "101", "2026-11-03", "300.00")],
    )  # fmt: skip
    assert side.undated == ("#1001 ('1-01-01T00:00:00Z')",)
    assert [i.id for i in side.invoices] == ["j2"] and [f.code for f in found] == []
