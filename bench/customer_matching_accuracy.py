"""How well customer matching finds the accounting customer a CRM record already is, on the
sandbox generator's people (its answer key: a person's key on both sides).

The accounting side holds every generated person as the generator writes them. The CRM side
holds the same people, a seeded 30 % of them written differently (case, a legal suffix
added or dropped, a one-letter typo in a long word, the email in capitals or missing), plus
10 % new people the books have never seen. Precision: of the links matching proposes (sure
or near), how many are right; recall: of the people on both sides, how many it finds. Sure
links alone (made without a person) are reported too.

    .venv/bin/python bench/customer_matching_accuracy.py [--invoices 3000 30000] [--seed 7]
"""

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from connections.sync.matching import CustomerIndex, Party
from sandbox.generator import generate

SUFFIXES = [" LLC", " Inc.", " Co", " Ltd"]


def respelled(rng: random.Random, name: str) -> str:
    kind = rng.choice(["case", "suffix", "typo"])
    if kind == "case":
        return name.upper() if rng.random() < 0.5 else name.lower()
    if kind == "suffix":
        return name + rng.choice(SUFFIXES)
    words = name.split()
    long = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not long:
        return name.lower()
    i = rng.choice(long)
    word = words[i]
    at = rng.randrange(1, len(word) - 1)
    words[i] = word[:at] + word[at + 1] + word[at] + word[at + 2 :]  # two letters swapped
    return " ".join(words)


def sides(invoices: int, seed: int) -> tuple[list[Party], list[Party]]:
    book = generate(invoices, seed=seed, discrepancies=False)
    rng = random.Random(seed)  # noqa: S311 - benchmark data
    accounting = [Party(p.key, p.name, p.email, "", p.postal_code) for p in book.people]
    crm = []
    for p in book.people:
        name, email = p.name, p.email
        if rng.random() < 0.3:
            name = respelled(rng, name)
            email = rng.choice([email.upper(), "", email])
        crm.append(Party(p.key, name, email, "", p.postal_code))
    strangers = generate(invoices // 10 + 30, seed=seed + 1000, discrepancies=False).people
    for n, p in enumerate(strangers[: len(book.people) // 10]):
        # New people: other numbers than the book's, so no name is the book's by chance.
        name = p.name.rsplit(" ", 1)[0] + f" {900000 + n}"
        crm.append(Party(f"new{n}", name, f"new{n}@elsewhere.example", "", p.postal_code))
    return accounting, crm


def measure(invoices: int, seed: int) -> dict:
    accounting, crm = sides(invoices, seed)
    began = time.perf_counter()
    index = CustomerIndex(accounting)
    results = [(party, index.match(party)) for party in crm]
    seconds = time.perf_counter() - began
    proposed = [(p, m) for p, m in results if m.kind in ("sure", "near")]
    sure = [(p, m) for p, m in proposed if m.kind == "sure"]
    right = sum(1 for p, m in proposed if m.candidate.external_id == p.external_id)
    sure_right = sum(1 for p, m in sure if m.candidate.external_id == p.external_id)
    shared = sum(1 for p in crm if not p.external_id.startswith("new"))
    return {
        "people": len(accounting),
        "crm": len(crm),
        "seconds": seconds,
        "precision": right / len(proposed) if proposed else 1.0,
        "recall": right / shared,
        "sure_precision": sure_right / len(sure) if sure else 1.0,
        "sure_share": len(sure) / shared,
        "wrong": [
            (p.name, m.candidate.name, m.kind)
            for p, m in proposed
            if m.candidate.external_id != p.external_id
        ][:5],
        "missed": [
            p.name for p, m in results if m.kind == "miss" and not p.external_id.startswith("new")
        ][:5],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, nargs="+", default=[3000, 30000])
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(f"{'invoices':>8} {'people':>7} {'CRM':>7} {'precision':>9} {'recall':>7} "
          f"{'sure prec.':>10} {'sure share':>10} {'seconds':>8}")  # fmt: skip
    for invoices in args.invoices:
        r = measure(invoices, args.seed)
        print(f"{invoices:>8} {r['people']:>7} {r['crm']:>7} {r['precision']:>9.4f} "
              f"{r['recall']:>7.4f} {r['sure_precision']:>10.4f} {r['sure_share']:>10.3f} "
              f"{r['seconds']:>8.2f}")  # fmt: skip
        for wrong in r["wrong"]:
            print(f"         wrong: {wrong}")
        for missed in r["missed"]:
            print(f"         missed: {missed}")


if __name__ == "__main__":
    main()
