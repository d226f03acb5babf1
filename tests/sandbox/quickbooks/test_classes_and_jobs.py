"""Classes and job sub-customers in the QuickBooks emulator, through python-quickbooks over
HTTP: names unique as for other name lists, ClassRef kept on lines and refused when it names
no class, sub-customers under a parent whose balance holds theirs."""

import json
from decimal import Decimal

import pytest
from quickbooks.exceptions import QuickbooksException
from quickbooks.objects.customer import Customer
from quickbooks.objects.trackingclass import Class

from tests.sandbox.conftest import sandbox_db

from .conftest import customer, invoice, service_item

pytestmark = sandbox_db


def new_class(qbo, name: str, parent: Class | None = None) -> Class:
    made = Class()
    made.Name = name
    if parent is not None:
        made.ParentRef = parent.to_ref()
    return made.save(qb=qbo)


def with_class(qbo, ref: dict) -> dict:
    who, item = customer(qbo, "Cedar Roofing"), service_item(qbo)
    line = {"Amount": "150.00", "DetailType": "SalesItemLineDetail",
            "SalesItemLineDetail": {"ItemRef": {"value": item.Id}, "ClassRef": ref}}  # fmt: skip
    body = {"CustomerRef": {"value": who.Id}, "Line": [line]}
    url = f"{qbo.api_url}/company/{qbo.company_id}/invoice"
    return qbo.make_request("POST", url, json.dumps(body))


def test_it_creates_reads_and_finds_a_class_by_name(qbo):
    made = new_class(qbo, "Job #57 - Kitchen remodel")
    read = Class.get(made.Id, qb=qbo)
    assert (read.Name, read.FullyQualifiedName, read.Active) == (
        "Job #57 - Kitchen remodel", "Job #57 - Kitchen remodel", True,
    )  # fmt: skip
    assert [c.Id for c in Class.where("Name = 'Job #57 - Kitchen remodel'", qb=qbo)] == [made.Id]
    sub = new_class(qbo, "Phase 1", parent=made)
    assert Class.get(sub.Id, qb=qbo).FullyQualifiedName == "Job #57 - Kitchen remodel:Phase 1"


def test_it_refuses_a_class_name_taken_or_too_long(qbo):
    new_class(qbo, "Job #57")
    with pytest.raises(QuickbooksException) as error:
        new_class(qbo, "job #57")
    assert error.value.error_code == 6240
    with pytest.raises(QuickbooksException) as error:
        new_class(qbo, "x" * 101)
    assert error.value.error_code == 2050


def test_an_invoice_line_keeps_its_class_by_id_and_full_name(qbo):
    made = new_class(qbo, "Job #57")
    answer = with_class(qbo, {"value": made.Id})
    detail = answer["Invoice"]["Line"][0]["SalesItemLineDetail"]
    assert detail["ClassRef"] == {"value": made.Id, "name": "Job #57"}


def test_an_invoice_line_naming_no_class_is_refused(qbo):
    with pytest.raises(QuickbooksException) as error:
        with_class(qbo, {"value": "4242"})
    assert error.value.error_code == 2500


def test_a_sub_customers_invoices_count_in_its_parents_balance_with_jobs(qbo):
    parent = customer(qbo, "Cedar Roofing")
    job = Customer()
    job.DisplayName, job.ParentRef = "Job #57", parent.to_ref()
    job = job.save(qb=qbo)
    assert (job.Job, job.FullyQualifiedName) == (True, "Cedar Roofing:Job #57")
    invoice(qbo, job, service_item(qbo), qty="2", price="150.00")
    parent, job = Customer.get(parent.Id, qb=qbo), Customer.get(job.Id, qb=qbo)
    assert Decimal(str(job.Balance)) == Decimal(str(job.BalanceWithJobs)) == Decimal("300.00")
    assert Decimal(str(parent.Balance)) == 0
    assert Decimal(str(parent.BalanceWithJobs)) == Decimal("300.00")
    assert [c.Id for c in Customer.where("Job = true", qb=qbo)] == [job.Id]


def test_a_sub_customer_of_no_customer_is_refused(qbo):
    job = Customer()
    job.DisplayName, job.ParentRef = "Job #57", {"value": "4242"}
    with pytest.raises(QuickbooksException) as error:
        job.save(qb=qbo)
    assert error.value.error_code == 2500
