"""Reconciliation against the generator's answer key: a generated book written into the
sandbox through the official clients, connected through the real consent flow, imported,
then reconciled. Every planted discrepancy is found, under its own code, and nothing else."""

import json
from collections import Counter

import pytest
from django.core.management import call_command

from sandbox.generator import FINDING_CODES, generate
from sync.customers import run_customer_sync
from sync.models import RunKind, SyncSettings

from .sandbox.conftest import sandbox_db
from .written_books import write_and_connect

pytestmark = sandbox_db


def reconciled(two_firms, sandbox, book, capsys, books: str = "quickbooks") -> dict:
    client = two_firms.client_a
    written = write_and_connect(client, sandbox, book, "Reconciled books", books)
    run_customer_sync(client, kind=RunKind.IMPORT, full=True)
    # The worker's scheduled pull runs before anyone reconciles: it must not paper over
    # history (what the CRM says about old invoices stands until money moves).
    run_customer_sync(client, kind=RunKind.SCHEDULED)
    capsys.readouterr()
    call_command("reconcile", client.slug, "--period", "2026-11", "--json")
    return {"written": written, "report": json.loads(capsys.readouterr().out)}


def scores(findings: list[dict], key: list[dict]) -> dict[str, tuple[float, float]]:
    """Per code: (precision, recall), a finding matching a planted item of its code by
    deal or by invoice."""
    out = {}
    for code in FINDING_CODES:
        mine = [f for f in findings if f["code"] == code]
        planted = [p for p in key if p["code"] == code]

        def same(f, p):
            return (p["deal_id"] and f["deal_id"] == p["deal_id"]) or bool(
                set(f["invoice_ids"]) & set(p["invoice_ids"])
            )

        right = sum(1 for f in mine if any(same(f, p) for p in planted))
        found = sum(1 for p in planted if any(same(f, p) for f in mine))
        out[code] = (right / len(mine) if mine else 1.0, found / len(planted) if planted else 1.0)
    return out


@pytest.mark.parametrize("books", ["quickbooks", "xero"])
def test_every_planted_discrepancy_is_found_and_nothing_else(two_firms, sandbox, capsys, books):
    result = reconciled(two_firms, sandbox, generate(80, seed=3), capsys, books)
    report, key = result["report"], result["written"].answer_key
    assert report["status"] == "done", report
    got = scores(report["findings"], key)
    low = {code: s for code, s in got.items() if s[0] < 0.98 or s[1] < 0.98}
    assert low == {}, (low, Counter(f["code"] for f in report["findings"]))
    assert len(report["findings"]) == len(key) == 2 * len(FINDING_CODES)
    duplicate = next(f for f in report["findings"] if f["code"] == "duplicate_invoice")
    assert duplicate["fix"]["action"] == "void_invoice"


def test_clean_books_yield_no_findings(two_firms, sandbox, capsys):
    result = reconciled(two_firms, sandbox, generate(40, seed=5, discrepancies=False), capsys)
    assert result["report"]["findings"] == []


@pytest.mark.parametrize("system", ["quickbooks", "xero"])
def test_approving_a_duplicate_voids_it_once_and_receivable_drops(
    two_firms, sandbox, capsys, system
):
    from connections.adapters import accounting_adapter
    from reconciliation.fixes import FixRefused, do_approve, do_dismiss
    from reconciliation.models import Finding

    reconciled(two_firms, sandbox, generate(40, seed=4), capsys, system)
    client = two_firms.client_a
    books = accounting_adapter(client.connections.get(system=system))
    before = books.receivable()
    duplicate = Finding.objects.get(client=client, code="duplicate_invoice")

    fixed = do_approve(two_firms.accountant_a, duplicate, confirmed_large=True)  # > 5,000.00

    assert fixed.status == "fixed", fixed.decision_note
    assert books.receivable() == before - duplicate.amount
    assert books.invoices_by_id([duplicate.fix["invoice_id"]])[0].voided
    with pytest.raises(FixRefused, match="already decided"):
        do_approve(two_firms.accountant_a, duplicate)
    stale = Finding.objects.get(client=client, code="stale_open_invoice")
    with pytest.raises(FixRefused, match="No safe automatic fix"):
        do_approve(two_firms.accountant_a, stale)
    with pytest.raises(FixRefused, match="Say why"):
        do_dismiss(two_firms.accountant_a, stale, " ")
    do_dismiss(two_firms.accountant_a, stale, "agreed a payment plan with the customer")

    call_command("reconcile", client.slug, "--period", "2026-11", "--json")
    again = json.loads(capsys.readouterr().out)["findings"]
    codes = Counter(f["code"] for f in again)
    assert "stale_open_invoice" not in codes  # dismissed, data unchanged: not back
    assert "duplicate_invoice" not in codes  # fixed: gone from the books


def test_the_monthly_report_emails_with_its_csv_and_is_a_page(
    two_firms, sandbox, capsys, mailoutbox, client
):
    import csv
    import io

    from django.urls import reverse

    from reconciliation.models import Reconciliation

    two_firms.client_a.assigned_staff.add(two_firms.accountant_a)
    reconciled(two_firms, sandbox, generate(40, seed=6), capsys)
    SyncSettings.objects.filter(client=two_firms.client_a).update(
        report_contractor_email="owner@contractor.example"
    )
    call_command("reconcile", two_firms.client_a.slug, "--period", "2026-11", "--email")

    message = mailoutbox[-1]
    assert message.to == [two_firms.accountant_a.email, "owner@contractor.example"]
    assert "reconciliation for November 2026" in message.subject
    assert "AR overstated" in message.body and "Duplicate invoice" in message.body
    assert "duplicate_invoice" not in message.body, "codes are shown by their labels"
    html = message.alternatives[0][0]
    assert "<table" in html and "Review and approve fixes" in html
    name, content, mimetype = message.attachments[0]
    rows = list(csv.DictReader(io.StringIO(content)))
    assert mimetype == "text/csv" and name.endswith("2026-11-findings.csv")
    kinds = {r["Finding"].split(":")[0] for r in rows}
    assert kinds >= {"Duplicate invoice", "Missing invoice"}
    assert all(r["Status"] == "Open" for r in rows)
    assert {r["Client"] for r in rows} == {two_firms.client_a.name}
    assert {r["Period"] for r in rows} == {"2026-11"}

    recon = Reconciliation.objects.filter(client=two_firms.client_a).first()
    client.force_login(two_firms.accountant_a)
    page = client.get(reverse("reconciliation_report", args=[two_firms.client_a.slug, recon.pk]))
    assert page.status_code == 200 and b"Void invoice" in page.content
    download = client.get(reverse("reconciliation_csv", args=[two_firms.client_a.slug, recon.pk]))
    assert download["Content-Type"] == "text/csv" and b"Duplicate invoice" in download.content


def test_the_monthly_run_reconciles_last_month_once_and_emails(
    two_firms, sandbox, capsys, mailoutbox, client
):
    from datetime import timedelta

    from django.urls import reverse
    from django.utils import timezone

    from reconciliation.tasks import previous_month, reconcile_due_clients

    reconciled(two_firms, sandbox, generate(40, seed=8), capsys)
    two_firms.client_a.reconciliations.all().delete()
    assert reconcile_due_clients() == 0  # imported this month: last month is not ours
    SyncSettings.objects.filter(client=two_firms.client_a).update(
        import_done_at=timezone.now() - timedelta(days=40)
    )

    assert reconcile_due_clients() == 1
    assert reconcile_due_clients() == 0  # once per month
    recon = two_firms.client_a.reconciliations.get()
    assert recon.period == previous_month(recon.started_at.date())
    assert len(mailoutbox) == 1 and mailoutbox[0].attachments

    client.force_login(two_firms.accountant_a)
    client.post(reverse("reconciliation_start", args=[two_firms.client_a.slug]))
    assert two_firms.client_a.reconciliations.count() == 2
    page = client.get(reverse("client_detail", args=[two_firms.client_a.slug]))
    assert b"Reconciliations" in page.content and b"Report" in page.content


def test_approving_a_partial_invoice_adds_the_missing_lines(two_firms, sandbox, capsys):
    from reconciliation.fixes import do_approve
    from reconciliation.models import Finding

    reconciled(two_firms, sandbox, generate(40, seed=9), capsys)
    partial = Finding.objects.get(client=two_firms.client_a, code="partial_invoice")

    fixed = do_approve(two_firms.accountant_a, partial)

    assert fixed.status == "fixed", fixed.decision_note
    assert "added to invoice" in fixed.decision_note
    call_command("reconcile", two_firms.client_a.slug, "--period", "2026-11", "--json")
    codes = {f["code"] for f in json.loads(capsys.readouterr().out)["findings"]}
    assert "partial_invoice" not in codes and "duplicate_invoice" in codes
