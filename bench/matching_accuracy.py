"""How accurately customer matching links CRM records to the accounting customers they are,
on the sandbox generator's answer key (`generate(..., spelling_variants=True)`).

The accounting side holds each generated person as the books spell them (`name`, `email`,
postal code); the CRM side holds the same people as the CRM spells them (`crm_name`,
`crm_email`: a seeded ~30 % differ by case, a legal suffix, a one-letter typo, an email in
capitals or missing), plus 10 % CRM-only people the books never saw, who must be misses.
The answer is the person's key, the same on both sides.

- precision: right links among all proposed (sure + near);
- recall: right links among the people on both sides;
- sure precision: right links among the sure ones (those link without a person).

    .venv/bin/python bench/matching_accuracy.py --invoices 3000 30000 --seed 1
"""

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from legacy_matching import CustomerIndex, Party  # the matcher before issue 16

from sandbox.generator import generate

NEW_SHARE = 0.1


def sides(invoices: int, seed: int) -> tuple[list[Party], list[Party]]:
    """(accounting parties, CRM parties); a CRM-only party's id starts with "new"."""
    book = generate(invoices, seed=seed, discrepancies=False, spelling_variants=True)
    accounting = [Party(p.key, p.name, p.email, "", p.postal_code) for p in book.people]
    crm = [Party(p.key, p.name_in_crm, p.email_in_crm, "", p.postal_code) for p in book.people]
    # CRM-only people: generated like the book's (same first names, trades, postal codes),
    # numbered past them, with their own mailboxes.
    rng = random.Random(f"new:{seed}")  # noqa: S311 - benchmark data
    others = generate(invoices, seed=seed + 1, discrepancies=False).people
    count = len(book.people)
    for n, p in enumerate(rng.sample(others, int(count * NEW_SHARE))):
        name = f"{p.name.rsplit(' ', 1)[0]} {count + n}"
        crm.append(Party(f"new{n}", name, f"new.{n}@elsewhere.example", "", p.postal_code))
    rng.shuffle(crm)
    return accounting, crm


def measure(invoices: int, seed: int) -> dict:
    accounting, crm = sides(invoices, seed)
    began = time.perf_counter()
    index = CustomerIndex(accounting)
    results = [(party, index.match(party)) for party in crm]
    seconds = time.perf_counter() - began
    proposed = [(p, m) for p, m in results if m.kind in ("sure", "near")]
    right = [(p, m) for p, m in proposed if m.candidate.external_id == p.external_id]
    sure = [(p, m) for p, m in proposed if m.kind == "sure"]
    shared = sum(1 for p in crm if not p.external_id.startswith("new"))
    return {
        "people": len(accounting),
        "crm": len(crm),
        "sure": len(sure),
        "near": len(proposed) - len(sure),
        "precision": len(right) / len(proposed) if proposed else 1.0,
        "recall": len(right) / shared,
        "sure_precision": sum(1 for p, m in sure if m.candidate.external_id == p.external_id)
        / max(1, len(sure)),
        "seconds": seconds,
        "wrong": [
            (p.name, m.candidate.name, m.kind)
            for p, m in proposed
            if m.candidate.external_id != p.external_id
        ],
        "missed": [p.name for p, m in results if m.kind == "miss" and p.external_id[0] != "n"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, nargs="+", default=[3000, 30000])
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print("| invoices | people | CRM records | sure | near | precision | recall "
          "| sure precision | seconds |")  # fmt: skip
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    failures = []
    for invoices in args.invoices:
        r = measure(invoices, args.seed)
        print(f"| {invoices:,} | {r['people']:,} | {r['crm']:,} | {r['sure']:,} | {r['near']:,} "
              f"| {r['precision']:.4f} | {r['recall']:.4f} | {r['sure_precision']:.4f} "
              f"| {r['seconds']:.2f} |", flush=True)  # fmt: skip
        failures += [f"  wrong ({invoices}): {w}" for w in r["wrong"][:5]]
        failures += [f"  missed ({invoices}): {m!r}" for m in r["missed"][:5]]
    print("\n".join(failures))


if __name__ == "__main__":
    main()
