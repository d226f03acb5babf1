"""Deals to invoices: latency with the worker running, calls of an unchanged system, and
QuickBooks write calls for a bulk of closed-won deals.

Starts the app's own server and a django-q2 worker (`qcluster`, ORM broker), as `make demo`
does, on throw-away SQLite databases; connects a client through the real OAuth flow; points
both sandbox accounts' webhooks at the server; imports (which records the deals already won).

1. Latency: moves deals to closed-won one at a time through HubSpot's API and times until
   the invoice is readable in QuickBooks (webhook → receiver → task → sync → invoice).
2. Unchanged system: one more sync with nothing changed; counts every call by route.
3. Bulk: N closed-won deals written straight into HubSpot (webhooks off), then one sync;
   counts QuickBooks write calls (batch POSTs; queries are reads) against the budget
   ceil(N/30) + 5 %.

    .venv/bin/python bench/invoice_sync.py [--latency-deals 40] [--bulk-deals 5000]
"""

import argparse
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from sandbox_reads import PYTHON, call, free_port, start_server  # noqa: E402

LINE_ITEM_TO_DEAL, DEAL_TO_COMPANY = 20, 5
PRODUCTS = [
    ("Roof inspection", "RF-INSP", "185.00"),
    ("Gutter install (per ft)", "GT-INST", "12.50"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-deals", type=int, default=40)
    parser.add_argument("--bulk-deals", type=int, default=5000)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="sf-invoice-bench-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    os.environ.update(
        DJANGO_SETTINGS_MODULE="syncfirm.settings.development",
        DEBUG="false",
        LOG_LEVEL="WARNING",
        DATABASE_URL=f"sqlite:///{workdir / 'app.sqlite3'}",
        SANDBOX_DATABASE_URL=f"sqlite:///{workdir / 'sandbox.sqlite3'}",
        SANDBOX_BASE_URL=base,
        PUBLIC_BASE_URL=base,
    )
    server = start_server(workdir, port)
    worker = subprocess.Popen(  # noqa: S603 - fixed arguments
        [PYTHON, "manage.py", "qcluster"],
        cwd=ROOT,
        env=os.environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        run(base, args.latency_deals, args.bulk_deals)
    finally:
        for process in (worker, server):
            process.terminate()
        for process in (worker, server):
            process.wait(timeout=15)


def run(base: str, latency_deals: int, bulk_deals: int) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    from clients.models import Client, Firm
    from connections.models import Connection
    from sync.customers import run_customer_sync
    from sync.models import RunKind

    firm = Firm.objects.create(name="Bench Firm", slug="bench-firm")
    client = Client.objects.create(firm=firm, name="Bench Contractor", slug="bench")
    call_command("connect_sandbox", "bench", stdout=open(os.devnull, "w"))  # noqa: SIM115
    qbo = Connection.objects.get(client=client, system="quickbooks")
    hub = Connection.objects.get(client=client, system="hubspot")
    control = f"{base}/sandbox/control"
    qbo_path, hub_path = (
        f"quickbooks/companies/{qbo.external_id}",
        f"hubspot/portals/{hub.external_id}",
    )
    for path in (qbo_path, hub_path):
        call("PATCH", f"{control}/{path}", {"rate_limits": False})
    qbo.refresh_from_db()
    hub.refresh_from_db()
    qbo_api = f"{base}/sandbox/quickbooks/v3/company/{qbo.external_id}"
    hub_api = f"{base}/sandbox/hubspot/crm/v3/objects"
    # A new company starts with the standard chart of accounts: products go in "Services".
    services = quote("SELECT * FROM Account WHERE Name = 'Services'")
    found = call("GET", f"{qbo_api}/query?query={services}&minorversion=75", None, qbo.access_token)
    account = found["QueryResponse"]["Account"][0]
    for name, sku, price in PRODUCTS:
        call("POST", f"{qbo_api}/item?minorversion=75",
             {"Name": name, "Sku": sku, "Type": "Service", "UnitPrice": price,
              "IncomeAccountRef": {"value": account["Id"]}}, qbo.access_token)  # fmt: skip
    cedar = {"properties": {"name": "Cedar Roofing", "zip": "78701"}}
    company = call("POST", f"{hub_api}/companies", cedar, hub.access_token)["id"]
    run_customer_sync(client, kind=RunKind.IMPORT, full=True)

    def deals(count: int, stage: str) -> list[str]:
        ids = []
        for start in range(0, count, 100):
            inputs = [
                {
                    "properties": {"dealname": f"Job {start + n}", "dealstage": stage,
                                   "pipeline": "default", "closedate": "2026-11-20T15:00:00Z"},
                    "associations": [_to(company, DEAL_TO_COMPANY)],
                }
                for n in range(min(100, count - start))
            ]  # fmt: skip
            made = call(
                "POST", f"{hub_api}/deals/batch/create", {"inputs": inputs}, hub.access_token
            )
            ids += [m["id"] for m in made["results"]]
        lines = [
            {
                "properties": {"name": name, "hs_sku": sku, "quantity": "2", "price": price},
                "associations": [_to(deal, LINE_ITEM_TO_DEAL)],
            }
            for deal in ids
            for name, sku, price in PRODUCTS
        ]
        for start in range(0, len(lines), 100):
            call("POST", f"{hub_api}/line_items/batch/create",
                 {"inputs": lines[start : start + 100]}, hub.access_token)  # fmt: skip
        return ids

    def calls(system: str, account: str) -> list[dict]:
        return call("DELETE", f"{control}/requests?system={system}&account={account}")["requests"]

    def invoice_exists(deal: str) -> bool:
        query = f"SELECT * FROM Invoice WHERE DocNumber = 'SF-{deal}'"  # noqa: S608 - an id
        answer = _query(qbo_api, query, qbo.access_token)
        return bool(answer.get("QueryResponse", {}).get("Invoice"))

    # 1. Latency, worker running.
    latencies = []
    for deal in deals(latency_deals, "contractsent"):
        began = time.perf_counter()
        call(
            "PATCH",
            f"{hub_api}/deals/{deal}",
            {"properties": {"dealstage": "closedwon"}},
            hub.access_token,
        )
        while not invoice_exists(deal):
            if time.perf_counter() - began > 30:
                raise SystemExit(f"deal {deal}: no invoice after 30 s")
            time.sleep(0.02)
        latencies.append(time.perf_counter() - began)
    time.sleep(3)  # let the last webhook-started runs finish
    quantiles = statistics.quantiles(latencies, n=20)
    print(f"1. webhook → invoice readable, {len(latencies)} deals, worker running: "
          f"p50 {statistics.median(latencies):.2f} s, p95 {quantiles[18]:.2f} s, "
          f"max {max(latencies):.2f} s")  # fmt: skip

    # 2. Unchanged system: webhooks off from here on (the bulk must not race the worker).
    for path in (qbo_path, hub_path):
        call("PATCH", f"{control}/{path}", {"webhook_url": ""})
    calls("quickbooks", qbo.external_id), calls("hubspot", hub.external_id)
    quiet = run_customer_sync(client, kind=RunKind.SCHEDULED)
    seen = calls("quickbooks", qbo.external_id) + calls("hubspot", hub.external_id)
    writes = sum(
        r["count"]
        for r in seen
        if r["system"] == "quickbooks" and r["method"] == "POST" and not _is_read(r["route"])
    )
    print(f"2. unchanged system, one scheduled sync ({quiet.status}): {writes} QuickBooks writes, "
          f"{quiet.counts.get('invoices_updated', 0)} CRM updates; every call:")  # fmt: skip
    for row in seen:
        print(f"     {row['system']:<10} {row['method']:<6} {row['route']:<60} x{row['count']}")

    # 3. Bulk.
    began = time.perf_counter()
    made = deals(bulk_deals, "closedwon")
    setup = time.perf_counter() - began
    calls("quickbooks", qbo.external_id)
    began = time.perf_counter()
    bulk = run_customer_sync(client, kind=RunKind.MANUAL)
    seconds = time.perf_counter() - began
    seen = calls("quickbooks", qbo.external_id)
    writes = sum(r["count"] for r in seen if r["method"] == "POST" and not _is_read(r["route"]))
    invoiced = bulk.counts.get("invoices_created", 0)
    budget = math.ceil(math.ceil(len(made) / 30) * 1.05)
    print(f"3. bulk: {len(made)} closed-won deals (written in {setup:.0f} s) → {invoiced} invoices "
          f"in {seconds:.1f} s with {writes} QuickBooks write calls "
          f"(budget ceil({len(made)}/30) + 5% = {budget}); run {bulk.status}")  # fmt: skip


def _is_read(route: str) -> bool:
    """QuickBooks queries are POSTs that only read."""
    return route.endswith("query")


def _query(api: str, text: str, token: str) -> dict:
    import urllib.parse
    import urllib.request

    request = urllib.request.Request(  # noqa: S310 - loopback
        f"{api}/query?minorversion=75", data=text.encode(), method="POST"
    )
    request.add_header("Content-Type", "application/text")
    request.add_header("Authorization", f"Bearer {token}")
    request.add_header("Accept", "application/json")
    import json

    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
        return json.loads(response.read())


def _to(object_id: str, type_id: int) -> dict:
    return {
        "to": {"id": object_id},
        "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}],
    }


if __name__ == "__main__":
    main()
