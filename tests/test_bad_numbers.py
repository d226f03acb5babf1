"""One bad number never stops a client: a CRM quantity, price or amount that is no number
(planted in the HubSpot emulator through the official client, which keeps property values
as strings) holds that one deal with its reason, while the sync invoices the others and
reconciliation finishes and says what it left out."""

from datetime import date
from decimal import Decimal

from reconciliation.models import Finding, ReconStatus
from reconciliation.run import reconcile
from sync.customers import run_customer_sync
from sync.models import InvoiceLink, InvoiceState

from . import test_invoice_sync
from .sandbox.conftest import sandbox_db
from .sync_support import LINE_ITEM_TO_DEAL, _to
from .test_invoice_sync import LINES, invoice_for

pytestmark = sandbox_db
books = test_invoice_sync.books  # the fixture: imported and invoicing, one customer


def deal_with_line(systems, name: str, quantity: str, price: str) -> str:
    """A deal whose one line item carries these values exactly as typed in the CRM."""
    deal = systems.deal(name, [], company=systems.books_company)
    systems.hubspot.crm.line_items.batch_api.create(
        {
            "inputs": [
                {
                    "properties": {"name": "Gutter install", "hs_sku": "GT-INST",
                                   "quantity": quantity, "price": price},
                    "associations": [_to(deal, LINE_ITEM_TO_DEAL)],
                }
            ]
        }
    )  # fmt: skip
    return deal


def test_a_deal_with_a_bad_number_is_held_and_the_others_are_invoiced(books):
    good = books.deal("Roof job", LINES, company=books.books_company)
    bad = {
        deal_with_line(books, "NaN quantity", "NaN", "12.50"): "quantity 'NaN' is not a number",
        deal_with_line(books, "Comma price", "40", "12,50"): (
            "price '12,50' uses a comma; HubSpot numbers use a point"
        ),
        deal_with_line(books, "Huge price", "1", "1e309"): "price '1e309' is too large",
    }
    for deal in [good, *bad]:
        books.win(deal)

    run = run_customer_sync(books.client)

    assert run.status == "attention", run.error
    assert invoice_for(books, good) is not None
    assert len(books.invoices()) == 1
    held = {o.crm_id: o.reason for o in run.outcomes.filter(crm_type="deals", outcome="held")}
    for deal, reason in bad.items():
        assert "could not be read: line item" in held.get(deal, ""), (deal, held)
        assert reason in held[deal]
        link = InvoiceLink.objects.get(client=books.client, deal_id=deal)
        assert link.state == InvoiceState.HELD and reason in link.reason  # the review queue

    again = run_customer_sync(books.client, full=True)
    assert again.status == "attention", again.error
    assert len(books.invoices()) == 1


def plant_huge_invoice(systems, like, number: str) -> str:
    """An invoice of 1,000,000,000,000.00 in the books (the emulator keeps it; QuickBooks'
    own limit is ten digits before the point), for the customer and item of `like`."""
    from quickbooks.objects.detailline import SalesItemLine, SalesItemLineDetail
    from quickbooks.objects.invoice import Invoice as QboInvoice

    line = SalesItemLine()
    line.Amount = Decimal("1000000000000.00")
    line.SalesItemLineDetail = SalesItemLineDetail()
    line.SalesItemLineDetail.ItemRef = {"value": like.Line[0].SalesItemLineDetail.ItemRef.value}
    invoice = QboInvoice()
    invoice.CustomerRef = {"value": like.CustomerRef.value}
    invoice.DocNumber, invoice.TxnDate, invoice.Line = number, "2026-11-21", [line]
    return str(invoice.save(qb=systems.qb).Id)


def test_unreadable_records_leave_sync_and_reconciliation_finished_and_saying_so(books):
    good = books.deal("Roof job", LINES, company=books.books_company)
    huge = books.deal("Huge job", LINES, company=books.books_company)
    other = books.deal("Other job", LINES, company=books.books_company)
    books.win(good)
    run_customer_sync(books.client)
    books.hubspot.crm.deals.basic_api.update(
        huge, {"properties": {"amount": "1e309", "dealstage": "closedwon"}}
    )
    # The books already hold an invoice with the other deal's number that cannot be read.
    huge_invoice = plant_huge_invoice(books, invoice_for(books, good), f"SF-{other}")
    books.win(other)

    run = run_customer_sync(books.client)  # reads the new invoice among the books' changes

    assert run.status == "attention", run.error
    held = run.outcomes.get(accounting_id=huge_invoice, outcome="held")
    assert held.name == f"invoice SF-{other}"
    assert "could not be read: line amount 1000000000000.00 is too large" in held.reason
    assert "amount '1e309' is too large" in run.outcomes.get(crm_id=huge).reason
    assert InvoiceLink.objects.get(deal_id=other).state == InvoiceState.HELD  # no 2nd invoice
    assert len(books.invoices()) == 2

    recon = reconcile(books.client, date(2026, 11, 1))

    assert recon.status == ReconStatus.PARTIAL, recon.error
    assert recon.counts["unreadable"] == 3
    assert recon.counts["won_deals"] == 1 and recon.counts["invoices"] == 1
    said = " ".join(recon.not_checked)
    assert "3 record(s) could not be read and were left out" in said
    assert "deal “Huge job” could not be read: amount '1e309' is too large" in said
    assert f"invoice {huge_invoice} (SF-{other}) could not be read" in said
    # Not "missing its invoice": that finding's fix would write a second one.
    assert f"deal “Other job”: its invoice SF-{other} could not be read" in said
    left_out = Finding.objects.filter(client=books.client)
    assert not left_out.filter(deal_id__in=[huge, other]).exists()
    assert not left_out.filter(invoice_ids__contains=[huge_invoice]).exists()
    # Nor a customer balance "differing" by the records left out of both sides.
    assert "customer balances: not compared, records were left out" in said
    assert not left_out.filter(code="balance_mismatch", deal_id="").exists()


def test_a_write_of_unknown_outcome_that_finds_its_number_unreadable_is_not_sent_again(books):
    good = books.deal("Roof job", LINES, company=books.books_company)
    books.win(good)
    run_customer_sync(books.client)
    lost = books.deal("Lost answer", LINES, company=books.books_company)
    # A worker was killed after sending this deal's invoice; the books hold an invoice with
    # its number that syncfirm cannot read.
    InvoiceLink.objects.create(
        client=books.client, deal_id=lost, state=InvoiceState.WRITING, doc_number=f"SF-{lost}",
        attempts=1,
    )  # fmt: skip
    plant_huge_invoice(books, invoice_for(books, good), f"SF-{lost}")
    books.quickbooks_settings(custom_txn_numbers=True)  # a repeated number is not refused
    books.win(lost)

    run = run_customer_sync(books.client)

    assert run.status == "attention", run.error
    link = InvoiceLink.objects.get(deal_id=lost)
    assert link.state == InvoiceState.UNCERTAIN, link.reason
    assert f"(SF-{lost}) could not be read: line amount" in link.reason
    assert len(books.invoices()) == 2  # the good one and the unreadable one; none written
