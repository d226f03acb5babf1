"""The fault campaign: closed-won deals invoiced while the sandbox fails on purpose.

1,000 deals (FAULT_CAMPAIGN_DEALS to change it) move to closed-won while the books (each
accounting system of the contract suite in turn) answer 10 % of calls with a 5xx, cut 5 %
of answers after committing, throttle in bursts and ignore idempotency keys; HubSpot
duplicates and reorders its webhooks and fails 10 % of calls; a worker is killed once right
after sending invoices. Webhook-started runs and scheduled pulls race. The end state:
exactly one invoice per deal, the right payment status on every deal once payments are
recorded, and every failed write visible in the sync log. Seeded, so a failure repeats;
bounded, so CI stays quick.
"""

import os
import random
from collections import Counter
from decimal import Decimal

import pytest
import requests

from connections import retries
from connections.adapters import accounting_adapter
from connections.hubspot.subscriptions import ensure_subscriptions
from sync.customers import run_customer_sync
from sync.models import InvoiceLink, InvoiceState, RecordOutcome, RunKind, SyncRun, SyncSettings

from ..sandbox.conftest import sandbox_db
from ..sync_support import DEAL_TO_COMPANY, LINE_ITEM_TO_DEAL, _to

pytestmark = sandbox_db

DEALS = int(os.environ.get("FAULT_CAMPAIGN_DEALS", "1000"))
SEED = 20261122
MAX_PULLS = 40  # settles in far fewer; room for a slow machine (once 970 of 1000 at 25 under load)
BOOKS_FAULTS = {"error_rate": 0.10, "drop_after_commit_rate": 0.05, "throttle": True}
HUBSPOT_FAULTS = {"error_rate": 0.10, "webhook_duplicate_rate": 0.3}


def hubspot_batches(systems, kind: str, inputs: list[dict], action: str = "create") -> list:
    made = []
    api = getattr(systems.hubspot.crm, kind).batch_api
    for start in range(0, len(inputs), 100):
        chunk = {"inputs": inputs[start : start + 100]}
        made += getattr(api, action)(chunk).results
    return made


@pytest.fixture
def campaign(world, sandbox):
    # Waits are honoured (429 → retry after Retry-After) but kept short for CI (`world`).
    systems = world
    systems.books.add_item("Roof inspection", "RF-INSP")
    company = systems.company(name="Cedar Roofing", zip="78701")
    run_customer_sync(systems.client, kind=RunKind.IMPORT, full=True)
    deals = hubspot_batches(
        systems,
        "deals",
        [
            {
                "properties": {
                    "dealname": f"Job {n}",
                    "dealstage": "contractsent",
                    "pipeline": "default",
                    "closedate": "2026-11-20T15:00:00Z",
                },
                "associations": [_to(company, DEAL_TO_COMPANY)],
            }
            for n in range(DEALS)
        ],
    )
    rng = random.Random(SEED)  # noqa: S311 - test data
    prices = {}
    lines = []
    for deal in deals:
        quantity, price = rng.randint(1, 5), Decimal(rng.randint(50, 900))
        prices[deal.id] = quantity * price
        lines.append(
            {
                "properties": {
                    "name": "Roof inspection",
                    "hs_sku": "RF-INSP",
                    "quantity": str(quantity),
                    "price": str(price),
                },
                "associations": [_to(deal.id, LINE_ITEM_TO_DEAL)],
            }
        )
    hubspot_batches(systems, "line_items", lines)
    systems.control(
        f"hubspot/portals/{systems.hub_connection.external_id}",
        webhook_url=f"{sandbox}/webhooks/hubspot/",
    )
    ensure_subscriptions()
    systems.prices = prices
    return systems


def pull_until_settled(systems, kill_once: bool = False, monkeypatch=None) -> list[SyncRun]:
    runs = []
    for n in range(MAX_PULLS):
        if kill_once and n == 0:
            kill_after_first_batch(type(systems.adapter), monkeypatch)
        try:
            runs.append(run_customer_sync(systems.client, kind=RunKind.SCHEDULED))
        except SystemExit:
            monkeypatch.undo()
            monkeypatch.setattr(retries, "_wait", lambda state: 0.01)
            monkeypatch.setattr("sandbox.emulation.PLAN_CACHE_SECONDS", 0)
            SyncSettings.objects.filter(client=systems.client).update(
                lease_run=None, lease_until=None
            )  # the killed worker's lease, expired
            continue
        pending = InvoiceLink.objects.filter(client=systems.client).exclude(
            state__in=[InvoiceState.CREATED, InvoiceState.HISTORICAL]
        )
        if len(created_invoices(systems)) >= DEALS and not pending.exists():
            break
    return runs


def kill_after_first_batch(adapter: type, monkeypatch) -> None:
    create = adapter.create_invoices

    def killed(self, *args, **kwargs):
        create(self, *args, **kwargs)
        raise SystemExit("worker killed after sending a batch of invoices")

    monkeypatch.setattr(adapter, "create_invoices", killed)


def stubborn(operation, tries: int = 30):
    """The test's own calls, made while the sandbox fails on purpose."""
    for _ in range(tries - 1):
        try:
            return operation()
        except Exception:  # noqa: S112 - an injected fault; try again
            continue
    return operation()


def created_invoices(systems) -> list[dict]:
    return systems.books.invoices()


def test_a_thousand_deals_through_faults_make_exactly_a_thousand_invoices(campaign, monkeypatch):
    systems = campaign
    systems.faults("books", seed=SEED, ignore_requestid=True, **BOOKS_FAULTS)
    systems.faults("hubspot", seed=SEED, **HUBSPOT_FAULTS)
    deal_ids = list(systems.prices)
    for start in range(0, len(deal_ids), 100):  # the contractor wins them, 100 at a time
        chunk = [
            {"id": d, "properties": {"dealstage": "closedwon"}}
            for d in deal_ids[start : start + 100]
        ]
        stubborn(lambda c=chunk: systems.hubspot.crm.deals.batch_api.update({"inputs": c}))

    runs = pull_until_settled(systems, kill_once=True, monkeypatch=monkeypatch)
    systems.faults("books")
    systems.faults("hubspot")
    systems.settle(60)

    invoices = created_invoices(systems)
    by_deal = Counter(inv["deal"] for inv in invoices)
    duplicates = {note: n for note, n in by_deal.items() if n > 1}
    assert duplicates == {}, f"{len(duplicates)} deals with more than one invoice"
    assert len(invoices) == DEALS
    totals = {inv["deal"]: inv["total"] for inv in invoices}
    assert totals == {d: Decimal(p).quantize(Decimal("0.01")) for d, p in systems.prices.items()}

    # Every failed write is in the log: the sandbox's count of batch calls it failed or cut
    # is matched by failed invoice outcomes (each such call fails every deal it carried).
    log = requests.get(
        f"{systems.sandbox}/sandbox/control/requests",
        params={"system": systems.books.system, "account": systems.qbo_connection.external_id},
        timeout=10,
    ).json()["requests"]
    failed_batches = sum(
        r["count"]
        for r in log
        if systems.books.is_invoice_write(r) and r["fault"] in ("error", "drop_after_commit")
    )
    failed_outcomes = RecordOutcome.objects.filter(
        run__client=systems.client, crm_type="deals", outcome="failed"
    ).count()
    assert failed_batches > 0, "the campaign injected no write failure: it proves nothing"
    assert failed_outcomes >= failed_batches
    killed = SyncRun.objects.filter(client=systems.client, error__contains="Stopped without")
    assert killed.exists(), "the killed run is not in the log"
    assert len(runs) <= MAX_PULLS

    # Payments recorded in the books come back to every deal, faults on again.
    rng = random.Random(SEED + 1)  # noqa: S311 - test data
    expected = {}
    for invoice in invoices:
        deal, total = invoice["deal"], invoice["total"]
        choice = rng.choice(["none", "half", "all"])
        expected[deal] = {"none": "unpaid", "half": "partially_paid", "all": "paid"}[choice]
        if choice != "none":
            amount = total if choice == "all" else (total / 2).quantize(Decimal("0.01"))
            systems.books.pay(invoice["id"], invoice["customer"], amount)
    systems.faults("books", seed=SEED + 2, **BOOKS_FAULTS)
    systems.faults("hubspot", seed=SEED + 2, error_rate=0.10)
    for _ in range(MAX_PULLS):
        run_customer_sync(systems.client, kind=RunKind.SCHEDULED)
        shown = dict(
            InvoiceLink.objects.filter(client=systems.client).values_list(
                "deal_id", "payment_status"
            )
        )
        if all(shown.get(d) == s for d, s in expected.items()):
            break
    systems.faults("books")
    systems.faults("hubspot")
    wrong = {}
    for start in range(0, len(deal_ids), 100):
        read = systems.hubspot.crm.deals.batch_api.read(
            {
                "inputs": [{"id": d} for d in deal_ids[start : start + 100]],
                "properties": ["syncfirm_payment_status"],
            }
        )
        for deal in read.results:
            if deal.properties.get("syncfirm_payment_status") != expected[deal.id]:
                wrong[deal.id] = (deal.properties.get("syncfirm_payment_status"), expected[deal.id])
    assert wrong == {}, f"{len(wrong)} deals show the wrong payment status"


JOBBER_INVOICES = int(os.environ.get("FAULT_CAMPAIGN_JOBBER_INVOICES", "300"))


@pytest.fixture
def jobber_campaign(jobber_and_quickbooks):
    """A Jobber client with QuickBooks books, syncfirm posting: after the import, the
    contractor issues JOBBER_INVOICES invoices in Jobber for one client."""
    from sandbox.jobber.ids import decode_id
    from sandbox.jobber.models import Client as JobberClient

    from .worlds import _book_for_client

    client, books, crm = jobber_and_quickbooks
    company = crm.company("Cedar Roofing", zip="78701")
    run_customer_sync(client, kind=RunKind.IMPORT, full=True)
    rng = random.Random(SEED)  # noqa: S311 - test data
    invoices, totals = [], {}
    for n in range(JOBBER_INVOICES):
        quantity, price = rng.randint(1, 5), Decimal(rng.randint(50, 900))
        number = str(5000 + n)
        totals[f"SF-{number}"] = Decimal(quantity * price).quantize(Decimal("0.01"))
        invoices.append(
            {"key": f"i{n}", "client": "stand-in", "invoice_number": number,
             "invoice_status": "awaiting_payment", "issued_date": "2026-11-20",
             "due_date": "2026-12-20", "subject": f"Job {n}",
             "lines": [{"name": "Roof inspection", "quantity": str(quantity),
                        "unit_price": str(price)}]}
        )  # fmt: skip
    owner = JobberClient.objects.using("sandbox").get(pk=decode_id(company)[1])
    _book_for_client(crm, owner, "stand-in", {"clients": [], "jobs": [], "invoices": invoices})
    return client, books, crm, totals


def test_jobber_invoices_through_faults_are_posted_exactly_once(jobber_campaign, monkeypatch):
    """The same campaign with Jobber as the source: its issued invoices posted while the
    books fail on purpose (5xx, answers cut after committing, throttling, idempotency keys
    ignored), Jobber fails 10 % of its queries, and a worker dies once after sending."""
    client, books, crm, totals = jobber_campaign

    def faults(system: str, account: str, **plan) -> None:
        requests.put(
            f"{books.sandbox}/sandbox/control/faults",
            json={"system": system, "account": account, **plan},
            timeout=10,
        ).raise_for_status()

    books_account, crm_account = books.connection.external_id, str(crm.account_id)
    faults("quickbooks", books_account, seed=SEED, ignore_requestid=True, **BOOKS_FAULTS)
    faults("jobber", crm_account, seed=SEED, error_rate=0.10)
    kill_after_first_batch(type(accounting_adapter(books.connection)), monkeypatch)
    killed = False
    for _ in range(MAX_PULLS):
        try:
            run_customer_sync(client, kind=RunKind.SCHEDULED)
        except SystemExit:
            killed = True
            monkeypatch.undo()
            monkeypatch.setattr(retries, "_wait", lambda state: 0.01)
            monkeypatch.setattr("sandbox.emulation.PLAN_CACHE_SECONDS", 0)
            SyncSettings.objects.filter(client=client).update(lease_run=None, lease_until=None)
            continue
        pending = InvoiceLink.objects.filter(client=client).exclude(state=InvoiceState.CREATED)
        if len(books.invoices()) >= JOBBER_INVOICES and not pending.exists():
            break
    faults("quickbooks", books_account)
    faults("jobber", crm_account)

    posted = books.invoices()
    numbers = Counter(i["number"] for i in posted)
    assert {n: c for n, c in numbers.items() if c > 1} == {}, "an invoice posted twice"
    assert {i["number"]: i["total"] for i in posted} == totals
    assert killed, "the worker was never killed: the campaign proves less than it says"
    failed = RecordOutcome.objects.filter(run__client=client, crm_type="deals", outcome="failed")
    assert failed.exists(), "no write failed: the campaign injected nothing"
