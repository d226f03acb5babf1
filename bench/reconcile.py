"""How fast a reconciliation goes from the snapshot in local tables to stored findings.

Builds a generated client's book (the sandbox generator: N invoices, N deals — one per job —
and N/5 customers, with every finding type planted), writes it as a reconciliation's
snapshot into PostgreSQL tables, then times loading the snapshot, running the detectors and
storing the findings, and reports the process's peak memory. Also checks the findings
against the generator's answer key.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sf_bench \\
        .venv/bin/python bench/reconcile.py [--invoices 10000 100000]
"""

import argparse
import os
import resource
import subprocess
import sys
import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sf_bench")
    os.environ["DJANGO_SETTINGS_MODULE"] = "syncfirm.settings.development"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if len(args.invoices) > 1:  # one process per size, so each peak is its own
        for size in args.invoices:
            subprocess.run([sys.executable, __file__, "--invoices", str(size)], check=True)  # noqa: S603
        return
    import django

    subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, str(ROOT / "scripts" / "test_database_url.py")], check=False,
        capture_output=True,
    )  # fmt: skip
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    run(args.invoices[0])


def run(size: int) -> None:
    from datetime import date

    from clients.models import Client, Firm
    from reconciliation import detectors
    from reconciliation.models import Reconciliation
    from reconciliation.run import _store_snapshot, reconcile_snapshot
    from sandbox.generator import generate

    began = time.perf_counter()
    book = generate(size, seed=11)
    paid = defaultdict(Decimal)
    for payment in book.payments:
        for invoice_key, amount in payment.applied:
            paid[invoice_key] += amount
    products = {p.key: p for p in book.products}

    def rows(lines) -> tuple:
        return tuple((products[line.product_key].sku, line.quantity, line.amount) for line in lines)

    invoices = [
        detectors.SnapInvoice(
            i.key, i.doc_number, i.customer_key, i.txn_date, i.total, i.total - paid[i.key],
            "USD", i.deal_key or "",
            rows(i.lines),
        )
        for i in book.invoices
    ]  # fmt: skip
    credits = [
        detectors.SnapCredit(c.key, c.customer_key, c.txn_date, c.amount, c.deal_key or "")
        for c in book.credit_memos
    ]
    deals = [
        detectors.SnapDeal(
            d.key, d.name, d.stage == "closedwon", d.amount, d.payment_status, d.amount_paid,
            d.customer_key, rows(d.lines),
            d.close_date,
        )
        for d in book.deals
    ]  # fmt: skip
    built = time.perf_counter() - began
    firm, _ = Firm.objects.get_or_create(slug="bench-recon", defaults={"name": "Bench Recon"})
    client, _ = Client.objects.get_or_create(
        firm=firm, slug=f"book-{size}", defaults={"name": f"Book {size}"}
    )
    Reconciliation.objects.filter(client=client).delete()
    recon = Reconciliation.objects.create(client=client, period=date(2026, 11, 1))
    began = time.perf_counter()
    _store_snapshot(recon, invoices, credits, deals)
    stored = time.perf_counter() - began
    del invoices, credits, deals
    began = time.perf_counter()
    found = reconcile_snapshot(recon, book.today)
    seconds = time.perf_counter() - began
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    planted = defaultdict(int)
    for p in book.answer_key:
        planted[p.code] += 1
    got = defaultdict(int)
    for f in found:
        got[f.code] += 1
    customers = len(book.people)
    print(
        f"{size:>7} invoices, {len(book.deals)} deals, {customers} customers: "
        f"snapshot → findings {seconds:.2f} s "
        f"({len(found)} findings; planted {len(book.answer_key)}); "
        f"peak RSS {peak_mb:.0f} MB; [book built {built:.1f} s, snapshot stored {stored:.1f} s]"
    )
    mismatched = {code: (got[code], n) for code, n in planted.items() if got[code] != n}
    print(f"        findings by code vs planted: {mismatched or 'all equal'}")


if __name__ == "__main__":
    main()
