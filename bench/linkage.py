"""Customer linkage side by side with the peers, in one run: syncfirm's matcher (today's and
the new Fellegi-Sunter one), splink (DuckDB) and recordlinkage's ECM, on the same records,
the same fields, the same sure/near thresholds and the same one-to-one assignment.

    make bench-deps      # once: .bench-venv with the project, splink and recordlinkage
    nice -n 19 .bench-venv/bin/python bench/linkage.py [--sets febrl4 febrl3 companies]

Per data set and system: sure-link precision, recall and F1 (sure links are made without a
person), blocking recall (true pairs among the candidates), the review-queue share (records
sent to a person), the share of genuinely new records created without review, wall time
and, for syncfirm, single-record p95. syncfirm's time is the product's whole path: each CRM
record's properties (as HubSpot sends them) mapped by a field map, validated, then matched
(fit + link_all); the peers' time is their fit + predict on records already cleaned. Data
loading is excluded for all. The issue's bars are checked at the end: PASS or FAIL each.
"""

import argparse
import json
import logging
import math
import os
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

# the second core for large batches (off in the product by default, decision 0025)
os.environ.setdefault("SYNCFIRM_LINKAGE_FORK", "1")

import legacy_matching as today
import linkage_data
import linkage_unseen
import peers
from peers import FIELDS

from sync.checking import check_all_meanwhile
from sync.linkage import NEAR, SURE, Matcher, Model, Party, compiled
from sync.linkage.collector import collector_paused
from sync.mapping import DEFAULT_COMPANY_MAP, DEFAULT_CONTACT_MAP


@dataclass
class Outcome:
    decisions: dict[str, tuple[str, str | None]]  # crm id → (kind, accounting id)
    candidates_found: int  # true pairs among the candidate pairs
    seconds: float
    cpu: float
    extra: dict = field(default_factory=dict)


NAMED_FIELDS = Party._fields[1:]  # the name, then MATCHED_FIELDS


def party(r: dict) -> Party:
    return Party(r["id"], *[r.get(k) or "" for k in NAMED_FIELDS])


# --- syncfirm ------------------------------------------------------------------------------
# The CRM side as HubSpot sends it: a record's properties, read through a field map (the
# default ones, plus email and website for companies and the FEBRL identifier as a tax ID).
COMPANY_MAP = dict(DEFAULT_COMPANY_MAP, email={"from": ["email"]}, website={"from": ["website"]})
CONTACT_MAP = dict(DEFAULT_CONTACT_MAP, tax_id={"from": ["tax_id"]})
PROPERTY = {"name": "name", "given_name": "firstname", "family_name": "lastname",
            "email": "email", "phone": "phone", "website": "website", "line1": "address",
            "city": "city", "region": "state", "postal_code": "zip", "country": "country",
            "tax_id": "tax_id"}  # fmt: skip
# As sync/customers.py builds a party from a validated record.
MATCHED_FIELDS = Party._fields[2:]


def _cpu() -> float:
    """CPU seconds of this process and of the copies it forked and waited for."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def properties(r: dict) -> dict[str, str]:
    return {PROPERTY[k]: r[k] for k in FIELDS if r.get(k)}


def run_syncfirm(books, crm, truth, country: str = "US") -> Outcome:
    """Map, validate and match, as a sync run does: the records checked on the other core
    while the books' matcher is built (sync/checking.py, as sync/customers.py). A record
    validation holds is still matched here, on the values as written, and counted: the
    product holds it for a person."""
    # A company (it has a name) comes through the company map, a person through the contact's.
    sent = [(r["id"], properties(r), COMPANY_MAP if r.get("name") else CONTACT_MAP) for r in crm]
    began, cpu = time.perf_counter(), _cpu()
    with collector_paused():  # as sync/customers.py holds it off while it makes the records
        checking = check_all_meanwhile([(p, field_map) for _, p, field_map in sent], country)
        matcher = Matcher(party(r) for r in books)
        waited = time.perf_counter()
        checked = checking()
        waited = time.perf_counter() - waited
        incoming, held = [], 0
        for (key, _, _), (v, problems) in zip(sent, checked, strict=True):
            held += bool(problems)
            name = v.get("display_name") or v.get("company_name") or v.get("given_name") or ""
            incoming.append(Party(key, name, *[v.get(f) or "" for f in MATCHED_FIELDS]))
        matcher.fit(incoming)
        decisions = matcher.link_all(incoming)
    seconds, cpu = time.perf_counter() - began, _cpu() - cpu
    index_of = {f.party.external_id: i for i, f in enumerate(matcher.features)}
    found = sum(
        index_of[truth[p.external_id]] in matcher.index.candidates(matcher.prepare(p))
        for p in incoming
        if p.external_id in truth
    )
    sample = random.Random(2).sample(incoming, min(500, len(incoming)))  # noqa: S311
    times, cpu_times = [], []
    for p in sample:
        t, c = time.perf_counter(), time.thread_time()
        matcher.match(p)
        times.append(time.perf_counter() - t)
        cpu_times.append(time.thread_time() - c)
    times.sort()
    cpu_times.sort()
    return Outcome(
        {d.party.external_id: (d.kind, d.candidate.external_id if d.candidate else None)
         for d in decisions},
        found,
        seconds,
        cpu,
        {"p95_ms": times[int(len(times) * 0.95)] * 1000,
         "p95_cpu_ms": cpu_times[int(len(cpu_times) * 0.95)] * 1000, "matcher": matcher,
         "decisions": decisions, "held": held, "map_validate": waited},
    )  # fmt: skip


def run_today(books, crm, truth) -> Outcome:
    """The matcher shipped before issue 16 (name, email, tax ID, postal code)."""

    def old(r: dict) -> today.Party:
        name = r.get("name") or f"{r.get('given_name', '')} {r.get('family_name', '')}".strip()
        return today.Party(r["id"], name, r.get("email", ""), r.get("tax_id", ""),
                           r.get("postal_code", ""))  # fmt: skip

    began, cpu = time.perf_counter(), time.process_time()
    index = today.CustomerIndex(old(r) for r in books)
    decisions = {}
    for r in crm:
        m = index.match(old(r))
        decisions[r["id"]] = (m.kind, m.candidate.external_id if m.candidate else None)
    return Outcome(decisions, -1, time.perf_counter() - began, time.process_time() - cpu)


# --- scoring -------------------------------------------------------------------------------
def score(outcome: Outcome, crm, truth) -> dict:
    sure = {k: v for k, (kind, v) in outcome.decisions.items() if kind == "sure"}
    right = sum(truth.get(k) == v for k, v in sure.items())
    precision = right / len(sure) if sure else 1.0
    recall = right / len(truth)
    new = [r["id"] for r in crm if r["id"] not in truth]
    created = sum(outcome.decisions.get(k, ("miss",))[0] == "miss" for k in new)
    near = sum(kind == "near" for kind, _ in outcome.decisions.values())
    missed_dupes = sum(outcome.decisions.get(k, ("miss",))[0] == "miss" for k in truth)
    return {
        "precision": precision,
        "recall": recall,
        "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        "blocking": outcome.candidates_found / len(truth)
        if outcome.candidates_found >= 0
        else None,
        "review": near / len(crm),
        "new_created": created / len(new) if new else None,
        "duplicates_created": missed_dupes,
        "seconds": outcome.seconds,
        "cpu": outcome.cpu,
        "p95_ms": outcome.extra.get("p95_ms"),
        "p95_cpu_ms": outcome.extra.get("p95_cpu_ms"),
    }


def one_to_one(edges, near: float = NEAR, sure: float = SURE) -> dict[str, tuple[str, str | None]]:
    """The same assignment as syncfirm's, for the peers' scored pairs: best pairs first."""
    decisions: dict[str, tuple[str, str | None]] = {}
    used: set[str] = set()
    for p, crm_id, books_id in sorted(edges, key=lambda e: -e[0]):
        if p < near or crm_id in decisions:
            continue
        if books_id in used:
            decisions.setdefault(crm_id + "\0", ("near", books_id))
            continue
        used.add(books_id)
        decisions[crm_id] = ("sure" if p >= sure else "near", books_id)
    for key in [k for k in decisions if k.endswith("\0")]:
        decisions.setdefault(key[:-1], decisions[key])
        del decisions[key]
    return decisions


def fill(decisions: dict, crm) -> dict:
    return {r["id"]: decisions.get(r["id"], ("miss", None)) for r in crm}


# --- peers ---------------------------------------------------------------------------------
def _blocked(truth, a, b, rules) -> int:
    """True pairs that share every column of at least one blocking rule."""
    a_by, b_by = a.set_index("unique_id"), b.set_index("unique_id")
    found = 0
    for crm_id, books_id in truth.items():
        x, y = a_by.loc[books_id], b_by.loc[crm_id]
        found += any(all(x[c] is not None and x[c] == y[c] for c in rule) for rule in rules)
    return found


def run_splink(books, crm, truth) -> Outcome:
    from splink import block_on

    columns = peers.columns_of(books)
    a, b = peers.frame(books, columns), peers.frame(crm, columns)
    began, cpu = time.perf_counter(), time.process_time()
    rules = peers.rules(columns)
    linker = peers.splink_linker([a, b], columns, "link_only")
    deterministic = [block_on(*r) for r in rules[:2]]
    linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    trained = 0
    for rule in rules:  # two EM rounds; splink 5's EM can drive an m probability to 0 on a
        # small or skewed block and refuse it (ValueError): then the next rule is used
        if trained == 2:
            break
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(block_on(*rule))
            trained += 1
        except ValueError as error:
            logging.warning("splink EM on %s skipped: %s", rule, str(error)[:60])
    predictions = linker.inference.predict(threshold_match_probability=NEAR).as_pandas_dataframe()
    left_is_books = set(predictions["unique_id_l"]) <= set(a["unique_id"])
    edges = [  # (probability, crm id, books id)
        (p, right if left_is_books else left, left if left_is_books else right)
        for p, left, right in zip(predictions["match_probability"], predictions["unique_id_l"],
                           predictions["unique_id_r"], strict=True)
    ]  # fmt: skip
    decisions = fill(one_to_one(edges), crm)
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    return Outcome(decisions, _blocked(truth, a, b, rules), seconds, cpu)


def run_ecm(books, crm, truth) -> Outcome:
    import recordlinkage

    columns = peers.columns_of(books)
    a, b = peers.frame(books, columns), peers.frame(crm, columns)
    a, b = a.set_index("unique_id"), b.set_index("unique_id")
    began, cpu = time.perf_counter(), time.process_time()
    pairs, features = peers.ecm_features(columns, a, b)
    ecm = recordlinkage.ECMClassifier(binarize=None)
    ecm.fit(features)
    probabilities = ecm.prob(features)
    edges = [(p, crm_id, books_id) for (books_id, crm_id), p in probabilities.items()]
    decisions = fill(one_to_one(edges), crm)
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    truth_pairs = {(books_id, crm_id) for crm_id, books_id in truth.items()}
    found = len(truth_pairs & set(pairs))
    return Outcome(decisions, found, seconds, cpu, {"pairs": len(pairs)})


SYSTEMS = {
    "syncfirm (before issue 16)": run_today,
    "syncfirm": run_syncfirm,
    "splink (DuckDB)": run_splink,
    "recordlinkage ECM": run_ecm,
}
SETS = {"febrl4": linkage_data.febrl4, "febrl3": linkage_data.febrl3,
        "companies": linkage_data.companies, **linkage_unseen.SETS}  # fmt: skip


def _cell(value, digits=3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}f}"


def one_record(name: str, records: int = 2000) -> None:
    """A webhook's run, before and after decision 0026. Before: the weights "learnt" from
    the one incoming record (the priors, u from the books' own random pairs), refitted for
    every run, a link at >= 0.99. After: the weights of a full run, kept as JSON and read
    back, their prior worked out for the book, a link at 0.90; nothing fitted per run.
    Then records matched one at a time with each."""
    books, crm, truth = SETS[name]()
    matcher = Matcher(party(r) for r in books)
    incoming = [party(r) for r in crm]
    began = time.process_time()
    matcher.fit(incoming[:1])
    fit = time.process_time() - began
    _one_at_a_time(name, "priors, refitted per run", matcher, incoming[:records], truth, fit)

    full = Matcher(party(r) for r in books)
    full.fit(incoming)
    kept = json.dumps(full.model.to_dict())
    share = full.model.prior * max(len(full.features), len(incoming))
    began = time.process_time()
    model = Model.from_dict(json.loads(kept))
    matcher.model = model.with_prior(min(0.5, share / max(len(matcher.features), 1)))
    matcher.sure = SURE
    load = time.process_time() - began
    _one_at_a_time(name, "kept weights", matcher, incoming[:records], truth, load)


def _one_at_a_time(name, label, matcher, incoming, truth, setup: float) -> None:
    counts: dict[tuple[str, str], int] = {}
    times = []
    for p in incoming:
        began = time.perf_counter()
        d = matcher.match(p)
        times.append(time.perf_counter() - began)
        right = truth.get(p.external_id) == (d.candidate.external_id if d.candidate else None)
        key = (
            d.kind,
            ("right" if right else "wrong") + (" new" if p.external_id not in truth else ""),
        )
        counts[key] = counts.get(key, 0) + 1
    times.sort()
    print(f"{name} {label}: sure from {matcher.sure}, per run {setup:.3f} CPU-s, match p95 "
          f"{times[int(len(times) * 0.95)] * 1000:.1f} ms, {sorted(counts.items())}")  # fmt: skip


COUNTRY = {"febrl4": "AU", "febrl3": "AU", "companies": "US"}  # FEBRL is Australian


def bars(results: dict[str, dict[str, dict]]) -> list[tuple[str, bool | None, str]]:
    """Issue 16's bars, each (what, met?, the figures); None where a figure is missing."""
    out = []
    for name, by_system in results.items():
        ours, peer = by_system.get("syncfirm"), by_system.get("splink (DuckDB)")
        if ours is None:
            continue
        out.append((f"{name}: sure precision >= 0.995", ours["precision"] >= 0.995,
                    f"{ours['precision']:.4f}"))  # fmt: skip
        if peer is not None:
            out.append((f"{name}: sure recall >= splink's - 0.01",
                        ours["recall"] >= peer["recall"] - 0.01,
                        f"{ours['recall']:.4f} vs {peer['recall']:.4f}"))  # fmt: skip
            out.append((f"{name}: F1 >= splink's", ours["f1"] >= peer["f1"],
                        f"{ours['f1']:.4f} vs {peer['f1']:.4f}"))  # fmt: skip
        out.append((f"{name}: blocking recall >= 0.995", ours["blocking"] >= 0.995,
                    f"{ours['blocking']:.4f}"))  # fmt: skip
        out.append((f"{name}: review <= 5 %", ours["review"] <= 0.05, f"{ours['review']:.3f}"))
        if ours["new_created"] is not None:
            out.append((f"{name}: new created unreviewed >= 95 %", ours["new_created"] >= 0.95,
                        f"{ours['new_created']:.3f}"))  # fmt: skip
        out.append((f"{name}: single-record p95 < 20 ms", ours["p95_ms"] < 20,
                    f"{ours['p95_ms']:.1f} ms wall ({ours['p95_cpu_ms']:.1f} ms CPU)"))  # fmt: skip
        if name == "companies":
            out.append(("companies 20k x 20k end to end < 5 s wall", ours["seconds"] < 5,
                        f"{ours['seconds']:.2f} s ({ours['cpu']:.2f} CPU-s)"))  # fmt: skip
            if peer is not None:
                out.append(("companies end to end <= 1/3 of splink's wall time",
                            ours["seconds"] <= peer["seconds"] / 3,
                            f"{ours['seconds']:.2f} s vs {peer['seconds']:.2f} s / 3 = "
                            f"{peer['seconds'] / 3:.2f} s"))  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS))
    parser.add_argument("--systems", nargs="+", default=list(SYSTEMS), choices=list(SYSTEMS))
    parser.add_argument("--one-record", action="store_true", help="a webhook's run")
    args = parser.parse_args()
    if args.one_record:
        for name in args.sets:
            one_record(name)
        return
    print("| data | system | sure precision | sure recall | F1 | blocking recall | review "
          "| new created unreviewed | duplicates created | seconds | CPU seconds "
          "| single p95 ms |")  # fmt: skip
    print("| --- | --- |" + " ---: |" * 10)
    results: dict[str, dict[str, dict]] = {}
    notes = []
    for name in args.sets:
        books, crm, truth = SETS[name]()
        for system in args.systems:
            run = SYSTEMS[system]
            try:
                if run is run_syncfirm:
                    outcome = run(books, crm, truth, COUNTRY.get(name, "US"))
                    ran = (
                        "compiled (mypyc, with the native core)"
                        if compiled.in_use()
                        else "as plain Python"
                    )
                    notes.append(f"{name}: syncfirm mapped and validated {len(crm):,} records "
                                 "while it read the books; it then waited "
                                 f"{outcome.extra['map_validate']:.2f} s of its "
                                 f"{outcome.seconds:.2f} s for them; validation would hold "
                                 f"{outcome.extra['held']:,} for a person; the matcher "
                                 f"ran {ran}")  # fmt: skip
                else:
                    outcome = run(books, crm, truth)
            except Exception as error:  # a peer that cannot fit this set (splink's EM on
                # a small book) is a row that says so, not the end of the run
                print(
                    f"| {name} {len(books):,}x{len(crm):,} | {system} | failed: "
                    f"{type(error).__name__}: {str(error)[:80]} |" + " |" * 9,
                    flush=True,
                )
                continue
            s = results.setdefault(name, {})[system] = score(outcome, crm, truth)
            print(f"| {name} {len(books):,}x{len(crm):,} | {system} | {_cell(s['precision'], 4)} "
                  f"| {_cell(s['recall'], 4)} | {_cell(s['f1'], 4)} | {_cell(s['blocking'], 4)} "
                  f"| {_cell(s['review'])} | {_cell(s['new_created'])} "
                  f"| {s['duplicates_created']:,} | {_cell(s['seconds'], 2)} "
                  f"| {_cell(s['cpu'], 2)} "
                  f"| {_cell(s['p95_ms'], 1)} |", flush=True)  # fmt: skip
    print()
    for note in notes:
        print(note)
    print()
    for what, met, figures in bars(results):
        print(f"{'PASS' if met else 'FAIL'}  {what}: {figures}")


if __name__ == "__main__":
    main()
