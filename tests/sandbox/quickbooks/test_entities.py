"""python-quickbooks, unmodified, against the QuickBooks emulator over HTTP."""

from decimal import Decimal

import pytest
from quickbooks.exceptions import QuickbooksException, ValidationException
from quickbooks.objects.customer import Customer
from quickbooks.objects.invoice import Invoice

from tests.sandbox.conftest import sandbox_db

from .conftest import customer, invoice, service_item

pytestmark = sandbox_db


def test_it_creates_reads_and_updates_a_customer(qbo):
    created = customer(qbo, "Ann Lee")
    assert created.Id and created.SyncToken == "0"
    read = Customer.get(created.Id, qb=qbo)
    assert read.DisplayName == "Ann Lee" and read.Active is True
    read.CompanyName = "Lee Renovations"
    updated = read.save(qb=qbo)
    assert updated.SyncToken == "1"
    assert Customer.get(created.Id, qb=qbo).CompanyName == "Lee Renovations"


def test_it_refuses_a_stale_sync_token(qbo):
    created = customer(qbo, "Stale Sam")
    first = Customer.get(created.Id, qb=qbo)
    second = Customer.get(created.Id, qb=qbo)
    first.Notes = "first edit"
    first.save(qb=qbo)
    second.Notes = "second edit"
    with pytest.raises(QuickbooksException) as error:
        second.save(qb=qbo)
    assert error.value.error_code == 5010


def test_it_refuses_a_duplicate_display_name(qbo):
    customer(qbo, "Bob Builder")
    with pytest.raises(QuickbooksException) as error:
        customer(qbo, "bob builder")
    assert error.value.error_code == 6240


def test_it_computes_invoice_lines_and_totals(qbo):
    inv = invoice(qbo, customer(qbo), service_item(qbo), qty="3", price="99.99")
    assert inv.TotalAmt == Decimal("299.97") and inv.Balance == Decimal("299.97")
    assert inv.DocNumber, "QBO numbers the invoice when no DocNumber is given"
    assert inv.Line[-1].DetailType == "SubTotalLineDetail"
    read = Invoice.get(inv.Id, qb=qbo)
    assert read.DueDate and read.TxnDate


def test_it_refuses_a_duplicate_doc_number(qbo):
    who, item = customer(qbo), service_item(qbo)
    invoice(qbo, who, item, doc="SF-1001")
    with pytest.raises(QuickbooksException) as error:
        invoice(qbo, who, item, doc="SF-1001")
    assert error.value.error_code == 6140
    assert "DocNumber=SF-1001" in error.value.detail


def test_it_accepts_a_repeated_doc_number_with_custom_numbers_on(qbo, sandbox_url):
    import requests

    requests.patch(
        f"{sandbox_url}/control/quickbooks/companies/{qbo.realm['realm_id']}",
        json={"custom_txn_numbers": True},
        timeout=10,
    ).raise_for_status()
    who, item = customer(qbo), service_item(qbo)
    first = invoice(qbo, who, item, doc="SF-2002")
    second = invoice(qbo, who, item, doc="SF-2002")
    assert first.Id != second.Id and first.DocNumber == second.DocNumber


def test_it_refuses_a_doc_number_over_21_characters(qbo):
    with pytest.raises(ValidationException) as error:
        invoice(qbo, customer(qbo), service_item(qbo), doc="X" * 22)
    assert error.value.error_code == 2050


def test_it_refuses_an_unknown_customer_reference(qbo):
    ghost = Customer()
    ghost.Id = "9999"
    ghost.DisplayName = "Ghost"
    with pytest.raises(ValidationException) as error:
        invoice(qbo, ghost, service_item(qbo))
    assert error.value.error_code == 2500
