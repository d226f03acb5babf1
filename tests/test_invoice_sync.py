"""Closed-won deals to invoices exactly once, and payment status back to the deals: the
HubSpot and QuickBooks emulators over HTTP, through the official clients and the engine."""

from decimal import Decimal

import pytest
from django.utils import timezone

from connections import retries
from connections.quickbooks.adapter import QuickBooksAdapter
from sync.customers import run_customer_sync
from sync.models import (
    ConflictKind,
    InvoiceLink,
    InvoiceState,
    RunKind,
    SyncConflict,
    SyncSettings,
)

from .sandbox.conftest import sandbox_db
from .sync_support import service_item

pytestmark = sandbox_db

LINES = [
    ("Roof inspection", "RF-INSP", "1", "185.00"),
    ("Gutter install", "GT-INST", "40", "12.50"),
]


def income_account(systems, name: str) -> str:
    """A new income account in the books (a fresh company has the standard ones)."""
    from quickbooks.objects.account import Account

    account = Account()
    account.Name, account.AccountType = name, "Income"
    return account.save(qb=systems.qb).Id


@pytest.fixture
def books(systems):
    """Imported and invoicing: a customer in both systems; the books as a new company opens
    them (products the books lack are created in their standard Services account)."""
    company = systems.company(name="Cedar Roofing", zip="78701")
    run_customer_sync(systems.client, kind=RunKind.IMPORT, full=True)
    systems.books_company = company
    return systems


def invoice_for(systems, deal_id: str):
    invoices = [i for i in systems.invoices() if i.PrivateNote == f"HubSpot deal {deal_id}"]
    assert len(invoices) <= 1, f"{len(invoices)} invoices for deal {deal_id}"
    return invoices[0] if invoices else None


def test_deals_won_before_invoicing_began_are_history_not_invoiced(systems):
    company = systems.company(name="Cedar Roofing", zip="78701")
    old = systems.deal("Old job", LINES, company=company, stage="closedwon")
    run = run_customer_sync(systems.client, kind=RunKind.IMPORT, full=True)
    assert run.counts["deals_history_without_invoice"] == 1
    assert systems.invoices() == []
    assert InvoiceLink.objects.get(deal_id=old).state == InvoiceState.HISTORICAL
    properties = systems.hubspot.crm.properties.core_api.get_all("deals").results
    assert "syncfirm_payment_status" in {p.name for p in properties}


def test_a_won_deal_becomes_one_invoice_built_from_its_lines(books):
    deal = books.deal("Roof job", LINES, company=books.books_company, close="2026-11-20")
    books.win(deal)

    run = run_customer_sync(books.client)

    assert run.counts.get("invoices_created") == 1, list(
        run.outcomes.values_list("reason", flat=True)
    )
    invoice = invoice_for(books, deal)
    assert invoice.DocNumber == f"SF-{deal}"
    assert invoice.TotalAmt == Decimal("685.00")
    assert invoice.TxnDate == "2026-11-20" and invoice.DueDate == "2026-12-20"
    lines = [line for line in invoice.Line if line.DetailType == "SalesItemLineDetail"]
    assert sorted((line.SalesItemLineDetail.Qty, line.Amount) for line in lines) == [
        (Decimal("1"), Decimal("185.00")),
        (Decimal("40"), Decimal("500.00")),
    ]
    link = InvoiceLink.objects.get(deal_id=deal)
    assert link.state == InvoiceState.CREATED and link.accounting_id == str(invoice.Id)

    again = run_customer_sync(books.client, full=True)
    assert again.counts.get("invoices_created", 0) == 0
    assert len(books.invoices()) == 1


def test_payment_status_goes_back_to_the_deal_and_is_not_rewritten(books):
    deal = books.deal("Roof job", LINES, company=books.books_company)
    books.win(deal)
    run_customer_sync(books.client)
    invoice = invoice_for(books, deal)

    books.pay(invoice, "185.00", day="2026-11-21")
    run_customer_sync(books.client)
    shown = books.deal_properties(deal)
    assert shown["syncfirm_payment_status"] == "partially_paid"
    assert Decimal(shown["syncfirm_amount_paid"]) == Decimal("185.00")
    assert Decimal(shown["syncfirm_balance"]) == Decimal("500.00")
    assert shown["syncfirm_last_payment_date"] == "2026-11-21"

    books.pay(invoice_for(books, deal), "500.00", day="2026-11-22")
    run_customer_sync(books.client)
    assert books.deal_properties(deal)["syncfirm_payment_status"] == "paid"
    quiet = run_customer_sync(books.client)
    assert quiet.counts.get("invoices_updated", 0) == 0


def test_a_lost_answer_with_requestid_ignored_still_makes_one_invoice(books, monkeypatch):
    """Every answer to the invoice batch is cut after QuickBooks committed it and the request
    id is ignored: the engine finds the invoice by its number instead of sending it again."""
    monkeypatch.setattr(retries, "_backoff", lambda state: 0)
    monkeypatch.setattr("sandbox.emulation.PLAN_CACHE_SECONDS", 0)
    books.quickbooks_settings(custom_txn_numbers=True)  # QuickBooks would accept a repeat
    deal = books.deal("Roof job", LINES, company=books.books_company)
    books.win(deal)
    create = QuickBooksAdapter.create_invoices

    def lose_every_answer(self, *args, **kwargs):
        books.faults("quickbooks", drop_after_commit_rate=1.0, ignore_requestid=True)
        try:
            return create(self, *args, **kwargs)
        finally:
            books.faults("quickbooks")

    monkeypatch.setattr(QuickBooksAdapter, "create_invoices", lose_every_answer)

    run_customer_sync(books.client)

    assert invoice_for(books, deal) is not None  # one, not six
    assert InvoiceLink.objects.get(deal_id=deal).state == InvoiceState.CREATED
    run_customer_sync(books.client, full=True)
    assert len(books.invoices()) == 1


def test_a_worker_killed_after_the_write_leaves_no_second_invoice(books, monkeypatch):
    deal = books.deal("Roof job", LINES, company=books.books_company)
    books.win(deal)
    create = QuickBooksAdapter.create_invoices

    def killed_after_sending(self, *args, **kwargs):
        create(self, *args, **kwargs)
        raise SystemExit("worker killed")  # the answer never reaches the database

    monkeypatch.setattr(QuickBooksAdapter, "create_invoices", killed_after_sending)
    with pytest.raises(SystemExit):
        run_customer_sync(books.client)
    monkeypatch.undo()
    assert InvoiceLink.objects.get(deal_id=deal).state == InvoiceState.WRITING
    SyncSettings.objects.filter(client=books.client).update(lease_run=None, lease_until=None)

    run = run_customer_sync(books.client)

    created = run.outcomes.get(crm_type="deals", outcome="created")
    assert "after an unknown outcome" in created.reason
    killed = books.client.sync_runs.exclude(pk=run.pk).get(status="failed")
    assert "Stopped without finishing" in killed.error  # the log says what happened
    assert len(books.invoices()) == 1


def test_a_write_that_never_landed_is_sent_again(books, monkeypatch):
    deal = books.deal("Roof job", LINES, company=books.books_company)
    books.win(deal)

    def killed_before_sending(self, *args, **kwargs):
        raise SystemExit("worker killed")

    monkeypatch.setattr(QuickBooksAdapter, "create_invoices", killed_before_sending)
    with pytest.raises(SystemExit):
        run_customer_sync(books.client)
    monkeypatch.undo()
    SyncSettings.objects.filter(client=books.client).update(lease_run=None, lease_until=None)

    run_customer_sync(books.client)

    assert invoice_for(books, deal) is not None
    link = InvoiceLink.objects.get(deal_id=deal)
    assert link.state == InvoiceState.CREATED and link.attempts == 2


def test_bad_deals_are_held_with_reasons_and_nothing_is_written(books):
    company = books.books_company
    cases = {
        books.deal("No lines", [], company=company): "no line items",
        books.deal("Free job", [("Visit", "V", "1", "0")], company=company): "nothing to invoice",
        books.deal("Huge", [("Nails", "N", "9999999", "1")], company=company): "quantity",
        books.deal("Nobody's", LINES): "no customer",
        books.deal("Nameless", [("", "", "1", "10")], company=company): "no product",
    }
    for deal in cases:
        books.win(deal)

    run = run_customer_sync(books.client)

    held = {o.crm_id: o.reason for o in run.outcomes.filter(crm_type="deals", outcome="held")}
    for deal, reason in cases.items():
        assert reason in held.get(deal, ""), (deal, held.get(deal))
    assert books.invoices() == []
    assert run.status == "attention"


def test_a_deal_in_another_currency_is_held(books):
    deal = books.deal("Euro job", LINES, company=books.books_company)
    books.hubspot.crm.deals.basic_api.update(deal, {"properties": {"deal_currency_code": "EUR"}})
    books.win(deal)
    run = run_customer_sync(books.client)
    assert "the deal is in EUR; the books are kept in USD" in run.outcomes.get(crm_id=deal).reason
    assert books.invoices() == []


def test_a_fresh_company_invoices_a_won_deal_with_new_products_in_its_services_account(
    systems,
):
    """GIVEN books as a new QuickBooks company opens them (nothing created by hand)
    WHEN a deal with products the books lack is won
    THEN the products are created in the standard Services account and the deal invoiced."""
    company = systems.company(name="Cedar Roofing", zip="78701")
    run_customer_sync(systems.client, kind=RunKind.IMPORT, full=True)
    deal = systems.deal("Solar", [("Solar panel", "SP-1", "2", "400")], company=company)
    systems.win(deal)

    run = run_customer_sync(systems.client)

    assert run.counts.get("invoices_created") == 1, run.outcomes.get(crm_id=deal).reason
    assert invoice_for(systems, deal).TotalAmt == Decimal("800.00")
    services = systems.qb.query("SELECT * FROM Account WHERE Name = 'Services'")
    (product,) = systems.qb.query("SELECT * FROM Item WHERE Name = 'Solar panel'")["QueryResponse"][
        "Item"
    ]
    assert product["IncomeAccountRef"]["value"] == services["QueryResponse"]["Account"][0]["Id"]


def test_a_new_product_waits_for_the_income_account_the_settings_name(systems):
    """Products are never created in an account nobody chose: with the settings naming an
    account the books lack, the deal is held saying so, and invoiced once it exists."""
    company = systems.company(name="Cedar Roofing", zip="78701")
    run_customer_sync(systems.client, kind=RunKind.IMPORT, full=True)
    SyncSettings.objects.filter(client=systems.client).update(income_account="Solar Income")
    deal = systems.deal("Solar", [("Solar panel", "SP-1", "2", "400")], company=company)
    systems.win(deal)

    run = run_customer_sync(systems.client)

    reason = run.outcomes.get(crm_id=deal).reason
    assert "no product 'SP-1' in the books" in reason
    assert "no income account called 'Solar Income'" in reason
    assert systems.invoices() == []
    account_id = income_account(systems, "Solar Income")
    run_customer_sync(systems.client, crm_ids=None)
    assert invoice_for(systems, deal).TotalAmt == Decimal("800.00")
    (product,) = systems.qb.query("SELECT * FROM Item WHERE Name = 'Solar panel'")["QueryResponse"][
        "Item"
    ]
    assert product["IncomeAccountRef"]["value"] == account_id


def test_a_deal_changed_after_its_invoice_is_flagged_not_rewritten(books):
    deal = books.deal("Roof job", LINES, company=books.books_company)
    books.win(deal)
    run_customer_sync(books.client)
    line = books.hubspot.crm.associations.v4.basic_api.get_page("deals", deal, "line_items")
    books.hubspot.crm.line_items.basic_api.update(
        line.results[0].to_object_id, {"properties": {"price": "999"}}
    )
    books.hubspot.crm.deals.basic_api.update(deal, {"properties": {"amount": "1"}})

    run_customer_sync(books.client)

    flagged = SyncConflict.objects.get(kind=ConflictKind.DEAL_CHANGED, crm_id=deal)
    assert flagged.accounting_value["lines total"] == "685.00 USD"
    assert "Roof inspection: 1 x 185.00 USD → 1 x 999.00 USD" in flagged.reason
    assert invoice_for(books, deal).TotalAmt == Decimal("685.00")


def test_a_deal_webhook_invoices_within_the_request(books, sandbox):
    from connections.hubspot.subscriptions import ensure_subscriptions

    books.control(
        f"hubspot/portals/{books.hub_connection.external_id}",
        webhook_url=f"{sandbox}/webhooks/hubspot/",
    )
    ensure_subscriptions()
    SyncSettings.objects.filter(client=books.client).update(import_done_at=timezone.now())
    deal = books.deal("Roof job", LINES, company=books.books_company)
    books.win(deal)
    for _ in range(50):
        if invoice_for(books, deal):
            break
        import time

        time.sleep(0.1)
    assert invoice_for(books, deal) is not None
    books.settle()


def test_edits_in_the_books_do_not_break_the_invoice_sync(books):
    """The complaint about the CRMs' own connectors: an accountant changes a synced invoice
    (a line's price, a new line) and sync stops. Here the edit stays, nothing is recreated,
    and payments still reach the deal."""
    deal = books.deal("Roof job", LINES, company=books.books_company)
    books.win(deal)
    run_customer_sync(books.client)
    invoice = invoice_for(books, deal)
    first = next(line for line in invoice.Line if line.DetailType == "SalesItemLineDetail")
    first.SalesItemLineDetail.UnitPrice = Decimal("200.00")
    first.Amount = Decimal("200.00")
    invoice.save(qb=books.qb)
    edited = invoice_for(books, deal)
    assert edited.TotalAmt == Decimal("700.00")

    run = run_customer_sync(books.client, full=True)
    books.pay(edited, "700.00")
    run_customer_sync(books.client)

    assert run.status == "succeeded", list(run.outcomes.values_list("reason", flat=True))
    assert len(books.invoices()) == 1 and invoice_for(books, deal).TotalAmt == Decimal("700.00")
    assert books.deal_properties(deal)["syncfirm_payment_status"] == "paid"


def test_a_person_settles_an_uncertain_write_from_the_sync_page(books, client, two_firms):
    from django.urls import reverse

    deal = books.deal("Roof job", LINES, company=books.books_company)
    books.win(deal)
    link = InvoiceLink.objects.create(
        client=books.client,
        deal_id=deal,
        deal_name="Roof job",
        state=InvoiceState.UNCERTAIN,
        doc_number=f"SF-{deal}",
        attempts=3,
        reason="3 writes with no known outcome and no invoice found",
    )
    client.force_login(two_firms.accountant_a)
    page = client.get(reverse("client_sync", args=[books.client.slug]))
    assert b"Deals not invoiced" in page.content and b"Look again, then write" in page.content

    client.post(reverse("client_sync_invoice_retry", args=[books.client.slug, link.pk]))

    link.refresh_from_db()
    assert link.state == InvoiceState.CREATED  # the queued run looked, found none, wrote it
    assert invoice_for(books, deal) is not None


def test_with_sales_tax_each_line_carries_its_products_tax_code(books):
    from quickbooks.objects.item import Item

    services = books.qb.query("SELECT * FROM Account WHERE Name = 'Services'")
    account = services["QueryResponse"]["Account"][0]["Id"]
    for name, sku, taxable in (("Roof inspection", "RF-INSP", True), ("Permit", "AD-PRMT", False)):
        item = Item()
        item.Name, item.Sku, item.Type, item.Taxable = name, sku, "Service", taxable
        item.IncomeAccountRef = {"value": account}
        item.save(qb=books.qb)
    SyncSettings.objects.filter(client=books.client).update(sales_tax=True)
    lines = [("Roof inspection", "RF-INSP", "1", "185.00"), ("Permit", "AD-PRMT", "1", "310.00")]
    deal = books.deal("Taxed job", lines, company=books.books_company)
    books.win(deal)

    run = run_customer_sync(books.client)

    invoice = invoice_for(books, deal)
    codes = {
        line.SalesItemLineDetail.UnitPrice: line.SalesItemLineDetail.TaxCodeRef.value
        for line in invoice.Line
        if line.DetailType == "SalesItemLineDetail"
    }
    assert codes == {Decimal("185.00"): "TAX", Decimal("310.00"): "NON"}
    assert not run.client.alerts.exists()  # the read-back agreed


def test_approving_a_missing_invoice_while_a_dead_worker_holds_the_lease_answers_at_once(
    books, two_firms
):
    """A worker died holding the client's lease (it lapses within 30 s). Approving "create
    the missing invoice" from the page must not hold the page (and the finding's row lock)
    waiting for it: the fix fails at once saying why, writes nothing, and approving it
    again once the lease lapsed creates the one invoice."""
    import time
    from datetime import date, timedelta

    from reconciliation.fixes import do_approve
    from reconciliation.models import Finding, FindingStatus, Reconciliation

    deal = books.deal("Roof job", LINES, company=books.books_company, stage="closedwon")
    recon = Reconciliation.objects.create(client=books.client, period=date(2026, 11, 1))
    finding = Finding.objects.create(
        client=books.client, reconciliation=recon, code="missing_invoice", severity="high",
        amount=Decimal("685.00"), currency="USD", direction="revenue understated",
        reason="deal has no invoice", fingerprint="dead-lease", key=f"missing_invoice:{deal}",
        first_period=recon.period, last_period=recon.period,
        fix={"action": "create_invoice", "deal_id": deal},
    )  # fmt: skip
    SyncSettings.objects.filter(client=books.client).update(
        lease_holder="dead-host:1:abc", lease_until=timezone.now() + timedelta(seconds=30)
    )
    started = time.monotonic()
    failed = do_approve(two_firms.accountant_a, finding)
    assert time.monotonic() - started < 10, "the page waited for a dead worker's lease"
    assert failed.status == FindingStatus.OPEN  # still counted: the problem is still there
    assert "sync of this client" in failed.fix_error
    assert invoice_for(books, deal) is None

    SyncSettings.objects.filter(client=books.client).update(
        lease_until=timezone.now() - timedelta(seconds=1)
    )
    fixed = do_approve(two_firms.accountant_a, finding)
    assert fixed.status == FindingStatus.FIXED, fixed.decision_note
    assert invoice_for(books, deal) is not None


def test_a_product_the_books_lack_is_billed_as_the_item_the_settings_name(books):
    """GIVEN settings that bill products the books lack as their "Contract work" item
    WHEN a won deal sells a product the books do not have
    THEN its invoice line is that item, described by the deal's product, and no product is
    created; with an item the books no longer have, the deal is held saying so."""
    item_id = service_item(books, "Contract work")
    SyncSettings.objects.filter(client=books.client).update(unmatched_item="Contract work")
    deal = books.deal("Solar", [("Solar panel", "SP-1", "2", "400")], company=books.books_company)
    books.win(deal)

    run_customer_sync(books.client)

    invoice = invoice_for(books, deal)
    (line,) = [line for line in invoice.Line if line.DetailType == "SalesItemLineDetail"]
    assert (line.SalesItemLineDetail.ItemRef.value, line.Amount) == (item_id, Decimal("800.00"))
    assert line.Description == "Solar panel"
    made = books.qb.query("SELECT * FROM Item WHERE Name = 'Solar panel'")["QueryResponse"]
    assert not made.get("Item")

    SyncSettings.objects.filter(client=books.client).update(unmatched_item="Retired item")
    later = books.deal("Wind", [("Wind turbine", "WT-1", "1", "900")], company=books.books_company)
    books.win(later)
    run = run_customer_sync(books.client)
    assert "no item called 'Retired item' in the books" in run.outcomes.get(crm_id=later).reason
    assert invoice_for(books, later) is None
