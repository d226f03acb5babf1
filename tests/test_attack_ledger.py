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


def test_dismiss_change_reopen_dismiss_again_then_an_old_month_rerun(acme, two_firms):  # noqa: F811
    """GIVEN a missing invoice dismissed, reopened by a raised amount, dismissed again WHEN
    December is re-run unchanged and November (the old amount) is re-run THEN it stays
    dismissed and uncounted: an earlier month's older figures are not 'a change'."""
    from reconciliation.fixes import do_dismiss

    run(acme, NOV, TROUBLED)
    missing = Finding.objects.get(client=acme, code="missing_invoice")
    do_dismiss(two_firms.owner_a, missing, "invoiced on paper")
    raised = book(TROUBLED["invoices"], [deal(1), deal(9, "3100.00")])
    run(acme, DEC, raised)
    missing.refresh_from_db()
    assert missing.status == "open"
    do_dismiss(two_firms.owner_a, missing, "paper invoice raised too")

    again = run(acme, DEC, raised)
    run(acme, NOV, TROUBLED)
    missing.refresh_from_db()
    assert missing.status == "dismissed" and missing.decision_note == "paper invoice raised too"
    assert again.counts["reopened"] == 0
    assert OpenTotals.objects.get(client=acme).count == open_count(acme) == 1
    december = report_data(Reconciliation.objects.filter(client=acme, period=DEC).last())
    assert [f.code for f in december["findings"]] == ["duplicate_invoice"]


def test_a_month_re_run_after_the_timezone_changed_adds_nothing(acme):  # noqa: F811
    run(acme, NOV, TROUBLED)
    run(acme, DEC, TROUBLED)
    acme.timezone = "Pacific/Kiritimati" if acme.timezone != "Pacific/Kiritimati" else "UTC"
    acme.save()
    again = run(acme, DEC, TROUBLED)
    assert again.counts["ledger_rows_written"] == 0
    assert OpenTotals.objects.get(client=acme).count == open_count(acme) == 2


def clean_two_months() -> dict:
    """A customer with a November job and a December job, each invoiced in full on time and
    both still unpaid: nothing wrong anywhere. The books' receivable is read as it is now
    (December): both invoices."""
    from reconciliation import detectors

    nov_deal = detectors.SnapDeal(
        "d1", "Roof", True, D("1000.00"), "", D("0.00"), "c1", (("SKU", D(1), D("1000.00")),),
        date(2026, 11, 2),
    )  # fmt: skip
    dec_deal = detectors.SnapDeal(
        "d2", "Gutters", True, D("2000.00"), "", D("0.00"), "c1", (("SKU", D(1), D("2000.00")),),
        date(2026, 12, 2),
    )  # fmt: skip
    invoices = [
        invoice(1, "1000.00", deal="d1", day=date(2026, 11, 3)),
        invoice(2, "2000.00", deal="d2", day=date(2026, 12, 3)),
    ]
    return {
        "invoices": invoices, "credits": [], "deals": [nov_deal, dec_deal], "payments": [],
        "receivables": [balances.Receivable("c1", "Pat Doe", D("3000.00"))],
        "compared": {"c1"}, "customer_names": {"c1": "Pat Doe"}, "crm_read": True,
        "unread_ids": set(),
    }  # fmt: skip


def test_re_running_november_in_december_invents_no_balance_mismatch(acme):  # noqa: F811
    """GIVEN a customer whose November and December jobs are both invoiced in full WHEN
    December, then November are reconciled THEN neither month shows a problem: the books'
    receivable (both invoices) is not set against November's deals alone."""
    run(acme, DEC, clean_two_months())
    assert open_count(acme) == 0
    run(acme, NOV, clean_two_months())
    assert list(Finding.objects.filter(client=acme).values_list("code", "amount")) == []
    assert not OpenTotals.objects.filter(client=acme, count__gt=0).exists()
    # The month in progress (nothing dated after it) still compares the customer's balance.
    assert CustomerBalance.objects.filter(client=acme, period=DEC, customer_id="c1").exists()


@pytest.mark.django_db(transaction=True)
def test_a_dismissal_made_while_a_run_updates_the_ledger_is_kept(monkeypatch):
    """GIVEN a December run that no longer sees a missing invoice WHEN an accountant dismisses
    that finding while the run is writing the ledger (after it read which findings were open)
    THEN the dismissal stands, with its reason: the run does not overwrite it as resolved."""
    import threading

    from django.contrib.auth import get_user_model
    from django.db import connections

    from reconciliation import ledger
    from reconciliation.fixes import do_dismiss

    from .factories import ClientFactory

    acme = ClientFactory(name="Acme Roofing", slug="acme-race")  # noqa: F811
    someone = get_user_model().objects.create_user(email="racer@example.test", password="x" * 12)
    try:
        run(acme, NOV, TROUBLED)
        missing = Finding.objects.get(client=acme, code="missing_invoice")
        real_would_change = ledger.Light.would_change
        dismissed = []

        def would_change_after_a_dismissal(self, item, recon):
            # The run has read which findings are open; an accountant dismisses one now.
            if not dismissed:
                dismissed.append(True)

                def dismiss():
                    try:
                        found = Finding.objects.get(pk=missing.pk)
                        do_dismiss(someone, found, "invoiced on paper")
                    finally:
                        connections.close_all()

                worker = threading.Thread(target=dismiss)
                worker.start()
                worker.join(10)
            return real_would_change(self, item, recon)

        monkeypatch.setattr(ledger.Light, "would_change", would_change_after_a_dismissal)
        invoiced = book(
            [*TROUBLED["invoices"], invoice(9, "2500.00", day=date(2026, 12, 1), deal="d9")],
            TROUBLED["deals"],
        )
        run(acme, DEC, invoiced)
        monkeypatch.undo()

        missing.refresh_from_db()
        assert (missing.status, missing.decision_note) == ("dismissed", "invoiced on paper")
        assert OpenTotals.objects.get(client=acme).count == open_count(acme) == 1
    finally:
        acme.delete()
        someone.delete()


def test_names_with_copy_control_characters_round_trip(acme):  # noqa: F811
    """A deal named with a tab, a newline, a backslash and COPY's null marker is stored as
    written (the ledger's rows go through COPY), and an unchanged re-run writes nothing."""
    from reconciliation import detectors

    name = 'Roof\t"A"\n\\N \\. \u00e9\u2028 end'
    odd = detectors.SnapDeal(
        "d9", name, True, D("2500.00"), "", D("0.00"), "c1", ((name, D(1), D("2500.00")),),
        date(2026, 11, 2),
    )  # fmt: skip
    records = book([invoice(1, deal="d1"), invoice(2)], [deal(1), odd])
    run(acme, NOV, records)
    missing = Finding.objects.get(client=acme, code="missing_invoice")
    assert name in missing.reason and missing.records["deal"] is not None
    assert run(acme, NOV, records).counts["ledger_rows_written"] == 0
