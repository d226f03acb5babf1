"""A generated book written into a Xero organisation with xero-python."""

from decimal import Decimal

from sandbox.generator import generate
from sandbox.xero.seed_book import write_xero_book, xero_api
from tests.sandbox.conftest import sandbox_db

pytestmark = sandbox_db


def test_it_writes_the_book_into_a_xero_organisation(live_server):
    base = live_server.url
    book = generate(40, seed=11)
    written = write_xero_book(book, base, "Seeded Xero Co")
    api = xero_api(base, written.tokens)
    invoices = api.get_invoices(written.tenant_id, page=1, page_size=1000).invoices
    assert sorted(i.invoice_number for i in invoices) == sorted(i.doc_number for i in book.invoices)
    assert len(api.get_contacts(written.tenant_id).contacts) == len(book.people)
    paid_in_full = {key for p in book.payments for key, _ in p.applied}
    by_id = {str(i.invoice_id): i for i in invoices}
    for invoice in book.invoices:
        total = sum((ln.quantity * ln.unit_price for ln in invoice.lines), Decimal("0"))
        assert Decimal(str(by_id[written.ids[invoice.key]].total)) == total.quantize(
            Decimal("0.01")
        )
    assert any(by_id[written.ids[k]].amount_paid for k in paid_in_full)
    notes = api.get_credit_notes(written.tenant_id).credit_notes
    assert len(notes) == len(book.credit_memos)
    duplicate = next(p for p in written.answer_key if p["code"] == "duplicate_invoice")
    first, second = (by_id[i] for i in duplicate["invoice_ids"])
    assert first.total == second.total and first.contact.contact_id == second.contact.contact_id


def test_a_book_on_xero_and_hubspot_names_each_deal_as_sync_would(live_server):
    """The demo's Xero client: the CRM written first, each Xero invoice's Reference names
    its HubSpot deal, and the planted findings come back in Xero and HubSpot ids."""
    from hubspot import HubSpot

    from sandbox.seed_book import write_book_on_xero

    base = live_server.url
    book = generate(20, seed=5)
    written = write_book_on_xero(book, base, "Xero and HubSpot Co")
    assert written.books == "xero"
    api = xero_api(base, written.quickbooks_tokens)
    invoices = {
        str(i.invoice_id): i
        for i in api.get_invoices(written.realm_id, page=1, page_size=1000).invoices
    }
    hubspot = HubSpot(
        access_token=written.hubspot_tokens["access_token"], host=f"{base}/sandbox/hubspot"
    )
    for invoice in (i for i in book.invoices if i.deal_key):
        deal_id = written.ids[invoice.deal_key]
        assert invoices[written.ids[invoice.key]].reference == f"HubSpot deal {deal_id}"
        assert hubspot.crm.deals.basic_api.get_by_id(deal_id).id == deal_id
    duplicate = next(p for p in written.answer_key if p["code"] == "duplicate_invoice")
    assert all(i in invoices for i in duplicate["invoice_ids"]) and duplicate["customer_id"]
