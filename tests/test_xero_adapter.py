"""The Xero adapter against the Xero emulator over HTTP (xero-python underneath): the
contract's operations read and write what an accountant would see in Xero, and a refused or
odd record comes back in the contract's words, never as a crash."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
import requests

from connections import retries
from connections.adapters import accounting_adapter
from connections.contract import Refusal
from connections.records import Customer
from sandbox.xero.models import Record
from sync.invoicing import DraftLine, InvoiceDraft

from .sandbox.conftest import sandbox_db

pytestmark = sandbox_db


@pytest.fixture
def xero(connected, sandbox, monkeypatch):
    connection = connected("xero")
    monkeypatch.setattr(retries, "_wait", lambda state: 0.01)
    requests.patch(
        f"{sandbox}/sandbox/control/xero/organisations/{connection.external_id}",
        json={"rate_limits": False},
        timeout=10,
    )
    return accounting_adapter(connection)


def draft(deal_id: str, customer_id: str, code: str, number: str = "") -> InvoiceDraft:
    line = DraftLine(code, "Roof inspection", Decimal(2), Decimal("185.00"), Decimal("370.00"))
    return InvoiceDraft(
        deal_id=deal_id, customer_id=customer_id, doc_number=number or f"SF-{deal_id}",
        txn_date=date(2026, 11, 20), due_date=date(2026, 12, 20), currency="USD",
        lines=(line,), total=Decimal("370.00"), private_note=f"HubSpot deal {deal_id}",
    )  # fmt: skip


def made(xero, name: str = "Cedar Roofing", **values) -> Customer:
    result = xero.write_customers([("k", {"display_name": name, **values}, None)], "sf-c-" + name)
    assert result[0].ok, result[0]
    return xero.customer_by_id(result[0].external_id)


@dataclass
class Book:
    customer: Customer
    code: str


@pytest.fixture
def book(xero) -> Book:
    customer = made(xero, email="office@cedar.example", phone="+15125550123", city="Austin")
    account = xero.income_account("Sales")
    assert account, "the organisation's chart has a Sales revenue account"
    result = xero.create_items([("Roof inspection", "RF-INSP")], account, "sf-items-1")
    assert result[0].ok, result[0]
    return Book(customer, "RF-INSP")


def test_contacts_are_written_read_paged_and_found_by_name(xero, book):
    assert book.customer.display_name == "Cedar Roofing"
    assert book.customer.email == "office@cedar.example"
    assert book.customer.billing_address.city == "Austin"
    assert [c.external_id for c in xero.customers_named("CEDAR roofing")] == [
        book.customer.external_id
    ]
    assert xero.customers().records[0].external_id == book.customer.external_id
    assert xero.capabilities.batch_size == 50 and xero.record_url("invoice", "x")


def test_a_second_contact_with_a_taken_name_is_refused_as_name_taken(xero, book):
    again = xero.write_customers([("k2", {"display_name": "Cedar Roofing"}, None)], "sf-c-2")
    assert not again[0].ok and again[0].refusal == Refusal.NAME_TAKEN


def test_an_update_of_a_contact_changed_since_it_was_read_is_refused_as_stale(xero, book):
    fresh = xero.write_customers([("k", {"email": "new@cedar.example"}, book.customer)], "sf-upd-1")
    assert fresh[0].ok
    stale = xero.write_customers([("k", {"email": "x@cedar.example"}, book.customer)], "sf-upd-2")
    assert stale[0].refusal == Refusal.STALE
    assert xero.customer_by_id(book.customer.external_id).email == "new@cedar.example"


def test_an_invoice_is_created_once_read_back_in_decimal_and_found_by_number(xero, book):
    results = xero.create_invoices([draft("1203", book.customer.external_id, book.code)], "r1")
    assert results[0].ok, results[0]
    (invoice,) = xero.invoices_numbered(["SF-1203"])
    assert invoice.total.amount == Decimal("370.00") and invoice.total.currency == "USD"
    assert invoice.lines[0].quantity == Decimal(2) and invoice.private_note == "HubSpot deal 1203"
    assert isinstance(invoice.balance.amount, Decimal) and not invoice.voided
    # The same request again (a retry after a lost answer) replays; a new one is refused.
    again = xero.create_invoices([draft("1203", book.customer.external_id, book.code)], "r1")
    assert again[0].external_id == results[0].external_id
    taken = xero.create_invoices([draft("1203", book.customer.external_id, book.code)], "r2")
    assert taken[0].refusal == Refusal.NUMBER_TAKEN
    assert len(xero.invoices_numbered(["SF-1203"])) == 1
    assert xero.receivable() == Decimal("370.00")


def test_void_once_and_refused_with_a_reason_when_paid(xero, book, sandbox):
    first, second = xero.create_invoices(
        [draft(n, book.customer.external_id, book.code) for n in ("1", "2")], "r-void"
    )
    voided = xero.void_invoice(first.external_id)
    assert voided.voided and voided.balance.amount == 0
    assert xero.void_invoice(first.external_id).voided  # nothing written the second time
    pay(xero, second.external_id, Decimal("370.00"))
    with pytest.raises(retries.ProviderError, match="no payment or credit"):
        xero.void_invoice(second.external_id)


def pay(xero, invoice_id: str, amount: Decimal) -> None:
    api = xero._api()
    answer = api.create_payments(
        xero.connection.external_id,
        {"Payments": [{"Invoice": {"InvoiceID": invoice_id}, "Account": {"Code": "090"},
                       "Date": "2026-11-25", "Amount": str(amount)}]},
        _preload_content=False,
    )  # fmt: skip
    assert answer.status == 200


def test_payments_and_credit_notes_read_back_and_the_change_feed_sees_them(xero, book):
    from django.utils import timezone

    before = timezone.now()
    (result,) = xero.create_invoices([draft("77", book.customer.external_id, book.code)], "r-77")
    pay(xero, result.external_id, Decimal("100.00"))
    (payment,) = xero.payments()
    assert payment.total.amount == Decimal("100.00") and payment.unapplied == 0
    invoices, money = xero.money_changed_since(before)
    assert [i.external_id for i in invoices] == [result.external_id]
    assert [(p.kind, p.applied) for p in money] == [
        ("Payment", ((result.external_id, Decimal("100.00")),))
    ]
    (open_invoice,) = xero.open_transactions(book.customer.external_id)[0]
    assert open_invoice.balance.amount == Decimal("270.00")


def test_a_record_with_nan_or_a_huge_number_is_left_out_with_its_reason(xero, book):
    xero.create_invoices([draft("5", book.customer.external_id, book.code)], "r-5")
    row = Record.objects.using("sandbox").get(kind="Invoice", number="SF-5")
    row.data["Total"] = "NaN"
    row.save(using="sandbox")
    assert xero.all_invoices() == []
    assert "is not a number" in str(xero.unreadable[0])


def test_archiving_a_contact_reads_first_and_writes_once(xero, book):
    archived = xero.make_customer_inactive(book.customer.external_id)
    assert not archived.active
    assert not xero.make_customer_inactive(book.customer.external_id).active
    assert xero.customer_by_id("00000000-0000-0000-0000-000000000000") is None


def test_the_daily_limit_is_said_in_words_not_slept_out(xero, sandbox):
    requests.patch(
        f"{sandbox}/sandbox/control/xero/organisations/{xero.connection.external_id}",
        json={"rate_limits": True, "day_limit": 1},
        timeout=10,
    )
    xero.items()  # the day's one call
    with pytest.raises(retries.ProviderError, match="daily limit of calls"):
        xero.items()


def test_the_same_deals_with_other_content_are_a_new_request_not_a_refused_key(xero, book):
    first = draft("31", book.customer.external_id, book.code)
    (made,) = xero.create_invoices([first], "inv-same-deals")
    changed = draft("31", book.customer.external_id, book.code, number="SF-31-B")
    (second,) = xero.create_invoices([changed], "inv-same-deals")
    assert made.ok and second.ok and second.external_id != made.external_id


def test_a_findings_link_opens_the_record_in_the_xero_sandbox_and_no_other(xero, book):
    (made,) = xero.create_invoices([draft("64", book.customer.external_id, book.code)], "r-64")
    page = requests.get(xero.record_url("invoice", made.external_id), timeout=10)
    assert page.status_code == 200 and "Invoice SF-64" in page.text
    contact = requests.get(xero.record_url("customer", book.customer.external_id), timeout=10)
    assert "Contact Cedar Roofing" in contact.text
    elsewhere = xero.record_url("invoice", made.external_id).replace(
        xero.connection.external_id, "00000000-0000-0000-0000-000000000000"
    )
    assert requests.get(elsewhere, timeout=10).status_code == 404
