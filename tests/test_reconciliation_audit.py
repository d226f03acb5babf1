"""What a black-box audit found the reconciliation missing, planted in a generated book
written into the sandbox through the official clients, then reconciled: money left
unapplied while its invoice stays open, deal amounts raised while their lines stayed, and
customer balances that differ with nothing to explain them. Each is found once, under its
own code, and nothing else is raised by them."""

import csv
import io
import json
from collections import Counter
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse

from reconciliation.models import CustomerBalance, Finding
from sandbox.generator import generate

from .sandbox.conftest import sandbox_db
from .test_reconciliation import reconciled

pytestmark = sandbox_db

NOVEMBER = "2026-11"


def _same(finding: dict, planted: dict) -> bool:
    """A finding is about a planted problem: the same code and the same records."""
    if finding["code"] != planted["code"]:
        return False
    if planted["code"] == "balance_mismatch" and not planted["deal_id"]:
        return not finding["deal_id"] and finding["customer_id"] == planted["customer_id"]
    if planted.get("record_id"):
        fix = finding["fix"]
        return planted["record_id"] in (fix.get("payment_id"), fix.get("credit_id"))
    return (planted["deal_id"] and finding["deal_id"] == planted["deal_id"]) or bool(
        set(finding["invoice_ids"]) & set(planted["invoice_ids"])
    )


@pytest.fixture
def audited(two_firms, sandbox, capsys) -> dict:
    return reconciled(two_firms, sandbox, generate(80, seed=3, unseen=True), capsys)


def test_it_finds_each_planted_problem_once_and_nothing_else(two_firms, audited):
    """GIVEN a book with the usual planted problems and the ones the audit found missed
    WHEN it is reconciled
    THEN each planted problem is one finding of its code, and there is no other finding."""
    report, key = audited["report"], audited["written"].answer_key
    assert report["status"] == "done", report
    findings = report["findings"]
    matches = {n: [f for f in findings if _same(f, p)] for n, p in enumerate(key)}
    assert {n: len(m) for n, m in matches.items() if len(m) != 1} == {}, (
        Counter(f["code"] for f in findings),
        [key[n] for n, m in matches.items() if len(m) != 1],
    )
    unplanned = [f for f in findings if not any(_same(f, p) for p in key)]
    assert unplanned == []
    assert len(findings) == len(key)


def test_money_left_unapplied_is_paid_but_open_with_its_fix(two_firms, audited):
    key = [p for p in audited["written"].answer_key if p.get("record_id")]
    unapplied = [p for p in key if p["code"] == "paid_but_open"]
    assert len(unapplied) == 4
    client = two_firms.client_a
    for planted in unapplied:
        found = [
            f
            for f in Finding.objects.filter(client=client, code="paid_but_open")
            if planted["record_id"] in (f.fix.get("payment_id"), f.fix.get("credit_id"))
        ]
        assert len(found) == 1, planted
        finding = found[0]
        assert finding.customer_id == planted["customer_id"]
        assert finding.invoice_ids == planted["invoice_ids"]
        assert finding.amount == Decimal(planted["amount"])
        assert finding.fix["action"] == "apply_credit"
        assert finding.fix["invoice_id"] == planted["invoice_ids"][0]
        kind = "payment" if "payment_id" in finding.fix else "credit memo"
        # In words: the payment by its date, the invoice by its number, never an id.
        assert finding.fix["words"].startswith(f"Apply the {kind} of "), finding.fix["words"]
        assert f" {planted['record_id']} " not in finding.fix["words"]
        assert "to invoice " in finding.fix["words"]
        assert "sits unapplied on the customer's account" in finding.reason


def test_a_raised_deal_amount_is_job_revenue_mismatch(two_firms, audited):
    client = two_firms.client_a
    # Planted after the book's own revenue mismatches (credits against a job): the last four.
    raised = [p for p in audited["written"].answer_key if p["code"] == "job_revenue_mismatch"][-4:]
    assert len(raised) == 4
    for planted in raised:
        finding = Finding.objects.get(
            client=client, code="job_revenue_mismatch", deal_id=planted["deal_id"]
        )
        assert finding.amount == Decimal(planted["amount"])
        assert finding.direction == "revenue overstated in the CRM"
        assert "the amount changed in the CRM and the lines did not" in finding.reason


def test_customer_balances_are_stored_side_by_side_and_explained(two_firms, audited):
    """GIVEN the reconciled book
    THEN every customer's balance is stored for the month; the customers with a planted
    balance problem differ by its amount, unexplained, and are `balance_mismatch` with no
    deal; every other difference is explained by the findings that cause it."""
    client, key = two_firms.client_a, audited["written"].answer_key
    rows = {b.customer_id: b for b in CustomerBalance.objects.filter(client=client)}
    assert len(rows) >= 30 and {b.period.isoformat() for b in rows.values()} == {"2026-11-01"}
    planted = {
        p["customer_id"]: p for p in key if p["code"] == "balance_mismatch" and not p["deal_id"]
    }
    assert len(planted) == 3
    for customer_id, b in rows.items():
        if customer_id in planted:
            assert abs(b.unexplained) == Decimal(planted[customer_id]["amount"]), b
            assert b.name and b.difference == b.unexplained + b.explained
        else:
            assert b.unexplained == 0, (b, b.explained_by)
    mismatched = Finding.objects.filter(client=client, code="balance_mismatch", deal_id="")
    assert {f.customer_id for f in mismatched} == set(planted)
    hand_keyed = next(p for p in planted.values() if p["invoice_ids"])
    row = rows[hand_keyed["customer_id"]]
    assert row.books_owed - row.crm_owed == Decimal(hand_keyed["amount"])
    # A missing invoice explains the CRM owing more, by its amount.
    missing = next(p for p in key if p["code"] == "missing_invoice")
    because = rows[missing["customer_id"]].explained_by
    assert any(
        e["code"] == "missing_invoice" and Decimal(e["effect"]) == Decimal(missing["amount"])
        for e in because
    )


def test_a_rerun_of_the_same_month_writes_no_balances(two_firms, audited, capsys):
    client = two_firms.client_a
    before = list(CustomerBalance.objects.filter(client=client).order_by("pk").values())

    call_command("reconcile", client.slug, "--period", NOVEMBER, "--json")

    report = json.loads(capsys.readouterr().out)
    assert report["counts"]["balances"] == {"created": 0, "updated": 0, "deleted": 0}
    assert list(CustomerBalance.objects.filter(client=client).order_by("pk").values()) == before


def test_approving_applies_the_payment_and_the_credit(two_firms, audited, capsys):
    """GIVEN a payment and a credit memo left unapplied on open invoices
    WHEN their fixes are approved
    THEN the books apply them (the invoices' balances fall by the amounts), and once the
    next sync has told the CRM, a reconciliation finds nothing about those customers."""
    from connections.quickbooks.adapter import QuickBooksAdapter
    from reconciliation.fixes import FixRefused, do_approve
    from sync.customers import run_customer_sync
    from sync.models import RunKind

    client = two_firms.client_a
    books = QuickBooksAdapter(client.connections.get(system="quickbooks"))
    findings = [f for f in Finding.objects.filter(client=client, code="paid_but_open")]
    payment = next(f for f in findings if "payment_id" in f.fix)
    credit = next(f for f in findings if "credit_id" in f.fix)
    for finding in (payment, credit):
        invoice_id = finding.fix["invoice_id"]
        before = books.invoices_by_id([invoice_id])[0].balance.amount

        fixed = do_approve(two_firms.accountant_a, finding, confirmed_large=True)

        assert fixed.status == "fixed", fixed.decision_note
        after = books.invoices_by_id([invoice_id])[0].balance.amount
        assert after == before - finding.amount
        assert "applied to invoice" in fixed.decision_note
        with pytest.raises(FixRefused, match="already decided"):
            do_approve(two_firms.accountant_a, finding)
    assert books.payments_by_id([payment.fix["payment_id"]])[0].unapplied == 0

    # The worker's next pull brings the payments to the CRM's deals, as it would any.
    run_customer_sync(client, kind=RunKind.SCHEDULED)
    capsys.readouterr()
    call_command("reconcile", client.slug, "--period", NOVEMBER, "--json")
    again = json.loads(capsys.readouterr().out)["findings"]
    fixed_records = {payment.fix["payment_id"], credit.fix["credit_id"]}
    assert not [
        f for f in again if {f["fix"].get("payment_id"), f["fix"].get("credit_id")} & fixed_records
    ]
    customers = {payment.customer_id, credit.customer_id}
    assert not [
        f for f in again if f["code"] == "balance_mismatch" and f["customer_id"] in customers
    ]


def test_the_balances_page_csv_and_report_section(two_firms, audited, client, mailoutbox):
    from reconciliation.models import Reconciliation
    from reconciliation.report import send_report

    slug = two_firms.client_a.slug
    hand_keyed = next(
        p
        for p in audited["written"].answer_key
        if p["code"] == "balance_mismatch" and p["invoice_ids"] and not p["deal_id"]
    )
    row = CustomerBalance.objects.get(
        client=two_firms.client_a, customer_id=hand_keyed["customer_id"]
    )
    client.force_login(two_firms.accountant_a)

    page = client.get(reverse("customer_balances", args=[slug, NOVEMBER]))

    assert page.status_code == 200
    text = page.content.decode()
    assert row.name in text and "Explained by" in text and "Missing invoice" in text
    download = client.get(reverse("customer_balances_csv", args=[slug, NOVEMBER]))
    assert download["Content-Type"] == "text/csv"
    rows = list(csv.DictReader(io.StringIO(download.content.decode())))
    mine = next(r for r in rows if r["customer_id"] == row.customer_id)
    assert Decimal(mine["unexplained"]) == row.unexplained != 0
    assert mine["customer"] == row.name

    recon = Reconciliation.objects.filter(client=two_firms.client_a).first()
    report = client.get(reverse("reconciliation_report", args=[slug, recon.pk]))
    assert b"Customer balances" in report.content
    assert reverse("customer_balances", args=[slug, NOVEMBER]).encode() in report.content
    two_firms.client_a.assigned_staff.add(two_firms.accountant_a)
    send_report(recon)
    message = mailoutbox[-1]
    assert "Customer balances:" in message.body and row.name in message.body
    assert "Customer balances" in message.alternatives[0][0]

    client.force_login(two_firms.owner_b)
    for name in ("customer_balances", "customer_balances_csv"):
        assert client.get(reverse(name, args=[slug, NOVEMBER])).status_code == 404
