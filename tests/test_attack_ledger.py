"""Attacks on the ledger of findings across months: an earlier month re-run after a fix, and a
run that dies after the ledger was written but before it ended."""

from datetime import date
from decimal import Decimal as D

import pytest
from django.db import DatabaseError
from django.utils import timezone

from reconciliation import balances
from reconciliation import run as run_module
from reconciliation.models import CustomerBalance, Finding, OpenTotals, Reconciliation
from reconciliation.report import report_data
from reconciliation.run import reconcile
from reconciliation.totals import refresh

from .test_ledger import DEC, NOV, TROUBLED, acme, book, deal, invoice, run  # noqa: F401


def open_count(client) -> int:
    return Finding.objects.filter(client=client, status="open").count()


def test_an_earlier_month_re_run_does_not_reopen_a_fix_that_held(acme, two_firms):  # noqa: F811
    """GIVEN a missing invoice seen in November and December, fixed in December by an invoice
    dated 1 December (November is closed in the books) WHEN November is re-run THEN the fix
    stands: November's books never had that invoice, and December's still do."""
    run(acme, NOV, TROUBLED)
    run(acme, DEC, TROUBLED)
    missing = Finding.objects.get(client=acme, code="missing_invoice")
    # What do_approve records once the provider wrote the invoice.
    missing.status, missing.decision_note = "fixed", "Created invoice SF-d9 dated 1 Dec 2026."
    missing.decided_by, missing.decided_at = two_firms.owner_a, timezone.now()
    missing.save()
    assert OpenTotals.objects.get(client=acme).count == 1  # the duplicate alone

    invoiced = book(
        [*TROUBLED["invoices"], invoice(9, "2500.00", day=date(2026, 12, 1), deal="d9")],
        TROUBLED["deals"],
    )
    again = run(acme, NOV, invoiced)  # November judged on its own dates: d9 not invoiced yet

    missing.refresh_from_db()
    assert missing.status == "fixed", missing.change_note
    assert OpenTotals.objects.get(client=acme).count == open_count(acme) == 1
    december = report_data(Reconciliation.objects.filter(client=acme, period=DEC).first())
    assert [f.code for f in december["still_open"]] == ["duplicate_invoice"]
    assert again.counts["reopened"] == 0

    # December re-run: the fix held there too; only a later month seeing it again reopens it.
    run(acme, DEC, invoiced)
    missing.refresh_from_db()
    assert missing.status == "fixed"


def test_a_fix_that_did_not_hold_reopens_in_its_month(acme, two_firms):  # noqa: F811
    """The counterpart: December re-run and the deal still has no invoice: reopened, counted."""
    run(acme, DEC, TROUBLED)
    missing = Finding.objects.get(client=acme, code="missing_invoice")
    missing.status, missing.decided_by = "fixed", two_firms.owner_a
    missing.decided_at = timezone.now()
    missing.save()
    run(acme, DEC, TROUBLED)
    missing.refresh_from_db()
    assert missing.status == "open" and "after the fix of" in missing.change_note
    assert OpenTotals.objects.get(client=acme).count == open_count(acme) == 2


@pytest.mark.django_db(transaction=True)
def test_a_run_that_dies_after_the_ledger_leaves_nothing_half_written(monkeypatch):
    """GIVEN a run that fails while storing customer balances (the connection dropped) WHEN
    it ends as failed THEN the ledger is as before: no finding opened by a run whose report
    says nothing was compared, and the totals still equal the open findings."""
    from .factories import ClientFactory

    client = ClientFactory(name="Acme Roofing", slug="acme-dies")
    snapshot = TROUBLED | {
        "payments": [],
        "receivables": [balances.Receivable("c1", "Pat", D("2000.00"))],
        "compared": {"c1"},
        "customer_names": {"c1": "Pat"},
        "crm_read": True,
        "unread_ids": set(),
    }
    monkeypatch.setattr(run_module, "take_snapshot", lambda client, recon: snapshot)

    def dropped(*args, **kwargs):
        raise DatabaseError("server closed the connection unexpectedly")

    monkeypatch.setattr(run_module, "store_balances", dropped)
    recon = reconcile(client, NOV)

    assert recon.status == "failed"
    assert Finding.objects.filter(client=client).count() == 0
    assert not CustomerBalance.objects.filter(client=client).exists()
    refresh([client.pk])
    assert OpenTotals.objects.get(client=client).count == 0
    client.delete()


@pytest.mark.django_db(transaction=True)
def test_november_and_december_at_once_keep_each_problem_once():
    """GIVEN November and December reconciled in two workers at the same moment WHEN both
    finish THEN each problem is one finding seen in both months, counted once."""
    import threading

    from django.db import connections

    from .factories import ClientFactory

    client = ClientFactory(name="Acme Roofing", slug="acme-parallel")
    runs = [
        Reconciliation.objects.create(client=client, period=p, status="done") for p in (NOV, DEC)
    ]
    ends = {NOV: date(2026, 11, 30), DEC: date(2026, 12, 31)}
    gate, errors = threading.Barrier(2), []

    def work(recon):
        try:
            gate.wait()
            run_module.reconcile_records(recon, dict(TROUBLED), ends[recon.period])
        except Exception as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(r,)) for r in runs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    try:
        assert errors == []
        findings = Finding.objects.filter(client=client)
        assert sorted(findings.values_list("code", flat=True)) == [
            "duplicate_invoice", "missing_invoice",
        ]  # fmt: skip
        assert {(f.first_period, f.last_period, f.status) for f in findings} == {(NOV, DEC, "open")}
        assert OpenTotals.objects.get(client=client).count == 2
    finally:
        client.delete()
