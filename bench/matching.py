"""How fast customer matching runs: N CRM records against N accounting customers.

Synthetic data with a key: 80 % of the CRM records are accounting customers written a little
differently (case, legal suffix, a typo, email case, a missing email), 20 % are new people.
Prints time and peak memory for each size, the precision of sure matches (linked without a
person), and precision/recall of sure + near (near ones go to the review queue).

    .venv/bin/python bench/matching.py [--sizes 5000 10000 20000]
"""

import argparse
import random
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from legacy_matching import CustomerIndex, Party  # the matcher before issue 16

FIRST = [
    "Ann",
    "Ben",
    "Carla",
    "Dev",
    "Elena",
    "Frank",
    "Grace",
    "Hugo",
    "Ines",
    "Jon",
    "Kara",
    "Liam",
    "Mona",
    "Nils",
    "Omar",
    "Pia",
    "Quinn",
    "Rosa",
    "Sam",
    "Tara",
]
LAST = [
    "Lee",
    "Okafor",
    "Garcia",
    "Patel",
    "Nguyen",
    "Smith",
    "Kowalski",
    "Brown",
    "Rossi",
    "Kim",
    "Novak",
    "Silva",
    "Haddad",
    "Ito",
    "Jensen",
]
TRADE = [
    "Roofing",
    "Builders",
    "Renovations",
    "Homes",
    "Construction",
    "Plumbing",
    "Electric",
    "Decks",
    "Paving",
    "Glass",
]
PLACE = [
    "Cedar",
    "Summit",
    "Harbor",
    "Maple",
    "Granite",
    "Riverside",
    "Pioneer",
    "Aspen",
    "Willow",
    "Copper",
    "Falcon",
    "Bay",
]


def person(rng: random.Random, n: int) -> Party:
    if rng.random() < 0.4:
        name = f"{rng.choice(PLACE)} {rng.choice(TRADE)} {n} {rng.choice(['Inc.', 'LLC', 'Co'])}"
    else:
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}-{n}"
    return Party(f"a{n}", name, f"owner{n}@mail{n % 97}.example", "", f"{10000 + n % 9000}")


def variant(rng: random.Random, p: Party, n: int) -> Party:
    name = p.name
    choice = rng.random()
    if choice < 0.3:
        name = name.upper()
    elif choice < 0.5:
        name = name.replace(" Inc.", "").replace(" LLC", "").replace(" Co", "")
    elif choice < 0.7 and len(name) > 6:
        i = rng.randrange(1, len(name) - 1)
        name = name[:i] + name[i + 1 :]  # a dropped letter
    email = p.email.upper() if rng.random() < 0.5 else ("" if rng.random() < 0.5 else p.email)
    return Party(f"c{n}", name, email, "", p.postal_code)


def run(size: int, seed: int = 1) -> dict:
    rng = random.Random(seed)  # noqa: S311 - benchmark data
    accounting = [person(rng, n) for n in range(size)]
    crm, truth = [], {}
    for n in range(size):
        if rng.random() < 0.8:
            source = accounting[rng.randrange(size)]
            crm.append(variant(rng, source, n))
            truth[f"c{n}"] = source.external_id
        else:
            crm.append(person(rng, size + n))
            crm[-1] = Party(f"c{n}", crm[-1].name, crm[-1].email, "", crm[-1].postal_code)
    tracemalloc.start()
    started = time.perf_counter()
    index = CustomerIndex(accounting)
    results = [(p, index.match(p)) for p in crm]
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    linked = {p.external_id: m.candidate.external_id for p, m in results if m.candidate}
    sure = {p.external_id: m.candidate.external_id for p, m in results if m.kind == "sure"}
    right = sum(1 for k, v in linked.items() if truth.get(k) == v)
    return {
        "size": size,
        "seconds": round(elapsed, 2),
        "peak_mb": round(peak / 2**20, 1),
        # Sure matches link without a person; near ones go to the review queue.
        "sure_precision": round(
            sum(truth.get(k) == v for k, v in sure.items()) / max(1, len(sure)), 4
        ),
        "precision": round(right / max(1, len(linked)), 4),
        "recall": round(right / max(1, len(truth)), 4),
        "sure": sum(m.kind == "sure" for _, m in results),
        "near": sum(m.kind == "near" for _, m in results),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 10000, 20000])
    for size in parser.parse_args().sizes:
        print(run(size), flush=True)


if __name__ == "__main__":
    main()
