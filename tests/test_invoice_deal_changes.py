"""A won deal that changes after it was invoiced is noticed by the next sync: the unpaid
invoice is corrected when the client's rule says so, otherwise (or when anything is paid,
or the amount alone moved) one review item says what the deal says now against what was
invoiced. The HubSpot and QuickBooks emulators over HTTP, through the official clients."""

import time
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from clients.models import AuditEntry
from connections import retries
from connections.quickbooks.adapter import QuickBooksAdapter
from sync.customers import run_customer_sync
from sync.models import (
    ConflictKind,
    ConflictStatus,
    InvoiceLink,
    IssuedInvoiceChanges,
    RunKind,
    SyncConflict,
    SyncSettings,
)

from .sandbox.conftest import sandbox_db
from .sync_support import LINE_ITEM_TO_DEAL, _to
from .test_invoice_sync import invoice_for

pytestmark = sandbox_db

FIRST_TWO = [("Framing", "FR-1", "1", "1500.00"), ("Drywall", "DW-1", "1", "900.00")]
THIRD = ("Painting", "PT-1", "1", "900.00")


def sales_lines(invoice) -> list[tuple[str, Decimal]]:
    return sorted(
        (line.Description, line.Amount)
        for line in invoice.Line
        if line.DetailType == "SalesItemLineDetail"
    )


def add_line(systems, deal: str, name: str, sku: str, quantity: str, price: str) -> str:
    made = systems.hubspot.crm.line_items.batch_api.create(
        {
            "inputs": [
                {
                    "properties": {"name": name, "hs_sku": sku, "quantity": quantity,
                                   "price": price},
                    "associations": [_to(deal, LINE_ITEM_TO_DEAL)],
                }
            ]
        }
    )  # fmt: skip
    return made.results[0].id


def backdate(object_id: str, minutes: int) -> None:
    """A sandbox CRM record last modified `minutes` ago (tests run within the pull's
    two-minute overlap, which would bring back any deal changed during the test)."""
    from datetime import timedelta

    from sandbox.hubspot.api import iso
    from sandbox.hubspot.models import CrmObject

    record = CrmObject.objects.get(pk=int(object_id))
    record.updated_at = timezone.now() - timedelta(minutes=minutes)
    record.properties = {**record.properties, "hs_lastmodifieddate": iso(record.updated_at)}
    record.save(update_fields=["updated_at", "properties"])


def rule(systems, value: str) -> None:
    SyncSettings.objects.filter(client=systems.client).update(issued_invoice_changes=value)


@pytest.fixture
def books(systems):
    """Imported and invoicing (as in test_invoice_sync): a customer in both systems and an
    income account for new products."""
    systems.books_company = systems.company(name="Cedar Roofing", zip="78701")
    run_customer_sync(systems.client, kind=RunKind.IMPORT, full=True)
    return systems


@pytest.fixture
def short_invoice(books):
    """The issue's case: a deal moved to closed-won with 2 of its 3 lines attached (its
    amount already says 3,300.00) is invoiced for 2,400.00."""
    deal = books.deal("Kitchen remodel", FIRST_TWO, company=books.books_company)
    books.hubspot.crm.deals.basic_api.update(deal, {"properties": {"amount": "3300.00"}})
    books.win(deal)
    invoiced = run_customer_sync(books.client)
    assert invoice_for(books, deal).TotalAmt == Decimal("2400.00")
    assert invoiced.outcomes.get(crm_id=deal, side="accounting").reason.endswith(
        "for 2,400.00 USD from its lines; the deal's amount says 3,300.00 USD"
    )
    run_customer_sync(books.client)
    # The deal was last changed 10 minutes ago, behind the pull's cursor and its overlap:
    # only its new line item can bring it to the next sync.
    backdate(deal, minutes=10)
    books.writes()  # the log starts here
    books.short_deal = deal
    return books


def conflicts(deal: str):
    return SyncConflict.objects.filter(kind=ConflictKind.DEAL_CHANGED, crm_id=deal)


def test_with_the_update_rule_the_next_sync_corrects_the_unpaid_invoice_once(short_invoice):
    """GIVEN the client lets the CRM correct unpaid invoices, WHEN the third line is added
    in the CRM (the deal itself is not modified), THEN the next scheduled pull finds it
    through the line item and updates the invoice to 3 lines and 3,300.00, saying so;
    running again writes nothing more."""
    books, deal = short_invoice, short_invoice.short_deal
    rule(books, IssuedInvoiceChanges.UPDATE_UNPAID)
    add_line(books, deal, *THIRD)

    run = run_customer_sync(books.client)

    invoice = invoice_for(books, deal)
    assert invoice.TotalAmt == Decimal("3300.00")
    assert sorted(amount for _, amount in sales_lines(invoice)) == [
        Decimal("900.00"),
        Decimal("900.00"),
        Decimal("1500.00"),
    ]
    assert invoice.DocNumber == f"SF-{deal}" and invoice.TxnDate == "2026-11-20"
    updated = run.outcomes.get(crm_id=deal, outcome="updated", side="accounting")
    assert updated.reason == (f"Invoice SF-{deal} updated: 1 line added, 2,400.00 → 3,300.00 USD")
    assert run.counts["invoices_corrected"] == 1
    assert not conflicts(deal).exists()
    audited = AuditEntry.objects.filter(action="sync.invoice_updated")
    assert audited.count() == 1 and audited.get().after["total"] == "3300.00"
    assert books.writes() == 2  # the new product, then the invoice

    again = run_customer_sync(books.client)
    replay = run_customer_sync(books.client, crm_ids={"deals": [deal]})
    full = run_customer_sync(books.client, full=True)

    assert books.writes() == 0
    for later in (again, replay, full):
        assert later.counts.get("invoices_corrected", 0) == 0
    assert AuditEntry.objects.filter(action="sync.invoice_updated").count() == 1
    assert invoice_for(books, deal).TotalAmt == Decimal("3300.00")
    # The deal's balance follows the corrected invoice.
    assert Decimal(books.deal_properties(deal)["syncfirm_balance"]) == Decimal("3300.00")


def test_a_line_item_webhook_corrects_the_invoice_and_its_replay_writes_nothing(
    short_invoice, sandbox
):
    from connections.hubspot.subscriptions import ensure_subscriptions

    books, deal = short_invoice, short_invoice.short_deal
    rule(books, IssuedInvoiceChanges.UPDATE_UNPAID)
    SyncSettings.objects.filter(client=books.client).update(import_done_at=timezone.now())
    books.control(
        f"hubspot/portals/{books.hub_connection.external_id}",
        webhook_url=f"{sandbox}/webhooks/hubspot/",
    )
    ensure_subscriptions()

    line = add_line(books, deal, *THIRD)
    for _ in range(100):  # the sandbox delivers from a thread after its commit
        if invoice_for(books, deal).TotalAmt == Decimal("3300.00"):
            break
        time.sleep(0.1)
    books.settle()

    assert invoice_for(books, deal).TotalAmt == Decimal("3300.00")
    assert books.writes() == 2  # the new product, then the invoice
    # What the delivery asked for, asked again (a replayed delivery, a retried task).
    run_customer_sync(books.client, crm_ids={"line_items": [line]})
    run_customer_sync(books.client, crm_ids={"line_items": [line], "deals": [deal]})
    assert books.writes() == 0
    assert AuditEntry.objects.filter(action="sync.invoice_updated").count() == 1
    books.settle()


def test_by_default_the_change_is_raised_once_for_review_and_kept_or_approved(
    short_invoice, client, two_firms
):
    """GIVEN the default rule (the books own issued invoices), WHEN the third line is added,
    THEN one review item says what the deal says against what was invoiced, the invoice
    is untouched, and later syncs do not raise it again; a further change rewrites the
    same item; "Update the invoice" on the page corrects it."""
    books, deal = short_invoice, short_invoice.short_deal
    add_line(books, deal, *THIRD)

    run = run_customer_sync(books.client)

    item = conflicts(deal).get()
    assert item.status == ConflictStatus.OPEN
    assert "now add up to 3,300.00 USD (3 lines)" in item.reason
    assert "2,400.00 USD (2 lines)" in item.reason
    assert "1 line added (Painting: 1 x 900.00 USD)" in item.reason
    assert item.crm_value["lines total"] == "3,300.00 USD"
    assert item.accounting_value["lines total"] == "2,400.00 USD"
    assert run.outcomes.get(crm_id=deal).outcome == "held"
    assert invoice_for(books, deal).TotalAmt == Decimal("2400.00")
    assert books.writes() == 0

    later = [run_customer_sync(books.client) for _ in range(2)]
    later.append(run_customer_sync(books.client, full=True))
    later.append(run_customer_sync(books.client, crm_ids={"deals": [deal]}))
    assert conflicts(deal).count() == 1
    for quiet in later:
        assert not quiet.outcomes.filter(crm_id=deal).exists()
        assert quiet.counts.get("deal_changes_flagged", 0) == 0

    add_line(books, deal, "Cleanup", "CL-1", "2", "50.00")
    run_customer_sync(books.client)
    item = conflicts(deal).get()
    assert "3,400.00 USD (4 lines)" in item.reason and "2 lines added" in item.reason

    client.force_login(two_firms.accountant_a)
    page = client.get(reverse("client_sync", args=[books.client.slug]))
    assert b"Update the invoice to match the deal" in page.content
    assert b"Keep the invoice as issued" in page.content
    assert "↔ invoice".encode() in page.content
    assert b"_fingerprint" not in page.content
    client.post(
        reverse("client_sync_conflict", args=[books.client.slug, item.pk]),
        {"decision": "update"},
    )

    item.refresh_from_db()
    assert item.status == ConflictStatus.RESOLVED and item.resolution == "update"
    invoice = invoice_for(books, deal)
    assert invoice.TotalAmt == Decimal("3400.00") and len(sales_lines(invoice)) == 4
    assert books.writes() == 2  # the new products, then the invoice
    run_customer_sync(books.client)
    assert books.writes() == 0 and conflicts(deal).count() == 1


def test_keeping_the_invoice_is_not_asked_again_until_the_deal_changes(
    short_invoice, client, two_firms
):
    books, deal = short_invoice, short_invoice.short_deal
    add_line(books, deal, *THIRD)
    run_customer_sync(books.client)
    item = conflicts(deal).get()
    client.force_login(two_firms.accountant_a)

    client.post(
        reverse("client_sync_conflict", args=[books.client.slug, item.pk]),
        {"decision": "keep"},
    )

    item.refresh_from_db()
    assert item.status == ConflictStatus.RESOLVED and item.resolution == "keep"
    run_customer_sync(books.client, full=True)
    assert not conflicts(deal).filter(status=ConflictStatus.OPEN).exists()
    assert invoice_for(books, deal).TotalAmt == Decimal("2400.00")
    add_line(books, deal, "Cleanup", "CL-1", "1", "50.00")
    run_customer_sync(books.client)
    assert conflicts(deal).filter(status=ConflictStatus.OPEN).count() == 1


def test_a_paid_invoice_is_never_rewritten(short_invoice):
    books, deal = short_invoice, short_invoice.short_deal
    rule(books, IssuedInvoiceChanges.UPDATE_UNPAID)
    books.pay(invoice_for(books, deal), "100.00")
    run_customer_sync(books.client)  # the payment reaches the deal
    books.writes()
    add_line(books, deal, *THIRD)

    run_customer_sync(books.client)

    invoice = invoice_for(books, deal)
    assert invoice.TotalAmt == Decimal("2400.00") and len(sales_lines(invoice)) == 2
    assert books.writes() == 0
    item = conflicts(deal).get()
    assert "100.00 USD is already paid on invoice" in item.reason
    assert "a paid invoice is not rewritten" in item.reason
    run_customer_sync(books.client)
    assert conflicts(deal).count() == 1


def test_an_invoice_changed_in_the_books_too_is_left_for_review(short_invoice):
    books, deal = short_invoice, short_invoice.short_deal
    rule(books, IssuedInvoiceChanges.UPDATE_UNPAID)
    invoice = invoice_for(books, deal)
    first = next(line for line in invoice.Line if line.DetailType == "SalesItemLineDetail")
    first.SalesItemLineDetail.UnitPrice = Decimal("1600.00")
    first.Amount = Decimal("1600.00")
    invoice.save(qb=books.qb)
    books.writes()
    add_line(books, deal, *THIRD)

    run_customer_sync(books.client)

    assert invoice_for(books, deal).TotalAmt == Decimal("2500.00")
    assert books.writes() == 0
    assert "also changed in the books" in conflicts(deal).get().reason


def test_a_discount_given_in_the_books_is_kept_when_the_lines_are_corrected(short_invoice):
    """The accountant gave 10 % off the unpaid invoice; the deal's new line is added to it
    and the discount still applies: the books' own kind of line is not the deal's to drop."""
    books, deal = short_invoice, short_invoice.short_deal
    rule(books, IssuedInvoiceChanges.UPDATE_UNPAID)
    invoice = invoice_for(books, deal)
    invoice.Line = [
        *[line for line in invoice.Line if line.DetailType == "SalesItemLineDetail"],
        {
            "DetailType": "DiscountLineDetail",
            "Amount": "240.00",
            "DiscountLineDetail": {"PercentBased": True, "DiscountPercent": 10},
        },
    ]
    invoice.save(qb=books.qb)
    assert invoice_for(books, deal).TotalAmt == Decimal("2160.00")
    add_line(books, deal, *THIRD)

    run = run_customer_sync(books.client)

    invoice = invoice_for(books, deal)
    assert len(sales_lines(invoice)) == 3
    assert [line.DetailType for line in invoice.Line].count("DiscountLineDetail") == 1
    assert invoice.TotalAmt == Decimal("2970.00")
    assert run.counts["invoices_corrected"] == 1


def test_an_edit_in_the_books_between_read_and_write_is_read_again_not_overwritten(
    short_invoice, monkeypatch
):
    """The invoice's memo is edited in the books after sync read it: QuickBooks refuses the
    stale version, sync reads the invoice again, sees nothing it owns changed, and updates
    it once, keeping the memo."""
    books, deal = short_invoice, short_invoice.short_deal
    rule(books, IssuedInvoiceChanges.UPDATE_UNPAID)
    add_line(books, deal, *THIRD)
    replace = QuickBooksAdapter.replace_invoice_lines
    calls = []

    def edited_first(self, invoice_id, version, lines):
        if not calls:
            current = invoice_for(books, deal)
            current.CustomerMemo = {"value": "Thanks for your business"}
            current.save(qb=books.qb)
        calls.append(version)
        return replace(self, invoice_id, version, lines)

    monkeypatch.setattr(QuickBooksAdapter, "replace_invoice_lines", edited_first)

    run = run_customer_sync(books.client)

    assert len(calls) == 2 and calls[0] != calls[1]
    invoice = invoice_for(books, deal)
    assert invoice.TotalAmt == Decimal("3300.00")
    assert invoice.CustomerMemo.value == "Thanks for your business"
    assert run.counts["invoices_corrected"] == 1


def test_a_lost_answer_to_the_update_is_settled_by_reading_not_resending(
    short_invoice, monkeypatch
):
    books, deal = short_invoice, short_invoice.short_deal
    rule(books, IssuedInvoiceChanges.UPDATE_UNPAID)
    add_line(books, deal, *THIRD)
    replace = QuickBooksAdapter.replace_invoice_lines

    def answer_lost(self, *args):
        replace(self, *args)
        raise retries.Transient("connection reset")

    monkeypatch.setattr(QuickBooksAdapter, "replace_invoice_lines", answer_lost)
    first = run_customer_sync(books.client)
    monkeypatch.undo()
    assert first.outcomes.get(crm_id=deal, side="accounting").outcome == "failed"
    books.writes()

    second = run_customer_sync(books.client)  # the deal did not change since: looked at anyway

    assert books.writes() == 0
    assert invoice_for(books, deal).TotalAmt == Decimal("3300.00")
    found = second.outcomes.get(crm_id=deal, side="accounting")
    assert found.outcome == "updated" and "found in the books" in found.reason
    assert AuditEntry.objects.filter(action="sync.invoice_updated").count() == 1
    third = run_customer_sync(books.client)
    assert third.counts.get("invoices_corrected", 0) == 0
    assert not conflicts(deal).exists()


def test_an_update_the_books_refuse_goes_to_review_and_is_not_resent(short_invoice, monkeypatch):
    books, deal = short_invoice, short_invoice.short_deal
    rule(books, IssuedInvoiceChanges.UPDATE_UNPAID)
    add_line(books, deal, *THIRD)

    def refused(self, *args):
        raise retries.ProviderError("QuickBooks refused: Invalid Reference Id")

    monkeypatch.setattr(QuickBooksAdapter, "replace_invoice_lines", refused)
    run_customer_sync(books.client)
    monkeypatch.undo()

    item = conflicts(deal).get()
    assert "The books refused to update invoice" in item.reason
    assert "Invalid Reference Id" in item.reason
    books.writes()
    run_customer_sync(books.client)
    assert books.writes() == 0
    assert invoice_for(books, deal).TotalAmt == Decimal("2400.00")


def test_an_amount_raised_while_the_lines_stayed_is_flagged_even_under_the_update_rule(books):
    """The deal's amount goes up 20 % with its lines unchanged: the lines do not say which
    is right, so nothing is rewritten and one review item says so."""
    rule(books, IssuedInvoiceChanges.UPDATE_UNPAID)
    deal = books.deal("Deck", FIRST_TWO, company=books.books_company)
    books.win(deal)
    run_customer_sync(books.client)
    books.writes()
    books.hubspot.crm.deals.basic_api.update(deal, {"properties": {"amount": "2880.00"}})

    run_customer_sync(books.client)
    run_customer_sync(books.client)

    item = conflicts(deal).get()
    assert item.reason.startswith(
        "The deal's amount went from 2,400.00 USD to 2,880.00 USD while its lines stayed at "
        "2,400.00 USD"
    )
    assert "the lines do not say which is right" in item.reason
    assert invoice_for(books, deal).TotalAmt == Decimal("2400.00")
    assert books.writes() == 0

    # Put back, the deal matches its invoice again: the item closes itself.
    books.hubspot.crm.deals.basic_api.update(deal, {"properties": {"amount": "2400.00"}})
    run_customer_sync(books.client)
    item.refresh_from_db()
    assert item.status == ConflictStatus.RESOLVED


def test_the_settings_page_offers_the_rule(books, client, two_firms):
    client.force_login(two_firms.owner_a)
    url = reverse("client_sync_settings", args=[books.client.slug])
    page = client.get(url)
    assert b"When a won deal changes after it was invoiced" in page.content
    assert b"Ask for review" in page.content


def test_a_deal_invoiced_before_syncfirm_is_reviewed_never_rewritten(systems):
    """A deal won (and invoiced by hand) before invoicing started is history: its invoice is
    the books'. Seen again with its lines unchanged, it is quiet; given a new line, it is
    raised for review even when the client lets sync correct its own invoices."""
    from quickbooks.objects.invoice import Invoice as QboInvoice
    from quickbooks.objects.item import Item

    account = systems.qb.query("SELECT * FROM Account")["QueryResponse"]["Account"][0]["Id"]
    company = systems.company(name="Cedar Roofing", zip="78701")
    deal = systems.deal("Old job", FIRST_TWO, company=company, stage="closedwon")
    run_customer_sync(systems.client, kind=RunKind.IMPORT, full=True)
    customer = systems.qbo_customers()[0].Id
    lines = []
    for name, sku, quantity, price in FIRST_TWO:
        item = Item()
        item.Name, item.Sku, item.Type = name, sku, "Service"
        item.IncomeAccountRef = {"value": account}
        item = item.save(qb=systems.qb)
        lines.append(
            {
                "DetailType": "SalesItemLineDetail",
                "Amount": price,
                "SalesItemLineDetail": {"ItemRef": {"value": item.Id}, "Qty": quantity,
                                        "UnitPrice": price},
            }
        )  # fmt: skip
    by_hand = QboInvoice()
    by_hand.CustomerRef = {"value": customer}
    by_hand.Line, by_hand.PrivateNote = lines, f"HubSpot deal {deal}"
    by_hand.save(qb=systems.qb)
    # Invoicing starts now (the import's baseline ran before the invoice was keyed in).
    InvoiceLink.objects.filter(deal_id=deal).delete()
    SyncSettings.objects.filter(client=systems.client).update(invoice_baseline_at=None)
    run_customer_sync(systems.client, full=True)
    assert InvoiceLink.objects.get(deal_id=deal).accounting_id
    rule(systems, IssuedInvoiceChanges.UPDATE_UNPAID)

    run_customer_sync(systems.client, full=True)
    assert not conflicts(deal).exists()
    add_line(systems, deal, *THIRD)
    run_customer_sync(systems.client, full=True)

    item = conflicts(deal).get()
    assert "invoices they did not get from syncfirm" in item.reason
    assert "1 line added (Painting: 1 x 900.00 USD)" in item.reason
    assert invoice_for(systems, deal).TotalAmt == Decimal("2400.00")
