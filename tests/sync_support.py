"""Both sandbox systems connected for firm A's client, through the real consent flow, with
helpers to act in them as their users would (HubSpot and QuickBooks official clients)."""

from decimal import Decimal

import pytest
import requests
from hubspot import HubSpot
from quickbooks.objects.customer import Customer as QboCustomer
from quickbooks.objects.invoice import Invoice as QboInvoice
from quickbooks.objects.payment import Payment as QboPayment

from connections.quickbooks.adapter import QuickBooksAdapter

LINE_ITEM_TO_DEAL, DEAL_TO_COMPANY, DEAL_TO_CONTACT = 20, 5, 3


@pytest.fixture
def systems(connected, sandbox, two_firms):
    """Firm A's client with both systems connected; rate limits lifted for speed."""
    qbo, hub = connected("quickbooks"), connected("hubspot")
    control = f"{sandbox}/sandbox/control"
    requests.patch(
        f"{control}/quickbooks/companies/{qbo.external_id}", json={"rate_limits": False}, timeout=10
    )
    requests.patch(
        f"{control}/hubspot/portals/{hub.external_id}", json={"rate_limits": False}, timeout=10
    )
    # No webhooks in these tests unless one asks: each run is the one the test starts.
    for path in (f"quickbooks/companies/{qbo.external_id}", f"hubspot/portals/{hub.external_id}"):
        requests.patch(f"{control}/{path}", json={"webhook_url": ""}, timeout=10)
    return Systems(two_firms.client_a, qbo, hub, sandbox)


def connect_written_book(client, sandbox: str, written) -> None:
    """`client` connected to a book written into the sandbox (`sandbox.seed_book`), with no
    webhooks: each run is one the test starts."""
    from django.core.management import call_command

    call_command(
        "connect_sandbox", client.slug, realm_id=written.realm_id, portal_id=written.portal_id
    )
    for path in (
        f"quickbooks/companies/{written.realm_id}",
        f"hubspot/portals/{written.portal_id}",
    ):
        requests.patch(f"{sandbox}/sandbox/control/{path}", json={"webhook_url": ""}, timeout=10)


class Systems:
    def __init__(self, client, qbo, hub, sandbox):
        self.client, self.qbo_connection, self.hub_connection = client, qbo, hub
        self.sandbox = sandbox

    @property
    def hubspot(self) -> HubSpot:
        self.hub_connection.refresh_from_db()
        return HubSpot(
            access_token=self.hub_connection.access_token, host=f"{self.sandbox}/sandbox/hubspot"
        )

    @property
    def qb(self):
        return QuickBooksAdapter(self.qbo_connection)._client()[0]

    def company(self, **properties) -> str:
        return self.hubspot.crm.companies.basic_api.create({"properties": properties}).id

    def contact(self, **properties) -> str:
        return self.hubspot.crm.contacts.basic_api.create({"properties": properties}).id

    def qbo_customer(self, name: str, **fields) -> QboCustomer:
        made = QboCustomer()
        made.DisplayName = name
        for key, value in fields.items():
            setattr(made, key, value)
        return made.save(qb=self.qb)

    def qbo_customers(self) -> list[QboCustomer]:
        return QboCustomer.where("Active IN (true, false)", qb=self.qb)

    def writes(self) -> int:
        """QuickBooks write calls since the last look (from the sandbox's request log)."""
        log = requests.delete(
            f"{self.sandbox}/sandbox/control/requests",
            params={"system": "quickbooks", "account": self.qbo_connection.external_id},
            timeout=10,
        ).json()
        return sum(
            r["count"]
            for r in log["requests"]
            if r["method"] == "POST" and not r["route"].endswith("query")
        )

    def settle(self, seconds: float = 15) -> None:
        """Wait for webhook-started runs (served by the live server) to finish, so none is
        still writing when the test ends."""
        import time

        from sync.models import SyncRun

        deadline = time.monotonic() + seconds
        while SyncRun.objects.filter(client=self.client, finished_at=None).exists():
            assert time.monotonic() < deadline, "a sync run did not finish"
            time.sleep(0.1)
        time.sleep(0.3)  # the webhook request's own answer

    def control(self, path: str, **changes) -> None:
        answer = requests.patch(f"{self.sandbox}/sandbox/control/{path}", json=changes, timeout=10)
        answer.raise_for_status()

    def quickbooks_settings(self, **changes) -> None:
        self.control(f"quickbooks/companies/{self.qbo_connection.external_id}", **changes)

    def faults(self, system: str, **plan) -> None:
        account = (
            self.qbo_connection if system == "quickbooks" else self.hub_connection
        ).external_id
        requests.put(
            f"{self.sandbox}/sandbox/control/faults",
            json={"system": system, "account": str(account), **plan},
            timeout=10,
        ).raise_for_status()

    def deal(
        self,
        name: str,
        lines: list[tuple[str, str, str, str]],
        *,
        company: str = "",
        contact: str = "",
        stage: str = "contractsent",
        close: str = "2026-11-20",
    ) -> str:
        """A deal with line items (name, sku, quantity, unit price) for a company/contact."""
        associations = []
        if company:
            associations.append(_to(company, DEAL_TO_COMPANY))
        if contact:
            associations.append(_to(contact, DEAL_TO_CONTACT))
        deal = self.hubspot.crm.deals.basic_api.create(
            {
                "properties": {
                    "dealname": name,
                    "dealstage": stage,
                    "pipeline": "default",
                    "closedate": f"{close}T15:00:00.000Z",
                    "amount": str(sum(Decimal(q) * Decimal(p) for _, _, q, p in lines)),
                },
                "associations": associations,
            }
        ).id
        if lines:
            self.hubspot.crm.line_items.batch_api.create(
                {
                    "inputs": [
                        {
                            "properties": {"name": n, "hs_sku": sku, "quantity": q, "price": p},
                            "associations": [_to(deal, LINE_ITEM_TO_DEAL)],
                        }
                        for n, sku, q, p in lines
                    ]
                }
            )
        return deal

    def win(self, deal_id: str) -> None:
        self.hubspot.crm.deals.basic_api.update(deal_id, {"properties": {"dealstage": "closedwon"}})

    def deal_properties(self, deal_id: str) -> dict:
        names = ["syncfirm_payment_status", "syncfirm_amount_paid", "syncfirm_balance",
                 "syncfirm_last_payment_date", "syncfirm_invoice_number"]  # fmt: skip
        return self.hubspot.crm.deals.basic_api.get_by_id(deal_id, properties=names).properties

    def invoices(self) -> list[QboInvoice]:
        return QboInvoice.all(max_results=1000, qb=self.qb)

    def pay(self, invoice: QboInvoice, amount: str, day: str = "2026-11-21") -> None:
        payment = QboPayment()
        payment.CustomerRef = (
            invoice.CustomerRef.to_dict()
            if hasattr(invoice.CustomerRef, "to_dict")
            else {"value": invoice.CustomerRef.value}
        )
        payment.TotalAmt = Decimal(amount)
        payment.TxnDate = day
        payment.Line = [
            {"Amount": amount, "LinkedTxn": [{"TxnId": invoice.Id, "TxnType": "Invoice"}]}
        ]
        payment.save(qb=self.qb)


def _to(object_id: str, type_id: int) -> dict:
    return {
        "to": {"id": object_id},
        "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}],
    }


def service_item(systems, name: str) -> str:
    """A service item of the books, in their standard Services account; its id."""
    from quickbooks.objects.item import Item

    services = systems.qb.query("SELECT * FROM Account WHERE Name = 'Services'")
    item = Item()
    item.Name, item.Type = name, "Service"
    item.IncomeAccountRef = {"value": services["QueryResponse"]["Account"][0]["Id"]}
    return item.save(qb=systems.qb).Id
