# ruff: noqa: E501 - tables of snapshot rows read best one row per line
"""Money left unapplied, a deal's amount as evidence, and customer balances side by side, as
plain functions: each problem is one finding, and every planted problem's effect on the
customer's balance is explained by it, so none leaves a `balance_mismatch` behind."""

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.test.utils import CaptureQueriesContext

from reconciliation.balances import Receivable, customer_balances
from reconciliation.detectors import SnapCredit, SnapInvoice, SnapPayment, detect

from .test_detectors import LINES, TODAY, clean, replace

D = Decimal


def books_balances(invoices, credits, payments) -> list[Receivable]:
    """Each customer's balance the way QuickBooks keeps it: open invoices, less unused
    credit memos and unapplied payments."""
    owed: dict[str, Decimal] = defaultdict(Decimal)
    for i in invoices:
        owed[i.customer_id] += D(0) if i.voided else i.balance
    for c in credits:
        owed[c.customer_id] -= c.amount if c.remaining is None else c.remaining
    for p in payments:
        owed[p.customer_id] -= p.unapplied
    return [Receivable(c, f"Customer {c}", amount) for c, amount in owed.items()]


def audit(deals, invoices, credits=(), payments=()):
    found = detect(
        invoices=invoices, credits=list(credits), deals=deals, today=TODAY, payments=list(payments)
    )
    rows, unexplained = customer_balances(deals, books_balances(invoices, credits, payments), found)
    return found + unexplained, rows


def codes(found) -> list[tuple[str, str]]:
    return [(f.code, str(f.amount)) for f in found]


def test_clean_books_balance_to_the_cent():
    found, rows = audit(*clean())
    assert found == []
    assert {r.customer_id: (r.crm_owed, r.books_owed, r.unexplained) for r in rows} == {
        "c1": (D("342.50"), D("342.50"), D(0)),
        "c2": (D("685.00"), D("685.00"), D(0)),
    }


OPEN_LATE = SnapInvoice(
    "i9",
    "SF-9",
    "c2",
    TODAY - timedelta(days=130),
    D("250.00"),
    D("250.00"),
    lines=(("DR", D(1), D("250.00")),),
)


@pytest.mark.parametrize(
    ("plant", "code", "amount"),
    [
        (lambda d, i: (d, [*i, SnapInvoice("x", "M-1", "c2", TODAY - timedelta(days=8), D("685.00"), D("685.00"), lines=LINES)]), "duplicate_invoice", "685.00"),
        (lambda d, i: (d, [inv for inv in i if inv.id != "i3"]), "missing_invoice", "685.00"),
        (lambda d, i: (d, replace(i, 2, lines=LINES[:1], total=D("185.00"), balance=D("185.00"))), "partial_invoice", "500.00"),
        (lambda d, i: (replace(d, 2, payment_status="paid", amount_paid=D("685.00")), i), "paid_but_open", "685.00"),
        (lambda d, i: (d, replace(i, 2, balance=D("385.00"))), "balance_mismatch", "300.00"),
        (lambda d, i: (d, replace(i, 2, txn_date=TODAY - timedelta(days=130))), "stale_open_invoice", "685.00"),
        (lambda d, i: (replace(d, 2, amount=D("822.00")), i), "job_revenue_mismatch", "137.00"),
        (lambda d, i: (replace(d, 0, amount=D("890.50")), i), "job_revenue_mismatch", "205.50"),
    ],
)  # fmt: skip
def test_each_planted_problem_explains_its_customers_difference(plant, code, amount):
    found, rows = audit(*plant(*clean()[:2]))
    assert codes(found) == [(code, amount)]
    assert [r.customer_id for r in rows if r.unexplained] == []


def test_a_raised_deal_amount_is_named_against_lines_and_invoice():
    deals, invoices, _ = clean()
    found, _ = audit(replace(deals, 2, amount=D("822.00")), invoices)
    assert found[0].direction == "revenue overstated in the CRM"
    assert (
        "822.00 USD, 137.00 USD above its line items and invoice SF-3 (685.00 USD)"
        in found[0].reason
    )
    # Lines changed too, and the invoice agrees with neither: all three figures are said.
    lines = (("RF-INSP", D(1), D("185.00")), ("GT-INST", D(48), D("600.00")))
    found, _ = audit(replace(deals, 2, amount=D("822.00"), lines=lines), invoices)
    assert codes(found) == [("job_revenue_mismatch", "137.00")]
    assert (
        "deal amount 822.00 USD, its line items 785.00 USD, the books 685.00 USD" in found[0].reason
    )


def test_an_unapplied_payment_is_paid_but_open_with_an_apply_fix():
    deals, invoices, _ = clean()
    payment = SnapPayment("p7", "c2", TODAY - timedelta(days=2), D("685.00"), D("685.00"))
    found, rows = audit(deals, invoices, payments=[payment])
    assert codes(found) == [("paid_but_open", "685.00")]
    f = found[0]
    assert (f.customer_id, f.invoice_ids, f.record_ids, f.deal_id) == ("c2", ("i3",), ("p7",), "d3")
    assert f.fix == {
        "action": "apply_credit", "payment_id": "p7", "invoice_id": "i3", "amount": "685.00",
        "words": f"Apply the payment of {payment.txn_date:%-d %B %Y} (685.00 USD) to invoice SF-3.",
    }  # fmt: skip
    assert [
        (r.customer_id, r.books_owed, r.explained, r.unexplained)
        for r in rows
        if r.customer_id == "c2"
    ] == [("c2", D(0), D("685.00"), D(0))]


def test_a_credit_is_matched_to_the_invoice_it_fits_and_only_once():
    deals, invoices, _ = clean()
    # The oldest open invoice of c1 is i2 (342.50 open); a 100.00 credit fits in it.
    credits = [SnapCredit("r1", "c1", TODAY, D("100.00"), remaining=D("100.00")),
               SnapCredit("r2", "c1", TODAY, D("50.00"), remaining=D("0.00"))]  # fmt: skip
    found, rows = audit(deals, invoices, credits)
    assert codes(found) == [("paid_but_open", "100.00")]
    assert found[0].fix["credit_id"] == "r1" and found[0].fix["invoice_id"] == "i2"
    assert (
        found[0].fix["words"]
        == f"Apply the credit memo of {TODAY:%-d %B %Y} (100.00 USD) to invoice SF-2."
    )
    assert not [r for r in rows if r.unexplained]


def test_the_crm_saying_paid_and_the_money_unapplied_is_one_finding():
    deals, invoices, _ = clean()
    deals = replace(deals, 2, payment_status="paid", amount_paid=D("685.00"))
    payment = SnapPayment("p7", "c2", TODAY, D("685.00"), D("685.00"))
    found, rows = audit(deals, invoices, payments=[payment])
    assert codes(found) == [("paid_but_open", "685.00")]
    assert found[0].fix["action"] == "apply_credit" and found[0].record_ids == ("p7",)
    assert "the CRM shows deal" in found[0].reason and "sits unapplied" in found[0].reason
    assert not [r for r in rows if r.unexplained or r.difference]


def test_an_old_invoice_the_money_pays_is_not_also_stale():
    deals, invoices, _ = clean()
    payment = SnapPayment("p8", "c2", TODAY, D("250.00"), D("250.00"))
    found, rows = audit(deals, [*invoices, OPEN_LATE], payments=[payment])
    assert codes(found) == [("paid_but_open", "250.00")]
    # Keyed by hand, so not in the CRM's balance: paid or not, it moves no difference.
    assert not [r for r in rows if r.unexplained]


def test_a_credit_against_a_job_stays_a_revenue_question():
    deals, invoices, _ = clean()
    credit = SnapCredit("r1", "c1", TODAY, D("85.00"), "d1", remaining=D("85.00"))
    found, rows = audit(deals, invoices, [credit])
    assert codes(found) == [("job_revenue_mismatch", "85.00")]
    assert not [r for r in rows if r.unexplained]


def test_what_no_finding_explains_is_a_balance_mismatch_of_the_customer():
    deals, invoices, _ = clean()
    hand_keyed = SnapInvoice(
        "h1",
        "M-77",
        "c2",
        TODAY - timedelta(days=3),
        D("420.00"),
        D("420.00"),
        lines=(("X", D(7), D("420.00")),),
    )
    on_account = SnapPayment("p9", "c3", TODAY, D("300.00"), D("300.00"))
    found, _ = audit(deals, [*invoices, hand_keyed], payments=[on_account])
    assert sorted((f.code, f.customer_id, str(f.amount), f.deal_id) for f in found) == [
        ("balance_mismatch", "c2", "420.00", ""),
        ("balance_mismatch", "c3", "300.00", ""),
    ]
    by_customer = {f.customer_id: f for f in found}
    assert by_customer["c2"].direction == "the books show more owed than the CRM"
    assert (
        "Customer c2 owes 685.00 USD in the CRM and 1,105.00 USD in the books"
        in by_customer["c2"].reason
    )
    assert by_customer["c3"].direction == "CRM shows more owed than the books"
    # Only customers the CRM knows are compared.
    _, unexplained = customer_balances(
        deals, books_balances([*invoices, hand_keyed], [], [on_account]), [], compared={"c1", "c2"}
    )
    assert [f.customer_id for f in unexplained] == ["c2"]


@pytest.mark.django_db
def test_storing_the_same_balances_again_writes_nothing(two_firms):
    from django.db import connection

    from reconciliation.models import CustomerBalance
    from reconciliation.stored_balances import store_balances

    deals, invoices, _ = clean()
    hand_keyed = SnapInvoice("h1", "M-77", "c2", TODAY, D("420.00"), D("420.00"))
    _, rows = audit(deals, [*invoices, hand_keyed])
    client, month = two_firms.client_a, date(2026, 11, 1)
    assert store_balances(client, month, rows) == {"created": 2, "updated": 0, "deleted": 0}

    with CaptureQueriesContext(connection) as queries:
        again = store_balances(client, date(2026, 11, 20), rows)

    assert again == {"created": 0, "updated": 0, "deleted": 0}
    writes = [q["sql"] for q in queries if q["sql"].split()[0] in ("INSERT", "UPDATE", "DELETE")]
    assert writes == []
    _, rows = audit(deals, invoices)  # the hand-keyed invoice voided: c2 agrees now
    assert store_balances(client, month, rows[1:]) == {"created": 0, "updated": 1, "deleted": 1}
    stored = CustomerBalance.objects.get(client=client)
    assert (stored.customer_id, stored.unexplained, stored.explained_by) == ("c2", D(0), [])


def test_money_on_account_joins_the_crm_s_payment_it_likely_is():
    """GIVEN the CRM says 300.00 was paid on an invoice the books show unpaid, and 300.00
    sits on the customer's account
    THEN that is one finding (the CRM's payment), whose fix applies the money, and the
    balances agree; likewise a part payment of an invoice the CRM calls paid."""
    deals, invoices, _ = clean()
    deals = replace(deals, 2, payment_status="partially_paid", amount_paid=D("300.00"))
    money = SnapPayment("p5", "c2", TODAY, D("300.00"), D("300.00"))
    found, rows = audit(deals, invoices, payments=[money])
    assert codes(found) == [("balance_mismatch", "300.00")]
    assert found[0].fix["action"] == "apply_credit" and found[0].deal_id == "d3"
    assert not [r for r in rows if r.unexplained]

    deals = replace(deals, 2, payment_status="paid", amount_paid=D("685.00"))
    found, rows = audit(deals, invoices, payments=[money])
    assert codes(found) == [("paid_but_open", "685.00")]
    assert found[0].fix["amount"] == "300.00"
    assert not [r for r in rows if r.unexplained]


def test_money_in_another_currency_is_not_applied():
    deals, invoices, _ = clean()
    euros = SnapPayment("p6", "c2", TODAY, D("685.00"), D("685.00"), "EUR")
    found, _ = audit(deals, invoices, payments=[euros])
    assert [f.code for f in found] == ["balance_mismatch"]
