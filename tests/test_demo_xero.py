"""The demo's Xero client, end to end, as `make demo` runs it: connected through the real
consent flow, the CRM's customers imported without a second copy of any, a company won in
HubSpot becoming a Xero contact and its deal a Xero invoice, a payment recorded in Xero
coming back to the deal, the month reconciled with exactly the planted problems found, and
the duplicate invoice's fix voiding it in the Xero sandbox."""

import json
from decimal import Decimal

from django.core.management import call_command

from connections.adapters import accounting_adapter
from reconciliation.fixes import do_approve
from reconciliation.fixes import preview as fix_preview
from reconciliation.models import Finding
from sandbox.demo_books import AMBIGUOUS, write_demo_book
from sandbox.xero.seed_book import xero_api
from sync.customers import run_customer_sync
from sync.models import (
    ConflictKind,
    ConflictStatus,
    InvoiceLink,
    InvoiceState,
    RunKind,
    SyncConflict,
    SyncSettings,
)

from .sandbox.conftest import sandbox_db
from .test_reconciliation import scores

pytestmark = sandbox_db


def test_a_xero_client_from_connection_to_an_approved_fix(two_firms, sandbox, capsys):
    client = two_firms.client_a
    book, written = write_demo_book(5, sandbox, "Summit (sandbox)", "xero")
    call_command(
        "connect_sandbox", client.slug, tenant_id=written.realm_id, portal_id=written.portal_id
    )
    SyncSettings.objects.filter(pk=SyncSettings.for_client(client).pk).update(
        income_account="Sales"
    )
    books = accounting_adapter(client.connections.get(system="xero"))
    before = len(books.all_customers())

    preview = run_customer_sync(client, kind=RunKind.IMPORT_PREVIEW, full=True, dry_run=True)
    done = run_customer_sync(client, kind=RunKind.IMPORT, full=True, approved_preview=preview)
    assert done.counts.get("created", 0) == 0 and len(books.all_customers()) == before
    # As on QuickBooks: the genuinely ambiguous pairs wait for a person.
    waiting = set(
        SyncConflict.objects.filter(
            client=client, status=ConflictStatus.OPEN, kind=ConflictKind.NEAR_MATCH
        ).values_list("crm_value__display_name", flat=True)
    )
    assert {f"{pair.crm['name']}" for pair in AMBIGUOUS} <= waiting, waiting
    riverside = SyncConflict.objects.get(
        client=client, status=ConflictStatus.OPEN, crm_value__display_name="Riverside Mechanical Co"
    )
    assert "from which syncfirm links on its own" in riverside.evidence["note"]

    # A new customer won in the CRM: a contact in Xero, then its deal an invoice.
    hubspot_api = _hubspot(written, sandbox)
    company = hubspot_api.crm.companies.basic_api.create(
        {"properties": {"name": "Juniper Decks", "zip": "85004", "city": "Phoenix"}}
    ).id
    product = book.products[0]
    deal = _won_deal(hubspot_api, company, product.name, product.sku, product.price)
    run = run_customer_sync(client, kind=RunKind.SCHEDULED)
    assert run.counts.get("created") == 1, run.counts
    assert [c.display_name for c in books.customers_named("Juniper Decks")] == ["Juniper Decks"]
    link = InvoiceLink.objects.get(client=client, deal_id=deal)
    assert link.state == InvoiceState.CREATED, link.reason
    (invoice,) = books.invoices_numbered([link.doc_number])
    assert invoice.total.amount == (product.price * 2).quantize(Decimal("0.01"))

    # Paid in Xero: the deal says so after the next sync (no payment webhooks in Xero).
    api = xero_api(sandbox, {"access_token": books.connection.access_token})
    paid = api.create_payments(
        written.realm_id,
        {"Payments": [{"Invoice": {"InvoiceID": invoice.external_id}, "Account": {"Code": "090"},
                       "Date": "2026-11-25", "Amount": str(invoice.total.amount)}]},
        _preload_content=False,
    )  # fmt: skip
    assert paid.status == 200
    run_customer_sync(client, kind=RunKind.SCHEDULED)
    shown = hubspot_api.crm.deals.basic_api.get_by_id(deal, properties=["syncfirm_payment_status"])
    assert shown.properties["syncfirm_payment_status"] == "paid"

    # The month: exactly the planted problems, and the duplicate's fix voids it in Xero.
    capsys.readouterr()
    call_command("reconcile", client.slug, "--period", "2026-11", "--json")
    report = json.loads(capsys.readouterr().out)
    got = scores(report["findings"], written.answer_key)
    assert {c: s for c, s in got.items() if s != (1.0, 1.0)} == {}, report["findings"]
    duplicate = Finding.objects.get(client=client, code="duplicate_invoice")
    shown = fix_preview(duplicate)
    assert shown.undo_words == "Cannot be undone: Xero cannot un-void an invoice."
    fixed = do_approve(two_firms.accountant_a, duplicate, confirmed_large=True)
    assert fixed.status == "fixed", fixed.fix_error
    assert books.invoices_by_id([duplicate.fix["invoice_id"]])[0].voided
    assert "Xero" in fixed.decision_note or "voided" in fixed.decision_note


def _hubspot(written, sandbox):
    from hubspot import HubSpot

    return HubSpot(
        access_token=written.hubspot_tokens["access_token"], host=f"{sandbox}/sandbox/hubspot"
    )


def _won_deal(api, company: str, name: str, sku: str, price: Decimal) -> str:
    from .sync_support import DEAL_TO_COMPANY, LINE_ITEM_TO_DEAL, _to

    deal = api.crm.deals.basic_api.create(
        {
            "properties": {"dealname": "Deck build", "dealstage": "contractsent",
                           "pipeline": "default", "closedate": "2026-11-20T15:00:00.000Z",
                           "amount": str(price * 2)},
            "associations": [_to(company, DEAL_TO_COMPANY)],
        }
    ).id  # fmt: skip
    api.crm.line_items.basic_api.create(
        {
            "properties": {"name": name, "hs_sku": sku, "quantity": "2", "price": str(price)},
            "associations": [_to(deal, LINE_ITEM_TO_DEAL)],
        }
    )
    api.crm.deals.basic_api.update(deal, {"properties": {"dealstage": "closedwon"}})
    return deal
