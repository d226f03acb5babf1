"""How long deleting a reconciliation, then its client, takes with 100,000 findings in the
client's ledger (each with a month's view row), and in how many statements.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sf_bench \\
        .venv/bin/python bench/delete_cost.py [--findings 100000]
"""

import argparse
import os
import subprocess
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--findings", type=int, default=100_000)
    args = parser.parse_args()
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sf_bench")
    os.environ["DJANGO_SETTINGS_MODULE"] = "syncfirm.settings.development"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, str(ROOT / "scripts" / "test_database_url.py")], check=False,
        capture_output=True,
    )  # fmt: skip
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    run(args.findings)


def run(size: int) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from clients.models import Client, Firm
    from reconciliation import totals
    from reconciliation.models import Finding, FindingMonth, Reconciliation
    from syncfirm.copy_rows import copy_rows

    firm, _ = Firm.objects.get_or_create(slug="bench-delete", defaults={"name": "Bench Delete"})
    Client.objects.filter(firm=firm).delete()
    client = Client.objects.create(firm=firm, slug="many", name="Many Findings")
    period = date(2026, 11, 1)
    recon = Reconciliation.objects.create(client=client, period=period, status="done")
    began = time.perf_counter()
    copy_rows(
        Finding,
        (
            {"client_id": client.pk, "reconciliation_id": recon.pk, "key": f"k{n}",
             "code": "stale_open_invoice", "severity": "low", "amount": Decimal("10.00"),
             "currency": "USD", "direction": "AR", "reason": "old", "invoice_ids": [str(n)],
             "records": {"deal": None, "invoices": []}, "fingerprint": f"f{n}",
             "first_period": period, "last_period": period, "status": "open"}
            for n in range(size)
        ),
    )  # fmt: skip
    ids = Finding.objects.filter(client=client).values_list("pk", flat=True)
    copy_rows(
        FindingMonth,
        ({"client_id": client.pk, "finding_id": pk, "period": period,
          "amount": Decimal("10.00"), "severity": "low"} for pk in ids),
    )  # fmt: skip
    totals.refresh([client.pk])
    print(f"{size} findings and {size} month rows written in {time.perf_counter() - began:.1f} s")
    for name, target in (("the reconciliation", recon), ("the client", client)):
        with CaptureQueriesContext(connection) as queries:
            began = time.perf_counter()
            target.delete()
            seconds = time.perf_counter() - began
        print(f"deleting {name}: {seconds:.2f} s, {len(queries)} statements")
    print(f"left: {Finding.objects.filter(client_id=client.pk).count()} findings")


if __name__ == "__main__":
    main()
