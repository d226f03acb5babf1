"""How fast a reconciliation goes from both systems' records (the snapshot the adapters
read) to the client's updated ledger in PostgreSQL, and that an unchanged re-run writes nothing.

Builds a generated client's book (the sandbox generator: N invoices, about 1.1 N deals —
one per job and the open quotes — and N/5 customers, with every finding type planted), then
times `reconcile_records` (judging the month, the detectors, materiality, each finding's
records, the ledger update) on an empty ledger, again on the same records (it must write 0
rows), and reports the process's peak memory. Also checks the findings against the
generator's answer key.

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
    from clients.models import Client, Firm
    from reconciliation import detectors
    from reconciliation.models import Finding, Reconciliation
    from reconciliation.run import reconcile_records
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
            "USD", i.deal_key or "", rows(i.lines),
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
            d.customer_key, rows(d.lines), d.close_date,
        )
        for d in book.deals
    ]  # fmt: skip
    built = time.perf_counter() - began
    firm, _ = Firm.objects.get_or_create(slug="bench-recon", defaults={"name": "Bench Recon"})
    client, _ = Client.objects.get_or_create(
        firm=firm, slug=f"book-{size}", defaults={"name": f"Book {size}"}
    )
    Reconciliation.objects.filter(client=client).delete()
    Finding.objects.filter(client=client).delete()
    snapshot = {"invoices": invoices, "credits": credits, "deals": deals}
    period = book.today.replace(day=1)
    timings, written = [], []
    for _ in range(2):  # the first run fills the ledger; the second finds it unchanged
        recon = Reconciliation.objects.create(client=client, period=period, status="done")
        began = time.perf_counter()
        outcome = reconcile_records(recon, snapshot, book.today)
        timings.append(time.perf_counter() - began)
        written.append(outcome.rows_written)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    found = Finding.objects.filter(client=client, status="open").values_list("code", flat=True)
    planted, got = defaultdict(int), defaultdict(int)
    for p in book.answer_key:
        planted[p.code] += 1
    for code in found:
        got[code] += 1
    print(
        f"{size:>7} invoices, {len(book.deals)} deals, {len(book.people)} customers: "
        f"records → ledger {timings[0]:.2f} s ({written[0]} rows written, {sum(got.values())} "
        f"findings; planted {len(book.answer_key)}); unchanged re-run {timings[1]:.2f} s, "
        f"{written[1]} rows written; peak RSS {peak_mb:.0f} MB [book built {built:.1f} s]"
    )
    mismatched = {code: (got[code], n) for code, n in planted.items() if got[code] != n}
    print(f"        findings by code vs planted: {mismatched or 'all equal'}")


if __name__ == "__main__":
    main()
