"""Both systems side by side, the history chart and money on the page: plain functions."""

from datetime import date
from decimal import Decimal

import pytest

from reconciliation.chart import history_chart, short_amount
from reconciliation.compare import compare
from reconciliation.detectors import SnapDeal, SnapInvoice
from syncfirm.money import money

D = Decimal
LINES = (("PL-DRAN", D("4"), D("900.00")), ("EL-PANL", D("5"), D("11000.00")))
BOOK_LINES = (("6", D("4"), D("900.00")), ("9", D("5"), D("11000.00")))


def deal(**changes) -> SnapDeal:
    values = dict(id="d1", name="Job 1", won=True, amount=D("11900.00"), customer_id="20",
                  lines=LINES, close_date=date(2026, 11, 8), payment_status="unpaid")  # fmt: skip
    return SnapDeal(**{**values, **changes})


def invoice(id="i1", **changes) -> SnapInvoice:
    values = dict(id=id, doc_number=f"SF-{id}", customer_id="20", txn_date=date(2026, 11, 8),
                  total=D("11900.00"), balance=D("11900.00"), deal_id="d1",
                  lines=BOOK_LINES)  # fmt: skip
    return SnapInvoice(**{**values, **changes})


def differing(comparison) -> set[str]:
    return {what for what, _, differs in comparison.rows if differs}


def test_a_duplicate_pair_differs_only_where_it_does():
    """Lines named by SKU in the CRM and by item id in the books still match by quantity and
    amount; the unpaid deal and the open invoices agree; only the second invoice's date differs."""
    found = compare(deal(), [invoice(), invoice("i2", txn_date=date(2026, 11, 10))])
    assert found.columns == ("CRM deal “Job 1”", "Books invoice SF-i1", "Books invoice SF-i2")
    assert differing(found) == {"Date"}
    assert found.differences == 1


def test_a_missing_invoice_marks_only_the_amount():
    found = compare(deal(), [])
    assert found.columns[-1] == "Books: no invoice"
    assert differing(found) == {"Amount"}
    assert dict((w, v) for w, v, _ in found.rows)["Amount"] == ("11,900.00 USD", "")


def test_paid_in_the_crm_but_open_in_the_books_marks_status_and_money():
    found = compare(deal(payment_status="paid", amount_paid=D("11900.00")), [invoice()])
    assert differing(found) == {"Paid", "Still owed", "Payment status"}


def test_a_short_invoice_marks_its_lines_and_amount():
    found = compare(deal(), [invoice(lines=BOOK_LINES[:1], total=D("900.00"), balance=D("900"))])
    assert {"Lines", "Amount"} <= differing(found)


def test_nothing_to_compare_is_none():
    assert compare(None, []) is None


def test_the_chart_scales_bars_to_a_round_ceiling():
    chart = history_chart([
        (date(2026, 9, 1), 3, D("4000.00")), (date(2026, 10, 1), 6, D("8000.00")),
    ])  # fmt: skip
    first, second = chart.bars
    assert chart.max_amount == D("10000") and chart.max_amount_label == "10k"
    assert second.height == pytest.approx(first.height * 2)
    assert chart.max_count == 10 and second.cy < first.cy  # more findings: higher point
    assert [b.label for b in chart.bars] == ["Sep 2026", "Oct 2026"]
    assert history_chart([]) is None


def test_a_month_with_nothing_found_draws_no_bar():
    chart = history_chart([(date(2026, 9, 1), 0, D("0.00"))])
    assert chart.bars[0].height == 0 and chart.max_amount_label == "1"


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [(D("14812.5"), "USD", "14,812.50 USD"), (D("-3"), "CAD", "-3.00 CAD"),
     (0, "USD", "0.00 USD"), (None, "USD", "—"), ("1234567.891", "", "1,234,567.89")],
)  # fmt: skip
def test_money_is_grouped_with_two_decimals_and_its_currency(amount, currency, shown):
    assert money(amount, currency) == shown


def test_money_refuses_a_float():
    with pytest.raises(TypeError):
        money(0.1, "USD")
    assert short_amount(D("1500000")) == "1.5M"
