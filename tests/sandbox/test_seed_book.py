"""A generated book written through the emulators' APIs with the official clients."""

from collections import Counter
from decimal import Decimal

from hubspot import HubSpot
from quickbooks.objects.customer import Customer
from quickbooks.objects.invoice import Invoice

from sandbox.generator import generate
from sandbox.seed_book import quickbooks_client, write_book
from tests.sandbox.conftest import sandbox_db

pytestmark = sandbox_db


def test_it_writes_the_book_into_both_systems(live_server):
    base = live_server.url
    book = generate(40, seed=11)
    written = write_book(book, base, "Seeded Co")
    qb = quickbooks_client(base, written.realm_id, written.quickbooks_tokens)
    assert Invoice.count(qb=qb) == len(book.invoices)
    assert Customer.count(qb=qb) == len(book.people)
    duplicate = next(p for p in written.answer_key if p["code"] == "duplicate_invoice")
    first, second = (Invoice.get(i, qb=qb) for i in duplicate["invoice_ids"])
    assert first.TotalAmt == second.TotalAmt and first.CustomerRef.value == second.CustomerRef.value
    stale = next(p for p in written.answer_key if p["code"] == "stale_open_invoice")
    stale_invoice = Invoice.get(stale["invoice_ids"][0], qb=qb)
    assert stale_invoice.Balance == stale_invoice.TotalAmt == Decimal(stale["amount"])

    api = HubSpot(
        access_token=written.hubspot_tokens["access_token"], host=f"{base}/sandbox/hubspot"
    )
    deals = api.crm.deals.get_all(properties=["dealstage", "syncfirm_payment_status"])
    assert len(deals) == len(book.deals)
    assert Counter(d.properties["dealstage"] for d in deals)["closedwon"] == sum(
        d.stage == "closedwon" for d in book.deals
    )
    missing = next(p for p in written.answer_key if p["code"] == "missing_invoice")
    assert missing["deal_id"] and missing["invoice_ids"] == []
    paid = next(p for p in written.answer_key if p["code"] == "paid_but_open")
    deal = api.crm.deals.basic_api.get_by_id(
        paid["deal_id"], properties=["syncfirm_payment_status"]
    )
    assert deal.properties["syncfirm_payment_status"] == "paid"
    assert Invoice.get(paid["invoice_ids"][0], qb=qb).Balance > 0
