"""python-quickbooks, unmodified, against the QuickBooks emulator over HTTP."""

from decimal import Decimal

import pytest
import requests
from quickbooks.exceptions import (
    ObjectNotFoundException,
    QuickbooksException,
    ValidationException,
)
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
    first = invoice(qbo, who, item, doc="SF-1001")
    with pytest.raises(QuickbooksException) as error:
        invoice(qbo, who, item, doc="SF-1001")
    assert error.value.error_code == 6140
    assert f"DocNumber=SF-1001 is assigned to TxnType=Invoice with TxnId={first.Id}" in (
        error.value.detail
    )
    assert Invoice.count("DocNumber = 'SF-1001'", qb=qbo) == 1


def test_it_accepts_a_repeated_doc_number_with_custom_numbers_on(qbo, sandbox_url):
    requests.patch(
        f"{sandbox_url}/control/quickbooks/companies/{qbo.realm['realm_id']}",
        json={"custom_txn_numbers": True},
        timeout=10,
    ).raise_for_status()
    who, item = customer(qbo), service_item(qbo)
    first = invoice(qbo, who, item, doc="SF-2002")
    second = invoice(qbo, who, item, doc="SF-2002")
    assert first.Id != second.Id and first.DocNumber == second.DocNumber == "SF-2002"


def test_it_accepts_a_duplicate_doc_number_when_the_uri_allows_it(qbo, sandbox_url):
    who, item = customer(qbo), service_item(qbo)
    first = invoice(qbo, who, item, doc="SF-3003")
    again = Invoice.get(first.Id, qb=qbo)
    again.Id, again.SyncToken = None, 0
    response = requests.post(
        f"{sandbox_url}/quickbooks/v3/company/{qbo.realm['realm_id']}/invoice",
        params={"include": "allowduplicatedocnum", "minorversion": "75"},
        data=again.to_json(),
        headers={
            "Authorization": f"Bearer {qbo.realm['access_token']}",
            "Content-Type": "application/json",
        },
        timeout=10,
    )
    assert response.status_code == 200, response.text
    second = response.json()["Invoice"]
    assert second["DocNumber"] == "SF-3003" and second["Id"] != first.Id


def test_it_numbers_documents_past_numbers_already_taken(qbo):
    who, item = customer(qbo), service_item(qbo)
    invoice(qbo, who, item, doc="1001")
    assert invoice(qbo, who, item).DocNumber == "1002"


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


def raw(qbo, sandbox_url: str, path: str, body: dict, **params) -> requests.Response:
    return requests.post(
        f"{sandbox_url}/quickbooks/v3/company/{qbo.realm['realm_id']}/{path}",
        params={"minorversion": "75", **params},
        json=body,
        headers={"Authorization": f"Bearer {qbo.realm['access_token']}"},
        timeout=10,
    )


def test_it_deactivates_a_customer_rather_than_deleting_it(qbo, sandbox_url):
    made = customer(qbo, "Retiring Rita")
    refused = raw(
        qbo, sandbox_url, "customer", {"Id": made.Id, "SyncToken": "0"}, operation="delete"
    )
    assert refused.status_code == 400
    assert refused.json()["Fault"]["Error"][0]["code"] == "6000"
    gone = raw(
        qbo,
        sandbox_url,
        "customer",
        {"Id": made.Id, "SyncToken": "0", "sparse": True, "Active": False},
    ).json()["Customer"]
    assert gone["Active"] is False and gone["SyncToken"] == "1"
    assert Customer.get(made.Id, qb=qbo).Active is False, "still readable by id"
    assert Customer.all(qb=qbo) == []


def test_it_changes_only_the_fields_a_sparse_update_sends(qbo, sandbox_url):
    made = customer(qbo, "Sparse Sue")
    body = {"Id": made.Id, "SyncToken": "0", "sparse": True, "CompanyName": "Sue & Co"}
    updated = raw(qbo, sandbox_url, "customer", body).json()["Customer"]
    assert updated["DisplayName"] == "Sparse Sue" and updated["CompanyName"] == "Sue & Co"
    full = {"Id": made.Id, "SyncToken": "1", "sparse": False, "DisplayName": "Sparse Sue"}
    replaced = raw(qbo, sandbox_url, "customer", full).json()["Customer"]
    assert "CompanyName" not in replaced, "a full update replaces the whole object"


def test_it_ignores_read_only_totals_and_blank_strings_the_client_sends(qbo, sandbox_url):
    who, item = customer(qbo), service_item(qbo)
    body = {
        "CustomerRef": {"value": who.Id},
        "TotalAmt": 999,
        "Balance": 5,
        "TxnDate": "",
        "DueDate": "",
        "DocNumber": "",
        "Line": [
            {
                "Amount": 0.1,
                "DetailType": "SalesItemLineDetail",
                "SalesItemLineDetail": {"ItemRef": {"value": item.Id}, "Qty": 0, "UnitPrice": 0},
            },
            {
                "Amount": 0.2,
                "DetailType": "SalesItemLineDetail",
                "SalesItemLineDetail": {"ItemRef": {"value": item.Id}, "Qty": 2, "UnitPrice": 0.1},
            },
        ],
    }
    made = raw(qbo, sandbox_url, "invoice", body).json()["Invoice"]
    assert made["TotalAmt"] == 0.3 and made["Balance"] == 0.3, "Decimal sums, not float"
    assert made["Line"][-1] == {
        "Amount": 0.3,
        "DetailType": "SubTotalLineDetail",
        "SubTotalLineDetail": {},
    }
    assert made["TxnDate"] and made["DueDate"] and made["DocNumber"]
    assert made["Id"].isdigit() and made["SyncToken"] == "0"
    assert set(made["MetaData"]) == {"CreateTime", "LastUpdatedTime"}
    assert made["domain"] == "QBO" and made["sparse"] is False


def test_it_refuses_an_invoice_without_lines_with_2020(qbo):
    inv = Invoice()
    inv.CustomerRef = customer(qbo).to_ref()
    with pytest.raises(ValidationException) as error:
        inv.save(qb=qbo)
    assert error.value.error_code == 2020


def test_it_answers_610_for_an_object_that_does_not_exist(qbo):
    with pytest.raises(ObjectNotFoundException) as error:
        Customer.get("424242", qb=qbo)
    assert error.value.error_code == 610


def test_it_refuses_a_duplicate_item_name(qbo):
    service_item(qbo, "Chimney sweep")
    with pytest.raises(QuickbooksException) as error:
        service_item(qbo, "Chimney sweep")
    assert error.value.error_code == 6240
