"""How many QuickBooks write calls a historical customer import makes.

Starts the app's own server (as `make demo` does, throw-away SQLite databases), connects a
client to a new sandbox QuickBooks company and HubSpot portal through the real OAuth flow,
fills HubSpot with N companies (a share of them already in QuickBooks, spelled a little
differently, so the import links those instead of creating them), then runs the import's
preview and the import itself in this process, through the adapters, over HTTP. Write
calls are counted in the sandbox's request log (batch POSTs; queries are reads).

Target (issue 5): at most ceil(N/30) + 5 % write calls, at least 25x fewer than one per record.

    .venv/bin/python bench/customer_import.py [--companies 10000] [--existing 0.2]
"""

import argparse
import math
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from sandbox_reads import call, free_port, start_server  # noqa: E402

TRADES = ["Roofing", "Builders", "Renovations", "Homes", "Construction", "Plumbing", "Electric"]
CONSONANTS, VOWELS = "bcdfghjklmnprstvwz", "aeiou"


def company_names(rng: random.Random, count: int) -> list[str]:
    """Distinct names as real firms have them: an invented word and a trade, no numbers."""
    names: set[str] = set()
    while len(names) < count:
        pairs = rng.randint(3, 5)
        word = "".join(rng.choice(CONSONANTS) + rng.choice(VOWELS) for _ in range(pairs))
        word = word.capitalize()
        names.add(f"{word} {rng.choice(TRADES)}")
    return sorted(names)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=10_000)
    parser.add_argument("--existing", type=float, default=0.2, help="share already in QuickBooks")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="sf-import-bench-"))
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
    try:
        run(base, args.companies, args.existing)
    finally:
        server.terminate()
        server.wait(timeout=10)


def run(base: str, companies: int, existing_share: float) -> None:
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
    for path in (f"quickbooks/companies/{qbo.external_id}", f"hubspot/portals/{hub.external_id}"):
        # Bulk set-up and a bulk import would wait on the real per-minute limits for minutes;
        # lifted, the count of calls is the same and the run takes seconds. No webhooks.
        call("PATCH", f"{control}/{path}", {"rate_limits": False, "webhook_url": ""})

    rng = random.Random(5)  # noqa: S311 - benchmark data
    names = company_names(rng, companies)
    in_books = set(rng.sample(range(companies), int(companies * existing_share)))
    started = time.perf_counter()
    hub.refresh_from_db()
    for start in range(0, companies, 100):
        inputs = [
            {"properties": {"name": names[n], "zip": f"787{n % 100:02d}", "phone": _phone(n)}}
            for n in range(start, min(start + 100, companies))
        ]
        call(
            "POST",
            f"{base}/sandbox/hubspot/crm/v3/objects/companies/batch/create",
            {"inputs": inputs},
            hub.access_token,
        )
    qbo.refresh_from_db()
    existing = sorted(in_books)
    for start in range(0, len(existing), 30):
        items = [
            {
                "bId": str(n),
                "operation": "create",
                "Customer": {
                    "DisplayName": f"{names[n]} LLC",  # the books spell it with the suffix
                    "BillAddr": {"PostalCode": f"787{n % 100:02d}"},
                    "PrimaryPhone": {"FreeFormNumber": _phone(n)},
                },
            }
            for n in existing[start : start + 30]
        ]
        call(
            "POST",
            f"{base}/sandbox/quickbooks/v3/company/{qbo.external_id}/batch?minorversion=75",
            {"BatchItemRequest": items},
            qbo.access_token,
        )
    print(f"set-up: {companies} HubSpot companies, {len(existing)} of them already in QuickBooks "
          f"({time.perf_counter() - started:.1f} s)")  # fmt: skip

    def writes() -> int:
        log = call("DELETE", f"{control}/requests?system=quickbooks&account={qbo.external_id}")
        return sum(
            r["count"]
            for r in log["requests"]
            if r["method"] == "POST" and not r["route"].endswith("query")
        )

    writes()
    rows = []
    for label, kind, dry in (
        ("preview (dry run)", RunKind.IMPORT_PREVIEW, True),
        ("import", RunKind.IMPORT, False),
        ("sync again", RunKind.MANUAL, False),
    ):
        began = time.perf_counter()
        made = run_customer_sync(client, kind=kind, full=kind != RunKind.MANUAL, dry_run=dry)
        seconds = time.perf_counter() - began
        counts = {k: v for k, v in made.counts.items() if isinstance(v, int) and v}
        rows.append((label, made.status, writes(), seconds, counts))
        for held in made.outcomes.filter(outcome="held")[:3]:
            print(f"  held in {label}: {held.name}: {held.reason}")

    print(f"{'run':<18} {'status':<10} {'QBO writes':>10} {'seconds':>8}  counts")
    for label, status, calls, seconds, counts in rows:
        print(f"{label:<18} {status:<10} {calls:>10} {seconds:>8.1f}  {counts}")
    imported = rows[1][4].get("created", 0) + rows[1][4].get("updated", 0)
    budget = math.ceil(math.ceil(imported / 30) * 1.05)
    print(
        f"\nimport: {imported} customers written in {rows[1][2]} write calls "
        f"(budget ceil({imported}/30) + 5% = {budget}; one call per record would be {imported}, "
        f"{imported / max(rows[1][2], 1):.1f}x more)"
    )


def _phone(n: int) -> str:
    return f"+1 512 55{n // 10000 % 10} {n % 10000:04d}"


if __name__ == "__main__":
    main()
