"""Payments, credit memos, voids and deletes keep invoice and customer balances right."""

import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from quickbooks.exceptions import QuickbooksException
from quickbooks.objects.creditmemo import CreditMemo
from quickbooks.objects.customer import Customer
from quickbooks.objects.detailline import SalesItemLine, SalesItemLineDetail
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.payment import Payment, PaymentLine

from sandbox.quickbooks.models import Company, Entity
from tests.sandbox.conftest import sandbox_db

from .conftest import customer, invoice, service_item

pytestmark = sandbox_db


def pay(qbo, who, amount: str, applied: list[tuple[str, str, str]]) -> Payment:
    payment = Payment()
    payment.CustomerRef = who.to_ref()
    payment.TotalAmt = Decimal(amount)
    payment.Line = []
    for txn_type, txn_id, part in applied:
        line = PaymentLine()
        line.Amount = Decimal(part)
        line.LinkedTxn = [{"TxnId": txn_id, "TxnType": txn_type}]
        payment.Line.append(line)
    return payment.save(qb=qbo)


def credit_memo(qbo, who, item, amount: str) -> CreditMemo:
    line = SalesItemLine()
    line.Amount = Decimal(amount)
    line.SalesItemLineDetail = SalesItemLineDetail()
    line.SalesItemLineDetail.ItemRef = item.to_ref()
    memo = CreditMemo()
    memo.CustomerRef = who.to_ref()
    memo.Line = [line]
    return memo.save(qb=qbo)


def balance_of(qbo, who) -> Decimal:
    return Customer.get(who.Id, qb=qbo).Balance


def test_it_lowers_balances_as_a_payment_is_applied(qbo):
    who, item = customer(qbo), service_item(qbo)
    inv = invoice(qbo, who, item, qty="2", price="150.00")
    assert balance_of(qbo, who) == Decimal("300.00")
    payment = pay(qbo, who, "100.00", [("Invoice", inv.Id, "100.00")])
    assert payment.UnappliedAmt == Decimal("0.00")
    paid = Invoice.get(inv.Id, qb=qbo)
    assert paid.Balance == Decimal("200.00")
    assert {"TxnId": payment.Id, "TxnType": "Payment"} in [
        {"TxnId": link.TxnId, "TxnType": link.TxnType} for link in paid.LinkedTxn
    ]
    assert balance_of(qbo, who) == Decimal("200.00")


def test_it_keeps_an_unlinked_payment_as_unapplied_credit(qbo):
    who, item = customer(qbo), service_item(qbo)
    invoice(qbo, who, item, qty="1", price="80.00")
    payment = pay(qbo, who, "80.00", [])
    assert payment.UnappliedAmt == Decimal("80.00")
    assert balance_of(qbo, who) == Decimal("0.00"), "open invoice minus unapplied credit"


def test_it_refuses_a_payment_larger_than_the_open_balance(qbo):
    who, item = customer(qbo), service_item(qbo)
    inv = invoice(qbo, who, item, qty="1", price="50.00")
    with pytest.raises(QuickbooksException) as error:
        pay(qbo, who, "60.00", [("Invoice", inv.Id, "60.00")])
    assert error.value.error_code == 6000
    assert Invoice.get(inv.Id, qb=qbo).Balance == Decimal("50.00"), "nothing half-written"


def test_it_applies_a_credit_memo_through_a_payment(qbo):
    who, item = customer(qbo), service_item(qbo)
    inv = invoice(qbo, who, item, qty="1", price="120.00")
    memo = credit_memo(qbo, who, item, "20.00")
    assert memo.RemainingCredit == Decimal("20.00")
    assert balance_of(qbo, who) == Decimal("100.00")
    pay(qbo, who, "0.00", [("Invoice", inv.Id, "20.00"), ("CreditMemo", memo.Id, "20.00")])
    assert Invoice.get(inv.Id, qb=qbo).Balance == Decimal("100.00")
    assert CreditMemo.get(memo.Id, qb=qbo).RemainingCredit == Decimal("0.00")
    assert balance_of(qbo, who) == Decimal("100.00")


def test_it_voids_an_invoice_zeroing_amounts_and_freeing_its_payment(qbo):
    who, item = customer(qbo), service_item(qbo)
    inv = invoice(qbo, who, item, qty="1", price="75.00")
    payment = pay(qbo, who, "75.00", [("Invoice", inv.Id, "75.00")])
    Invoice.get(inv.Id, qb=qbo).void(qb=qbo)
    voided = Invoice.get(inv.Id, qb=qbo)
    assert voided.TotalAmt == Decimal("0") and voided.Balance == Decimal("0")
    assert voided.PrivateNote.startswith("Voided")
    assert Payment.get(payment.Id, qb=qbo).UnappliedAmt == Decimal("75.00")
    assert balance_of(qbo, who) == Decimal("-75.00")


def test_it_voids_a_payment_and_reopens_the_invoice(qbo):
    who, item = customer(qbo), service_item(qbo)
    inv = invoice(qbo, who, item, qty="1", price="40.00")
    payment = pay(qbo, who, "40.00", [("Invoice", inv.Id, "40.00")])
    assert Invoice.get(inv.Id, qb=qbo).Balance == Decimal("0.00")
    Payment.get(payment.Id, qb=qbo).void(qb=qbo)
    assert Invoice.get(inv.Id, qb=qbo).Balance == Decimal("40.00")
    assert balance_of(qbo, who) == Decimal("40.00")


def test_it_deletes_an_unpaid_invoice_but_not_a_paid_one(qbo):
    who, item = customer(qbo), service_item(qbo)
    unpaid = invoice(qbo, who, item, qty="1", price="10.00")
    paid = invoice(qbo, who, item, qty="1", price="30.00")
    pay(qbo, who, "30.00", [("Invoice", paid.Id, "30.00")])
    result = Invoice.get(unpaid.Id, qb=qbo).delete(qb=qbo)
    assert result["Invoice"]["status"] == "Deleted"
    with pytest.raises(QuickbooksException) as error:
        Invoice.get(unpaid.Id, qb=qbo)
    assert error.value.error_code == 610
    with pytest.raises(QuickbooksException) as error:
        Invoice.get(paid.Id, qb=qbo).delete(qb=qbo)
    assert error.value.error_code == 6000
    assert balance_of(qbo, who) == Decimal("0.00")


def test_it_refuses_a_line_whose_amount_is_not_qty_times_price(qbo):
    who, item = customer(qbo), service_item(qbo)
    line = SalesItemLine()
    line.Amount = Decimal("100.00")
    line.SalesItemLineDetail = SalesItemLineDetail()
    line.SalesItemLineDetail.ItemRef = item.to_ref()
    line.SalesItemLineDetail.Qty = Decimal("3")
    line.SalesItemLineDetail.UnitPrice = Decimal("30")
    inv = Invoice()
    inv.CustomerRef = who.to_ref()
    inv.Line = [line]
    with pytest.raises(QuickbooksException) as error:
        inv.save(qb=qbo)
    assert error.value.error_code == 6070


def test_it_settles_a_write_without_rewriting_the_customers_other_documents(qbo):
    who, item = customer(qbo), service_item(qbo)
    company = Company.objects.get(realm_id=qbo.realm["realm_id"])
    long_ago = timezone.now() - timedelta(days=3)
    Entity.objects.bulk_create(
        Entity(
            company=company,
            entity_type="Invoice",
            entity_id=100_000 + n,
            data={
                "CustomerRef": {"value": who.Id},
                "Line": [],
                "TotalAmt": Decimal("10.00"),
                "Balance": Decimal("10.00"),
            },
            customer_ref=who.Id,
            last_updated=long_ago,
        )
        for n in range(5000)
    )
    started = time.monotonic()
    inv = invoice(qbo, who, item, qty="1", price="300.00")
    pay(qbo, who, "310.00", [("Invoice", inv.Id, "300.00"), ("Invoice", "100007", "10.00")])
    elapsed = time.monotonic() - started
    assert Invoice.get("100007", qb=qbo).Balance == Decimal("0.00")
    assert balance_of(qbo, who) == Decimal("49990.00"), "5000 x 10 + 300 - 310"
    touched = Entity.objects.filter(company=company, entity_id__gte=100_000)
    assert touched.exclude(last_updated=long_ago).count() == 1, "only the paid one"
    assert elapsed < 2, f"two writes for a customer with 5000 invoices took {elapsed:.2f}s"


def test_it_deletes_a_credit_memo_and_the_customer_owes_its_credit_again(qbo):
    who, item = customer(qbo), service_item(qbo)
    invoice(qbo, who, item, qty="1", price="90.00")
    memo = credit_memo(qbo, who, item, "25.00")
    assert balance_of(qbo, who) == Decimal("65.00")
    result = CreditMemo.get(memo.Id, qb=qbo).delete(qb=qbo)
    assert result["CreditMemo"]["status"] == "Deleted"
    assert balance_of(qbo, who) == Decimal("90.00")


def test_it_deletes_a_payment_and_reopens_what_it_paid(qbo):
    who, item = customer(qbo), service_item(qbo)
    inv = invoice(qbo, who, item, qty="1", price="60.00")
    payment = pay(qbo, who, "60.00", [("Invoice", inv.Id, "60.00")])
    assert balance_of(qbo, who) == Decimal("0.00")
    Payment.get(payment.Id, qb=qbo).delete(qb=qbo)
    reopened = Invoice.get(inv.Id, qb=qbo)
    assert reopened.Balance == Decimal("60.00") and reopened.LinkedTxn == []
    assert balance_of(qbo, who) == Decimal("60.00")


def test_it_refuses_a_payment_linked_to_another_customers_invoice(qbo):
    mine, theirs, item = customer(qbo, "Mine"), customer(qbo, "Theirs"), service_item(qbo)
    inv = invoice(qbo, theirs, item, qty="1", price="20.00")
    with pytest.raises(QuickbooksException) as error:
        pay(qbo, mine, "20.00", [("Invoice", inv.Id, "20.00")])
    assert error.value.error_code == 2500
    assert Invoice.get(inv.Id, qb=qbo).Balance == Decimal("20.00")
