"""The client's ledger of problems across months: each problem once, carried, resolved,
reopened, and a month's view that re-running rewrites instead of adding to."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reconciliation import detectors
from reconciliation.fixes import do_dismiss
from reconciliation.models import Finding, FindingMonth, OpenTotals, Reconciliation
from reconciliation.report import report_data
from reconciliation.run import reconcile_records

from .factories import ClientFactory

NOV, DEC = date(2026, 11, 1), date(2026, 12, 1)
NOV_END, DEC_END = date(2026, 11, 30), date(2026, 12, 31)
D = Decimal


def invoice(n: int, total="1000.00", balance=None, day=date(2026, 11, 3), deal="", customer="c1"):
    lines = (("7", D(1), D(total)),)
    return detectors.SnapInvoice(
        f"i{n}", f"SF-{n}", customer, day, D(total), D(balance or total), "USD", deal, lines
    )


def deal(n: int, amount="1000.00", status="", paid="0.00"):
    lines = (("SKU", D(1), D(amount)),)
    return detectors.SnapDeal(
        f"d{n}", f"Job {n}", True, D(amount), status, D(paid), "c1", lines, date(2026, 11, 2)
    )


def book(invoices=(), deals=()) -> dict:
    return {"invoices": list(invoices), "credits": [], "deals": list(deals)}


def run(client, period: date, records: dict, **snapshot) -> Reconciliation:
    recon = Reconciliation.objects.create(client=client, period=period, status="done")
    end = NOV_END if period == NOV else DEC_END
    reconcile_records(recon, records | snapshot, end)
    recon.save()
    return recon


@pytest.fixture
def acme(db):
    return ClientFactory(name="Acme Roofing", slug="acme")


# Two copies of one invoice (a duplicate) and a won deal with no invoice (missing).
TROUBLED = book([invoice(1, deal="d1"), invoice(2)], [deal(1), deal(9, "2500.00")])


def open_findings(client):
    return Finding.objects.filter(client=client, status="open")


def test_november_then_december_then_november_again_keeps_each_problem_once(acme):
    """GIVEN a duplicate and a missing invoice WHEN November, December, then November again
    are reconciled THEN each problem is one finding, open since November for two months,
    counted once in the kept totals and in each month's report."""
    run(acme, NOV, TROUBLED)
    run(acme, DEC, TROUBLED)
    again = run(acme, NOV, TROUBLED)

    findings = list(open_findings(acme).order_by("code"))
    assert [f.code for f in findings] == ["duplicate_invoice", "missing_invoice"]
    assert {(f.first_period, f.last_period, f.months_open) for f in findings} == {(NOV, DEC, 2)}
    totals = OpenTotals.objects.get(client=acme)
    assert (totals.count, totals.amount) == (2, D("3500.00"))
    assert again.counts["ledger_rows_written"] == 0  # an unchanged month writes nothing
    for period in (NOV, DEC):
        recon = Reconciliation.objects.filter(client=acme, period=period).first()
        data = report_data(recon)
        assert (data["open_count"], data["open_amount"]) == (2, D("3500.00"))
        assert [r["found"] for r in data["trend"]] == ([2] if period == NOV else [2, 2])
    assert FindingMonth.objects.filter(client=acme).count() == 4


def test_a_problem_no_longer_seen_is_resolved_and_one_seen_again_reopens(acme):
    run(acme, NOV, TROUBLED)
    invoiced = [*TROUBLED["invoices"], invoice(9, "2500.00", day=date(2026, 12, 1), deal="d9")]
    fixed_books = book(invoiced, TROUBLED["deals"])
    run(acme, DEC, fixed_books)

    resolved = Finding.objects.get(client=acme, code="missing_invoice")
    assert resolved.status == "resolved" and resolved.resolved_period == DEC
    assert resolved.decision_note.startswith("No longer seen in the books or the CRM on")
    assert report_data(Reconciliation.objects.get(client=acme, period=DEC))["resolved"] == [
        resolved
    ]
    assert OpenTotals.objects.get(client=acme).count == 1  # the duplicate still open

    back = run(acme, DEC, TROUBLED)
    resolved.refresh_from_db()
    assert resolved.status == "open" and "Seen again in December 2026" in resolved.change_note
    assert back.counts["reopened"] == 1 and open_findings(acme).count() == 2


def test_an_earlier_month_run_late_never_resolves_what_a_later_month_still_sees(acme):
    run(acme, NOV, TROUBLED)
    run(acme, DEC, TROUBLED)
    # November re-run on books where December's copy is not dated yet in November.
    nov_only = book([invoice(1, deal="d1")], TROUBLED["deals"])
    run(acme, NOV, nov_only)

    duplicate = Finding.objects.get(client=acme, code="duplicate_invoice")
    assert duplicate.status == "open" and duplicate.last_period == DEC
    assert not FindingMonth.objects.filter(finding=duplicate, period=NOV).exists()
    assert FindingMonth.objects.filter(finding=duplicate, period=DEC).exists()


def test_a_dismissed_problem_stays_dismissed_until_its_data_change(acme, two_firms):
    run(acme, NOV, TROUBLED)
    missing = Finding.objects.get(client=acme, code="missing_invoice")
    do_dismiss(two_firms.owner_a, missing, "invoiced on paper")
    run(acme, DEC, TROUBLED)
    missing.refresh_from_db()
    assert missing.status == "dismissed"
    assert OpenTotals.objects.get(client=acme).count == 1

    raised = book(TROUBLED["invoices"], [deal(1), deal(9, "3100.00")])
    run(acme, DEC, raised)
    missing.refresh_from_db()
    assert missing.status == "open" and missing.amount == D("3100.00")
    assert "amount 2,500.00 USD → 3,100.00 USD" in missing.change_note
    assert "invoiced on paper" in missing.change_note
    assert missing.decided_by is None


def test_what_a_partial_run_could_not_compare_is_not_called_resolved(acme):
    run(acme, NOV, TROUBLED)
    # December: the CRM could not be read, so no deal came back.
    run(acme, DEC, book(TROUBLED["invoices"]), crm_read=False)
    assert open_findings(acme).filter(code="missing_invoice").exists()
    # An unreadable invoice: its duplicate finding is not "gone" either.
    run(acme, DEC, book([invoice(1, deal="d1")], TROUBLED["deals"]), unread_ids={"i2"})
    assert open_findings(acme).filter(code="duplicate_invoice").exists()


def test_severity_follows_the_clients_revenue_and_the_firms_floor(acme):
    # Revenue: 3 months of 30,000.00 → material from 1,500.00 (5 %), over the 500.00 floor.
    busy = [
        invoice(100 + m, "30000.00", "0", date(2026, m, 5), customer="big") for m in (9, 10, 11)
    ]
    small_gap = book(
        [*busy, invoice(1, "200.00", deal="d1")], [deal(1, "200.00"), deal(9, "900.00")]
    )
    run(acme, NOV, small_gap)
    # 900.00 missing: worth a look (medium), not material against 30,000.00 a month.
    assert dict(open_findings(acme).values_list("code", "severity")) == {
        "missing_invoice": "medium"
    }
    assert OpenTotals.objects.get(client=acme).high == 0  # nothing material: no attention

    acme.firm.materiality_floor = D("100.00")
    acme.firm.save()
    quiet = book([invoice(1, "200.00", deal="d1")], [deal(1, "200.00"), deal(9, "900.00")])
    run(acme, DEC, quiet)
    assert open_findings(acme).get(code="missing_invoice").severity == "high"
    assert OpenTotals.objects.get(client=acme).high == 1


def test_deleting_a_client_or_a_run_with_many_findings_takes_a_few_queries(acme):
    many = book(
        [invoice(n, "100.00", day=date(2026, 11, 1)) for n in range(1, 3001)],
        [deal(n, "100.00") for n in range(5001, 6001)],
    )
    recon = run(acme, NOV, many)
    assert Finding.objects.filter(client=acme).count() > 2000
    with CaptureQueriesContext(connection) as deleting_run:
        recon.delete()
    assert len(deleting_run) < 15
    assert Finding.objects.filter(client=acme).count() > 2000  # the ledger outlives a run
    with CaptureQueriesContext(connection) as deleting_client:
        acme.delete()
    assert not Finding.objects.filter(client_id=acme.pk).exists()
    # No more statements than for a client with two findings (and a run): none per finding.
    small = ClientFactory(name="Small Roofing", slug="small")
    run(small, NOV, TROUBLED)
    with CaptureQueriesContext(connection) as deleting_small:
        small.delete()
    assert len(deleting_client) <= len(deleting_small)


def test_a_dismissal_reason_has_a_length_limit_said_in_words(acme, two_firms):
    """GIVEN a 10,000-character reason (it made a list 91,493 px wide) WHEN a finding is
    dismissed with it THEN it is refused, saying the limit, and the finding stays open."""
    from reconciliation.fixes import FixRefused

    run(acme, NOV, TROUBLED)
    missing = Finding.objects.get(client=acme, code="missing_invoice")
    with pytest.raises(FixRefused, match="under 2,000 characters"):
        do_dismiss(two_firms.owner_a, missing, "x" * 10_000)
    missing.refresh_from_db()
    assert missing.status == "open"
    do_dismiss(two_firms.owner_a, missing, "x" * 2_000)
    missing.refresh_from_db()
    assert missing.status == "dismissed"
