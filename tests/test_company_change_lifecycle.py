"""Issue 13, finding 1, the second half: after staff change a client's QuickBooks company, the
next sync and the next reconciliation are about the new company only. Before, the old
company's links survived: the sync called customers "unchanged" that the new books do not
hold under those ids, and reconciliation read the old invoice ids into the new books.

The client syncs with company A (a customer and an invoiced deal), staff change to company
B, whose books were kept by hand (the same customer and the deal's invoice, plus a walk-in
sale whose invoice happens to carry the id A's invoice had). Sandbox over HTTP, official
clients."""

from datetime import date
from decimal import Decimal

import requests
from quickbooks.objects.account import Account
from quickbooks.objects.customer import Customer as QboCustomer
from quickbooks.objects.invoice import Invoice as QboInvoice
from quickbooks.objects.item import Item

from connections.models import Connection
from reconciliation.models import Finding, FindingStatus
from reconciliation.run import reconcile
from sandbox.consent import consent
from sync.customers import run_customer_sync
from sync.models import InvoiceLink, Outcome, RecordOutcome, RunKind

from .conftest import local, pressed, start_direct
from .sandbox.conftest import sandbox_db

pytestmark = sandbox_db

LINES = [
    ("Roof inspection", "RF-INSP", "1", "185.00"),
    ("Gutter install", "GT-INST", "40", "12.50"),
]


def ref(value) -> dict:
    return {"value": str(value)}


def income_account(qb) -> Account:
    """The Services income account every new company starts with."""
    return Account.filter(Name="Services", qb=qb)[0]


def item(qb, name: str, sku: str, account: Account) -> Item:
    made = Item()
    made.Name, made.Sku, made.Type = name, sku, "Service"
    made.IncomeAccountRef = {"value": account.Id}
    return made.save(qb=qb)


def customer(qb, name: str, **fields) -> QboCustomer:
    made = QboCustomer()
    made.DisplayName = name
    for key, value in fields.items():
        setattr(made, key, value)
    return made.save(qb=qb)


def invoice(qb, customer_id, lines, **fields) -> QboInvoice:
    made = QboInvoice.from_json(
        {
            "CustomerRef": ref(customer_id),
            "Line": [
                {
                    "DetailType": "SalesItemLineDetail",
                    "Amount": str(Decimal(qty) * Decimal(price)),
                    "SalesItemLineDetail": {
                        "ItemRef": ref(item_id),
                        "Qty": qty,
                        "UnitPrice": price,
                    },
                }
                for item_id, qty, price in lines
            ],
            **fields,
        }
    )
    return made.save(qb=qb)


def change_company(client, name: str) -> None:
    """Staff reconnect QuickBooks to another company and confirm the change."""
    callback = consent(start_direct(client, "quickbooks"), "quickbooks", new_account_name=name)
    answer = client.get(local(callback))
    assert answer.status_code == 302
    if "/confirm/" in answer["Location"]:
        page = answer["Location"]
        done = client.post(page, {"action": "connect", "confirm": pressed(client, page, "change")})
        assert done.status_code == 302


def test_after_a_change_of_company_sync_and_reconciliation_tell_the_truth_about_it(client, systems):
    # Company A: a customer from the CRM and a won deal invoiced into it.
    company = systems.company(name="Cedar Roofing", zip="78701")
    run_customer_sync(systems.client, kind=RunKind.IMPORT, full=True)
    deal = systems.deal("Roof job", LINES, company=company)
    systems.win(deal)
    run_customer_sync(systems.client)
    old_invoice_id = InvoiceLink.objects.get(deal_id=deal).accounting_id
    assert old_invoice_id
    company_a = systems.qbo_connection.external_id

    change_company(client, "Second books")
    systems.qbo_connection = Connection.objects.get(pk=systems.qbo_connection.pk)
    company_b = systems.qbo_connection.external_id
    assert company_b != company_a
    requests.patch(
        f"{systems.sandbox}/sandbox/control/quickbooks/companies/{company_b}",
        json={"rate_limits": False, "webhook_url": ""},
        timeout=10,
    ).raise_for_status()

    # Company B, kept by hand: a walk-in sale first, its invoice landing on A's invoice id.
    qb = systems.qb
    account = income_account(qb)
    misc = item(qb, "Misc labour", "MISC", account)
    walk_in = customer(qb, "Walk-in customer")
    filler = 0
    while int(walk_in.Id) + filler < int(old_invoice_id) - 1:
        filler += 1
        customer(qb, f"Filler {filler}")
    sale = invoice(qb, walk_in.Id, [(misc.Id, "2", "40.00")], TxnDate="2026-11-10")
    assert sale.Id == old_invoice_id, "the walk-in invoice must carry A's old invoice id"
    cedar = customer(
        qb, "Cedar Roofing", CompanyName="Cedar Roofing", BillAddr={"PostalCode": "78701"}
    )
    by_sku = {sku: item(qb, name, sku, account) for name, sku, _, _ in LINES}
    deal_invoice = invoice(
        qb,
        cedar.Id,
        [(by_sku[sku].Id, qty, price) for _, sku, qty, price in LINES],
        DocNumber=f"SF-{deal}",
        PrivateNote=f"HubSpot deal {deal}",
        TxnDate="2026-11-20",
        DueDate="2026-12-20",
    )

    # The next sync matches the CRM's company to B's customer; nothing is "unchanged".
    run = run_customer_sync(systems.client)
    outcomes = RecordOutcome.objects.filter(run=run, crm_id=company)
    assert [(o.outcome, o.accounting_id) for o in outcomes] == [(Outcome.LINKED, str(cedar.Id))]
    assert not RecordOutcome.objects.filter(run=run, outcome=Outcome.SKIPPED).exists()

    # The next reconciliation reads B's invoices as B's: the deal has its invoice, and the
    # walk-in sale is nobody's deal.
    recon = reconcile(systems.client, date(2026, 11, 1))
    findings = list(
        Finding.objects.filter(reconciliation=recon, status=FindingStatus.OPEN).values_list(
            "code", "deal_id", "invoice_ids"
        )
    )
    assert findings == [], findings
    assert recon.counts["invoices"] == 2 and deal_invoice.Id != sale.Id
