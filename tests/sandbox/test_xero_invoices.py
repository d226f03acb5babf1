"""Xero sales invoices through xero-python: numbers, tax per line, statuses, batches,
idempotency keys and list filters."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
import requests
from django.utils import timezone
from xero_python.accounting import Contact, Invoice, Invoices, LineItem
from xero_python.exceptions import AccountingBadRequestException

from sandbox.xero.models import IdempotencyRecord, Record
from tests.sandbox.conftest import sandbox_db

pytestmark = sandbox_db


def draft(
    number: str | None = None, amount: str = "100.00", status: str = "DRAFT", **fields
) -> Invoice:
    return Invoice(
        type="ACCREC",
        contact=Contact(name="Ann Lee"),
        date=date(2026, 11, 2),
        due_date=date(2026, 12, 2),
        invoice_number=number,
        status=status,
        line_items=[
            LineItem(description="Roof repair", quantity=1, unit_amount=amount, tax_type="NONE")
        ],
        **fields,
    )


def put(xero, *invoices: Invoice, **options) -> list[Invoice]:
    return xero.create_invoices(xero.tenant, Invoices(invoices=list(invoices)), **options).invoices


def count_invoices() -> int:
    return Record.objects.filter(kind="Invoice").count()


def test_it_numbers_sales_invoices_and_refuses_a_number_taken(xero):
    first, second = put(xero, draft(), draft())
    assert (first.invoice_number, second.invoice_number) == ("INV-0001", "INV-0002")
    assert first.date == date(2026, 11, 2)  # /Date(ms+0000)/ read back by the SDK
    put(xero, draft("D-42", reference="deal 42"))
    with pytest.raises(AccountingBadRequestException) as refused:
        put(xero, draft("D-42"))
    assert refused.value.reason == "Invoice # must be unique."
    assert count_invoices() == 3
    found = xero.get_invoices(xero.tenant, invoice_numbers=["D-42"]).invoices
    assert [i.reference for i in found] == ["deal 42"]


def test_it_rounds_tax_per_line_before_summing(xero):
    lines = [
        LineItem(description=f"Part {n}", quantity=1, unit_amount="1.03", tax_type="OUTPUT")
        for n in range(2)
    ]
    (invoice,) = put(
        xero, Invoice(type="ACCREC", contact=Contact(name="Ann Lee"), line_items=lines)
    )
    # 15% of 1.03 is 0.1545 → 0.15 a line; on the whole 2.06 it would be 0.31.
    assert [li.tax_amount for li in invoice.line_items] == [Decimal("0.15")] * 2
    assert Decimal(str(invoice.total_tax)) == Decimal("0.30")
    assert Decimal(str(invoice.total)) == Decimal("2.36")


def test_it_reports_each_element_with_summarize_errors_false(xero):
    put(xero, draft("D-1"))
    results = put(xero, draft("D-2"), draft("D-1"), summarize_errors=False)
    assert [r.status_attribute_string for r in results] == ["OK", "ERROR"]
    assert results[1].validation_errors[0].message == "Invoice # must be unique."
    assert count_invoices() == 2


def test_it_rolls_back_the_whole_batch_when_errors_are_summarized(xero):
    put(xero, draft("D-1"))
    with pytest.raises(AccountingBadRequestException):
        put(xero, draft("D-2"), draft("D-1"))
    assert count_invoices() == 1


def test_it_replays_an_idempotency_key_and_creates_nothing_more(xero):
    (first,) = put(xero, draft("D-7"), idempotency_key="deal-7")
    (again,) = put(xero, draft("D-7"), idempotency_key="deal-7")
    assert again.invoice_id == first.invoice_id
    assert count_invoices() == 1
    with pytest.raises(AccountingBadRequestException) as refused:
        put(xero, draft("D-8"), idempotency_key="deal-7")
    assert "is used with a different request" in refused.value.reason


def test_it_replays_an_error_too(xero):
    put(xero, draft("D-1"))
    for _ in range(2):
        with pytest.raises(AccountingBadRequestException):
            put(xero, draft("D-1"), idempotency_key="same")


def test_it_moves_through_the_allowed_statuses_only(xero):
    (invoice,) = put(xero, draft())
    update = xero.update_invoice
    update(xero.tenant, invoice.invoice_id, Invoices(invoices=[Invoice(status="SUBMITTED")]))
    update(xero.tenant, invoice.invoice_id, Invoices(invoices=[Invoice(status="AUTHORISED")]))
    with pytest.raises(AccountingBadRequestException):
        update(xero.tenant, invoice.invoice_id, Invoices(invoices=[Invoice(status="DELETED")]))
    voided = update(xero.tenant, invoice.invoice_id, Invoices(invoices=[Invoice(status="VOIDED")]))
    assert voided.invoices[0].status == "VOIDED"
    with pytest.raises(AccountingBadRequestException) as refused:
        update(xero.tenant, invoice.invoice_id, Invoices(invoices=[Invoice(reference="again")]))
    assert refused.value.reason == "Invoice not of valid status for modification"


def test_it_deletes_a_draft_but_keeps_its_number_taken(xero):
    (invoice,) = put(xero, draft("D-9"))
    xero.update_invoice(
        xero.tenant, invoice.invoice_id, Invoices(invoices=[Invoice(status="DELETED")])
    )
    assert xero.get_invoices(xero.tenant, statuses=["DELETED"]).invoices[0].invoice_number == "D-9"
    with pytest.raises(AccountingBadRequestException):
        put(xero, draft("D-9"))


def test_it_filters_invoices_with_where_and_pages_with_lines(xero):
    put(xero, draft("A-1", "50.00"), draft("A-2", "150.00"), draft("A-3", "250.00", "AUTHORISED"))
    found = xero.get_invoices(xero.tenant, where='Status=="DRAFT" AND Total>=100')
    assert [i.invoice_number for i in found.invoices] == ["A-2"]
    paged = xero.get_invoices(xero.tenant, page=1, page_size=2, order="InvoiceNumber DESC")
    assert [i.invoice_number for i in paged.invoices] == ["A-3", "A-2"]
    assert paged.invoices[0].line_items[0].description == "Roof repair"


def test_it_requires_a_contact(xero, sandbox_url):
    org = xero.org
    answer = requests.put(
        f"{sandbox_url}/xero/api.xro/2.0/Invoices",
        json={"Invoices": [{"Type": "ACCREC", "LineItems": [{"Description": "x"}]}]},
        headers={
            "Authorization": f"Bearer {org['access_token']}",
            "xero-tenant-id": org["tenant_id"],
        },
        timeout=10,
    )
    assert answer.status_code == 400
    message = answer.json()["Elements"][0]["ValidationErrors"][0]["Message"]
    assert message.startswith("The Contact must contain at least 1 of the following elements")


def test_it_treats_a_key_older_than_six_minutes_as_new(xero):
    put(xero, draft(), idempotency_key="deal-7")
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(minutes=7))
    put(xero, draft(), idempotency_key="deal-7")
    assert count_invoices() == 2


def test_it_leaves_line_items_out_of_unpaged_invoice_lists(xero):
    (invoice,) = put(xero, draft())
    assert xero.get_invoices(xero.tenant).invoices[0].line_items in (None, [])
    assert xero.get_invoice(xero.tenant, invoice.invoice_id).invoices[0].line_items
