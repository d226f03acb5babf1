# ruff: noqa: E501 - tables of snapshot rows read best one row per line
"""Each detector on its own: one planted discrepancy gives exactly its finding, clean books
give none, and odd books (empty, negative, another currency) neither crash nor invent."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from reconciliation.detectors import SnapCredit, SnapDeal, SnapInvoice, detect

TODAY = date(2026, 11, 15)
LINES = (("RF-INSP", Decimal(1), Decimal("185.00")), ("GT-INST", Decimal(40), Decimal("500.00")))


def clean() -> tuple[list, list, list]:
    """Three jobs: one paid, one half paid, one open; CRM and books agree."""
    deals = [
        SnapDeal("d1", "Paid job", True, Decimal("685.00"), "paid", Decimal("685.00"), "c1", LINES),
        SnapDeal("d2", "Half job", True, Decimal("685.00"), "partially_paid", Decimal("342.50"), "c1", LINES),
        SnapDeal("d3", "Open job", True, Decimal("685.00"), "unpaid", Decimal("0.00"), "c2", LINES),
        SnapDeal("d4", "Lost job", False, Decimal("999.00"), "", Decimal("0.00"), "c2", LINES),
    ]  # fmt: skip
    invoices = [
        SnapInvoice("i1", "SF-1", "c1", TODAY - timedelta(days=40), Decimal("685.00"), Decimal("0.00"), deal_id="d1", lines=LINES),
        SnapInvoice("i2", "SF-2", "c1", TODAY - timedelta(days=20), Decimal("685.00"), Decimal("342.50"), deal_id="d2", lines=LINES),
        SnapInvoice("i3", "SF-3", "c2", TODAY - timedelta(days=10), Decimal("685.00"), Decimal("685.00"), deal_id="d3", lines=LINES),
    ]  # fmt: skip
    return deals, invoices, []


def run(deals, invoices, credits):
    return detect(invoices=invoices, credits=credits, deals=deals, today=TODAY)


def test_clean_books_give_no_finding():
    assert run(*clean()) == []


def test_empty_books_give_no_finding():
    assert run([], [], []) == []


def replace(items, index, **changes):
    from dataclasses import replace as copy

    items = list(items)
    items[index] = copy(items[index], **changes)
    return items


@pytest.mark.parametrize(
    ("plant", "code", "amount"),
    [
        (lambda d, i, c: (d, [*i, SnapInvoice("x", "M-1", "c2", TODAY - timedelta(days=8), Decimal("685.00"), Decimal("685.00"), lines=LINES)], c),
         "duplicate_invoice", "685.00"),
        (lambda d, i, c: (d, [inv for inv in i if inv.id != "i3"], c), "missing_invoice", "685.00"),
        (lambda d, i, c: (d, replace(i, 2, lines=LINES[:1], total=Decimal("185.00"), balance=Decimal("185.00")), c),
         "partial_invoice", "500.00"),
        (lambda d, i, c: (replace(d, 2, payment_status="paid", amount_paid=Decimal("685.00")), i, c),
         "paid_but_open", "685.00"),
        (lambda d, i, c: (d, replace(i, 2, balance=Decimal("385.00")), c), "balance_mismatch", "300.00"),
        (lambda d, i, c: (d, replace(i, 2, txn_date=TODAY - timedelta(days=130)), c),
         "stale_open_invoice", "685.00"),
        (lambda d, i, c: (d, i, [SnapCredit("r1", "c1", TODAY, Decimal("85.00"), "d1")]),
         "job_revenue_mismatch", "85.00"),
    ],
)  # fmt: skip
def test_each_discrepancy_alone_is_found_once_under_its_code(plant, code, amount):
    found = run(*plant(*clean()))
    assert [(f.code, str(f.amount)) for f in found] == [(code, amount)]
    assert found[0].fix["words"] and found[0].direction and found[0].evidence


def test_negative_and_foreign_invoices_do_not_invent_findings():
    deals, invoices, credits = clean()
    odd = [
        SnapInvoice("n", "CR-1", "c1", TODAY, Decimal("-50.00"), Decimal("-50.00")),
        SnapInvoice("e1", "EU-1", "c3", TODAY, Decimal("100.00"), Decimal("0.00"), "EUR"),
        SnapInvoice("e2", "EU-2", "c3", TODAY, Decimal("100.00"), Decimal("0.00"), "EUR", lines=(("X", Decimal(1), Decimal("100.00")),)),
    ]  # fmt: skip
    assert run(deals, invoices + odd, credits) == []
