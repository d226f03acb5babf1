"""The sandbox page's QuickBooks control: an invoice keyed again by hand, as a bookkeeper
does by mistake (the demo's way to see a duplicate flagged by the next sync)."""

from decimal import Decimal

from django.test import Client
from django.urls import reverse
from quickbooks.objects.invoice import Invoice

from tests.sandbox.conftest import sandbox_db

from .conftest import customer, invoice, service_item

pytestmark = sandbox_db


def test_an_invoice_keyed_again_is_a_copy_under_its_own_number(qbo):
    ann = customer(qbo)
    original = invoice(qbo, ann, service_item(qbo), qty="3", doc="SF-1001")
    page = Client()
    assert "SF-1001" in page.get(reverse("sandbox_controls")).content.decode()

    answer = page.post(
        reverse("sandbox_controls_quickbooks_key_again", args=[qbo.realm["realm_id"]]),
        {"invoice": original.Id},
        follow=True,
    )

    invoices = Invoice.all(qb=qbo)
    assert len(invoices) == 2
    copy = next(i for i in invoices if i.Id != original.Id)
    assert copy.CustomerRef.value == ann.Id and copy.TxnDate == original.TxnDate
    assert Decimal(copy.TotalAmt) == Decimal(original.TotalAmt) == Decimal("450.00")
    assert copy.DocNumber and copy.DocNumber != "SF-1001"
    assert f"Invoice {copy.DocNumber} keyed by hand" in answer.content.decode()


def test_an_unknown_invoice_is_refused_in_words_and_nothing_is_made(qbo):
    page = Client()
    answer = page.post(
        reverse("sandbox_controls_quickbooks_key_again", args=[qbo.realm["realm_id"]]),
        {"invoice": "999999"},
        follow=True,
    )
    assert "QuickBooks refused the copy" in answer.content.decode()
    assert Invoice.all(qb=qbo) == []
