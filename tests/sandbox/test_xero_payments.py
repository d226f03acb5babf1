"""Xero payments, credit notes with allocations, and items through xero-python."""

from datetime import date
from decimal import Decimal

import pytest
from xero_python.accounting import (
    Account,
    Allocation,
    Allocations,
    Contact,
    CreditNote,
    CreditNotes,
    Invoice,
    Invoices,
    Item,
    Items,
    LineItem,
    Payment,
    PaymentDelete,
)
from xero_python.exceptions import AccountingBadRequestException, NotFoundException

from tests.sandbox.conftest import sandbox_db

pytestmark = sandbox_db
BANK = Account(code="090")


def authorised(xero, amount: str = "100.00") -> Invoice:
    invoice = Invoice(
        type="ACCREC",
        contact=Contact(name="Ann Lee"),
        status="AUTHORISED",
        line_items=[LineItem(description="Roof", quantity=1, unit_amount=amount, tax_type="NONE")],
    )
    return xero.create_invoices(xero.tenant, Invoices(invoices=[invoice])).invoices[0]


def pay(xero, invoice: Invoice, amount: str) -> Payment:
    payment = Payment(
        invoice=Invoice(invoice_id=invoice.invoice_id),
        account=BANK,
        amount=amount,
        date=date(2026, 11, 20),
    )
    return xero.create_payment(xero.tenant, payment).payments[0]


def reread(xero, invoice: Invoice) -> Invoice:
    return xero.get_invoice(xero.tenant, invoice.invoice_id).invoices[0]


def test_it_marks_an_invoice_paid_once_payments_cover_it(xero):
    invoice = authorised(xero)
    pay(xero, invoice, "40.00")
    partly = reread(xero, invoice)
    assert (partly.status, Decimal(str(partly.amount_due))) == ("AUTHORISED", Decimal("60.00"))
    pay(xero, invoice, "60.00")
    paid = reread(xero, invoice)
    assert paid.status == "PAID" and paid.fully_paid_on_date == date(2026, 11, 20)
    assert len(paid.payments) == 2


def test_it_refuses_paying_more_than_is_due(xero):
    invoice = authorised(xero)
    with pytest.raises(AccountingBadRequestException) as refused:
        pay(xero, invoice, "100.01")
    assert "exceeds the amount outstanding" in refused.value.reason


def test_it_refuses_paying_a_voided_or_draft_invoice(xero):
    invoice = authorised(xero)
    xero.update_invoice(
        xero.tenant, invoice.invoice_id, Invoices(invoices=[Invoice(status="VOIDED")])
    )
    with pytest.raises(AccountingBadRequestException) as refused:
        pay(xero, invoice, "10.00")
    assert "VOIDED" in refused.value.reason
    assert xero.get_payments(xero.tenant).payments == []


def test_it_refuses_voiding_a_paid_invoice_until_the_payment_is_deleted(xero):
    invoice = authorised(xero)
    payment = pay(xero, invoice, "100.00")
    with pytest.raises(AccountingBadRequestException):
        xero.update_invoice(
            xero.tenant, invoice.invoice_id, Invoices(invoices=[Invoice(status="VOIDED")])
        )
    xero.delete_payment(xero.tenant, payment.payment_id, PaymentDelete(status="DELETED"))
    assert reread(xero, invoice).status == "AUTHORISED"
    xero.update_invoice(
        xero.tenant, invoice.invoice_id, Invoices(invoices=[Invoice(status="VOIDED")])
    )
    assert reread(xero, invoice).status == "VOIDED"


def test_it_allocates_a_credit_note_to_an_invoice(xero):
    invoice = authorised(xero)
    note = CreditNote(
        type="ACCRECCREDIT",
        contact=Contact(name="Ann Lee"),
        status="AUTHORISED",
        line_items=[LineItem(description="Refund", quantity=1, unit_amount="100", tax_type="NONE")],
    )
    (credit,) = xero.create_credit_notes(xero.tenant, CreditNotes(credit_notes=[note])).credit_notes
    assert credit.credit_note_number == "CN-0001"
    allocation = Allocation(
        invoice=Invoice(invoice_id=invoice.invoice_id), amount="100.00", date=date(2026, 11, 21)
    )
    part = Allocation(
        invoice=Invoice(invoice_id=invoice.invoice_id), amount="30.00", date=date(2026, 11, 21)
    )
    xero.create_credit_note_allocation(
        xero.tenant, credit.credit_note_id, Allocations(allocations=[part])
    )
    xero.update_credit_note(
        xero.tenant, credit.credit_note_id, CreditNotes(credit_notes=[CreditNote(reference="r")])
    )
    kept = xero.get_credit_note(xero.tenant, credit.credit_note_id).credit_notes[0]
    assert Decimal(str(kept.remaining_credit)) == Decimal("70")
    with pytest.raises(AccountingBadRequestException):  # more than the credit left
        xero.create_credit_note_allocation(
            xero.tenant, credit.credit_note_id, Allocations(allocations=[allocation])
        )
    allocation.amount = "70.00"
    xero.create_credit_note_allocation(
        xero.tenant, credit.credit_note_id, Allocations(allocations=[allocation])
    )
    settled = reread(xero, invoice)
    assert settled.status == "PAID" and Decimal(str(settled.amount_credited)) == Decimal("100")
    after = xero.get_credit_note(xero.tenant, credit.credit_note_id).credit_notes[0]
    assert (after.status, Decimal(str(after.remaining_credit))) == ("PAID", Decimal("0"))


def test_it_keeps_item_codes_unique_and_deletes_items(xero):
    made = xero.create_items(xero.tenant, Items(items=[Item(code="ROOF", name="Roof repair")]))
    item_id = made.items[0].item_id
    with pytest.raises(AccountingBadRequestException):
        xero.create_items(xero.tenant, Items(items=[Item(code="ROOF", name="Again")]))
    assert [i.code for i in xero.get_items(xero.tenant).items] == ["ROOF"]
    xero.delete_item(xero.tenant, item_id)
    with pytest.raises(NotFoundException):
        xero.get_item(xero.tenant, item_id)


def test_it_offers_its_chart_and_tax_rates_and_takes_payments_into_a_bank_account(xero):
    codes = {a.code: a.type.value for a in xero.get_accounts(xero.tenant).accounts}
    assert codes["090"] == "BANK" and codes["200"] == "REVENUE"
    rates = {r.tax_type: r.effective_rate for r in xero.get_tax_rates(xero.tenant).tax_rates}
    assert rates["OUTPUT"] == Decimal("15") and rates["NONE"] == Decimal("0")
    invoice = authorised(xero)
    wrong = Payment(
        invoice=Invoice(invoice_id=invoice.invoice_id), account=Account(code="200"), amount="5"
    )
    with pytest.raises(AccountingBadRequestException) as refused:
        xero.create_payment(xero.tenant, wrong)
    assert "bank account" in refused.value.reason
