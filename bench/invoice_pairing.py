"""How well CRM invoices are paired with the books invoices another integration made of them
(`sync.invoice_pairing`), on `sandbox.third_party_sync`'s simulated integration, with its
answer key.

    .venv/bin/python bench/invoice_pairing.py --invoices 500 2000 --seeds 1 2 3 4 5

Per size, over the seeds:
- pairs: of the sure pairs, how many are right (precision); of the CRM invoices that were
  posted, how many were paired surely with one of their postings (recall);
- copies: second postings found (posted twice, or keyed again by hand) against the key;
- missing: CRM invoices paired with nothing against those never posted;
- review: near pairs left for a person, as a share of the CRM invoices;
- time to pair, and pairs per second.
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "syncfirm.settings.development")

import django

django.setup()

from sandbox.third_party_sync import simulate  # noqa: E402
from sync.invoice_pairing import books_side, crm_side, pair  # noqa: E402


def ratio(right: int, total: int) -> float:
    return right / total if total else 1.0


def grade(size: int, seed: int) -> dict:
    audit = simulate(size, seed)
    crm = [crm_side(i, audit.customer_of) for i in audit.crm]
    books = [books_side(i) for i in audit.books]
    started = time.perf_counter()
    found = pair(crm, books)
    seconds = time.perf_counter() - started
    postings: dict[str, set[str]] = {c: {b} for c, b in audit.truth.items()}
    for copy, c in audit.copies.items():
        postings.setdefault(c, set()).add(copy)
    right = sum(1 for p in found.sure if p.books in postings.get(p.crm, ()))
    right_copies = sum(1 for c in found.copies if {c.kept, c.copy} <= postings.get(c.crm, set()))
    skipped = set(audit.faults.get("skipped", []))
    return {
        "sure": len(found.sure),
        "right": right,
        "posted": len(postings),
        "copies": len(found.copies),
        "right_copies": right_copies,
        "true_copies": len(audit.copies),
        "missing": len(found.crm_only),
        "right_missing": len(skipped & set(found.crm_only)),
        "true_missing": len(skipped),
        "near": len(found.near),
        "crm": len(crm),
        "seconds": seconds,
        "wrong": [
            (p.crm, p.books, round(p.probability, 4), p.reason)
            for p in found.sure
            if p.books not in postings.get(p.crm, ())
        ],
        "unpaired": [c for c in postings if c not in found.books_of()],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invoices", type=int, nargs="+", default=[500, 2000])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--show", action="store_true", help="print the wrong and missed pairs")
    args = parser.parse_args()
    print(
        "| invoices | seeds | pair precision | pair recall | copies P / R | missing P / R "
        "| review | seconds per run |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for size in args.invoices:
        runs = [grade(size, seed) for seed in args.seeds]
        total = {k: sum(r[k] for r in runs) for k in runs[0] if k not in ("wrong", "unpaired")}
        print(
            f"| {size:,} | {len(runs)} | {ratio(total['right'], total['sure']):.4f} "
            f"| {ratio(total['right'], total['posted']):.4f} "
            f"| {ratio(total['right_copies'], total['copies']):.3f} / "
            f"{ratio(total['right_copies'], total['true_copies']):.3f} "
            f"| {ratio(total['right_missing'], total['missing']):.3f} / "
            f"{ratio(total['right_missing'], total['true_missing']):.3f} "
            f"| {ratio(total['near'], total['crm']):.1%} "
            f"| {total['seconds'] / len(runs):.2f} |"
        )
        if args.show:
            for r in runs:
                for wrong in r["wrong"]:
                    print("  wrong:", wrong)
                print("  unpaired:", r["unpaired"][:20])


if __name__ == "__main__":
    main()
