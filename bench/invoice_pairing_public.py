"""Invoice pairing on real invoices: a public data set, with splink and recordlinkage pairing
the same invoices in the same run.

    make bench-deps      # once: .bench-venv with the project, splink, recordlinkage, openpyxl
    nice -n 19 .bench-venv/bin/python bench/invoice_pairing_public.py --data "Online Retail.xlsx"

The CRM side is real: the UCI Online Retail data set (Chen, Sain & Guo 2012, UCI Machine
Learning Repository id 352, CC BY 4.0; a UK online retailer's invoices, Dec 2010 - Dec 2011:
invoice number, lines with description, quantity and unit price, date and time, customer id,
credit notes numbered "C…", a quarter of the lines with no customer). Any copy with its
columns will do, .xlsx or .csv: the full 541,909 lines, or a sample such as the 40,000-line
one in github.com/moatazsaad/Market-Basket-Analysis. Nothing of it is altered: its
repeat buyers (the same customer, the same day, the same lines and amount again and again),
its sequential numbers and its missing customers are what makes pairing hard here, and none
of it was made by us.

The books side is what an integration would post of those invoices, month by month, and that
part is simulated (`post`), each month seeded: a share of the CRM's invoices never reached
the CRM (5 %, real invoices entered in the books directly); of the rest 3 % skipped, 2 %
posted twice, 1 % keyed again by hand under the books' next number with one line for the
total, 2 % a line dropped, 2 % a line a penny off, 2 % filed under the catch-all customer,
1 % a digit of the number mistyped, 30 % dated one to three days late. Three numberings:
`kept` (the CRM's number), `prefixed` ("INV-536365") and `own` (the books number everything
themselves, so a number says nothing and only customer, amount, date and lines are left).

Every system gets the same fields (number, customer, total, date, the lines' descriptions and
amounts), the same one-to-one assignment (best pairs first, sure at 0.99, near at 0.5, a books
invoice left over that is near a paired CRM invoice is its copy). splink (DuckDB) and
recordlinkage's ECM learn their weights unsupervised, as syncfirm does; their blocking is
the union of the keys a user of either would choose here.
"""

import argparse
import csv
import logging
import math
import os
import random
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "syncfirm.settings.development")

import django

django.setup()

from sync.invoice_pairing import NEAR, SURE, Side, number_core, pair  # noqa: E402

CENT = Decimal("0.01")
CATCH_ALL = "B-CASH"  # the books' "cash sales" customer an unmatched sale is filed under


# --- the public data -------------------------------------------------------------------------
def _rows(path: Path):
    if path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8", errors="replace") as fh:
            yield from csv.DictReader(fh)
        return
    import openpyxl

    sheet = openpyxl.load_workbook(path, read_only=True).worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = [str(h) for h in next(rows)]
    for row in rows:
        yield dict(zip(header, row, strict=False))


def _when(value) -> datetime:
    if isinstance(value, datetime):
        return value
    for style in ("%m/%d/%Y %H:%M", "%Y-%m-%d %H:%M:%S", "%d-%m-%Y %H:%M", "%d/%m/%Y %H:%M"):
        try:
            return datetime.strptime(str(value).strip(), style)
        except ValueError:
            continue
    raise ValueError(f"unreadable InvoiceDate {value!r}")


def _customer(value) -> str:
    if value in (None, ""):
        return ""
    return str(int(float(value)))  # "17850.0" in some copies


def load(path: Path) -> list[Side]:
    """The data set's invoices, CRM side: its lines grouped by invoice number, each line's
    amount quantity times unit price to the penny, the customer "" where the data set has none
    (a client the CRM could not link: no evidence either way)."""
    lines: dict[str, list[tuple[str, Decimal]]] = defaultdict(list)
    head: dict[str, tuple[str, date]] = {}
    for row in _rows(path):
        number = str(row["InvoiceNo"]).strip()
        if not number:
            continue
        amount = (Decimal(str(row["Quantity"])) * Decimal(str(row["UnitPrice"]))).quantize(CENT)
        what = " ".join(str(row.get("Description") or row["StockCode"]).lower().split())
        lines[number].append((what, amount))
        head.setdefault(number, (_customer(row["CustomerID"]), _when(row["InvoiceDate"]).date()))
    return [
        Side(
            id=f"crm-{number}",
            number=number,
            customer=f"B{head[number][0]}" if head[number][0] else "",
            total=sum((a for _, a in found), Decimal(0)),
            currency="GBP",
            issued=head[number][1],
            lines=tuple(sorted(found)),
        )
        for number, found in lines.items()
    ]


# --- the simulated integration ---------------------------------------------------------------
@dataclass
class Month:
    crm: list[Side]
    books: list[Side]
    truth: dict[str, str] = field(default_factory=dict)  # crm id → its (first) posting
    copies: dict[str, str] = field(default_factory=dict)  # second posting → crm id
    skipped: set[str] = field(default_factory=set)


def _mistype(number: str, rng: random.Random) -> str:
    places = [k for k, ch in enumerate(number) if ch.isdigit()]
    k = rng.choice(places)
    return number[:k] + rng.choice([d for d in "0123456789" if d != number[k]]) + number[k + 1 :]


def post(invoices: list[Side], numbering: str, seed: int) -> Month:
    """One month as the books hold it after an integration posted the CRM's invoices."""
    rng = random.Random(seed)  # noqa: S311 - a simulation, not a secret
    month = Month(crm=[], books=[])
    own = iter(range(1001, 10**9))

    def books_number(crm_number: str) -> str:
        if numbering == "own":
            return str(next(own))
        return f"INV-{crm_number}" if numbering == "prefixed" else crm_number

    def posting(side: Side, number: str, **changes) -> Side:
        late = timedelta(days=rng.randint(1, 3) if rng.random() < 0.30 else 0)
        changes.setdefault("issued", side.issued + late)
        books = replace(side, id=f"bk-{len(month.books) + 1}", number=number, **changes)
        month.books.append(books)
        return books

    for side in sorted(invoices, key=lambda s: (s.issued, s.number)):
        if rng.random() < 0.05:  # a sale entered in the books only, never in the CRM
            posting(side, books_number(side.number), issued=side.issued)
            continue
        month.crm.append(side)
        roll = rng.random()
        if roll < 0.03:
            month.skipped.add(side.id)
            continue
        changes: dict = {}
        number = books_number(side.number)
        if 0.03 <= roll < 0.05 and len(side.lines) > 1:
            dropped = rng.randrange(len(side.lines))
            kept = side.lines[:dropped] + side.lines[dropped + 1 :]
            changes |= {"lines": kept, "total": sum((a for _, a in kept), Decimal(0))}
        elif 0.05 <= roll < 0.07:
            k = rng.randrange(len(side.lines))
            what, amount = side.lines[k]
            penny = amount + rng.choice((CENT, -CENT))
            lines = tuple(sorted((*side.lines[:k], (what, penny), *side.lines[k + 1 :])))
            changes |= {"lines": lines, "total": side.total + penny - amount}
        elif 0.07 <= roll < 0.09:
            changes["customer"] = CATCH_ALL
        elif 0.09 <= roll < 0.10 and numbering != "own":
            number = _mistype(number, rng)
        month.truth[side.id] = posting(side, number, **changes).id
        second = rng.random()
        if second < 0.02:  # the integration posted it twice
            month.copies[posting(side, books_number(side.number)).id] = side.id
        elif second < 0.03:  # someone keyed it again by hand: the books' number, one line
            copy = posting(
                side,
                str(900000 + len(month.books)),
                issued=side.issued + timedelta(days=rng.randint(2, 10)),
                lines=(("sales", side.total),),
            )
            month.copies[copy.id] = side.id
    rng.shuffle(month.books)
    return month


def generated(size: int, seed: int) -> Month:
    """Our own generator's month (`sandbox.third_party_sync`), for the peers to be graded on
    it too, beside `bench/invoice_pairing.py`."""
    from sandbox.third_party_sync import simulate
    from sync.invoice_pairing import books_side, crm_side

    audit = simulate(size, seed)
    return Month(
        crm=[crm_side(i, audit.customer_of) for i in audit.crm],
        books=[books_side(i) for i in audit.books],
        truth=dict(audit.truth),
        copies=dict(audit.copies),
        skipped=set(audit.faults.get("skipped", [])),
    )


def months(invoices: list[Side]) -> dict[str, list[Side]]:
    by: dict[str, list[Side]] = defaultdict(list)
    for side in invoices:
        by[f"{side.issued:%Y-%m}"].append(side)
    return dict(sorted(by.items()))


# --- grading ---------------------------------------------------------------------------------
@dataclass
class Found:
    sure: dict[str, str]  # crm id → books id
    near: dict[str, str]
    copies: dict[str, str]  # books id → the crm id it copies
    seconds: float


def assign(edges: list[tuple[float, str, str]]) -> tuple[dict, dict, dict]:
    """syncfirm's one-to-one rule for any system's scored pairs (probability, crm, books)."""
    ranked = sorted((e for e in edges if e[0] >= NEAR), key=lambda e: (-e[0], e[1], e[2]))
    sure, near, used = {}, {}, set()
    for p, crm, books in ranked:
        if crm in sure or crm in near or books in used:
            continue
        used.add(books)
        (sure if p >= SURE else near)[crm] = books
    copies = {}
    for _, crm, books in ranked:
        if crm in sure and books not in used and books not in copies:
            copies[books] = crm
    return sure, near, copies


def grade(month: Month, found: Found) -> dict:
    postings: dict[str, set[str]] = {c: {b} for c, b in month.truth.items()}
    for copy, crm in month.copies.items():
        postings[crm].add(copy)
    missing = {s.id for s in month.crm} - set(found.sure) - set(found.near)
    return {
        "sure": len(found.sure),
        "right": sum(1 for c, b in found.sure.items() if b in postings.get(c, ())),
        "posted": len(postings),
        "copies": len(found.copies),
        # Two identical postings: either may be the one kept, the other is the copy.
        "right_copies": sum(
            1
            for b, c in found.copies.items()
            if b in postings.get(c, ()) and found.sure.get(c) in postings.get(c, ())
        ),
        "true_copies": len(month.copies),
        "missing": len(missing),
        "right_missing": len(missing & month.skipped),
        "true_missing": len(month.skipped),
        "near": len(found.near),
        "crm": len(month.crm),
        "seconds": found.seconds,
    }


# --- the systems -----------------------------------------------------------------------------
def run_syncfirm(month: Month) -> Found:
    began = time.perf_counter()
    result = pair(month.crm, month.books)
    seconds = time.perf_counter() - began
    copies = {c.copy: c.crm for c in result.copies}
    return Found(result.books_of(), {p.crm: p.books for p in result.near}, copies, seconds)


def _frame(sides: list[Side]):
    import pandas as pd

    return pd.DataFrame(
        {
            "unique_id": [s.id for s in sides],
            "number": [number_core(s.number) or None for s in sides],
            "customer": [s.customer or None for s in sides],
            "total": [float(s.total) for s in sides],  # the peers take numbers as floats
            "day": [s.issued.toordinal() for s in sides],
            "issued": [s.issued.isoformat() for s in sides],
            "lines": [" | ".join(f"{w} {a}" for w, a in s.lines) or None for s in sides],
            "week": [s.issued.toordinal() // 7 for s in sides],
        }
    )


# Blocking both peers get: any one shared makes a candidate pair.
RULES = (("number",), ("customer", "total"), ("customer", "week"), ("total", "week"))


def run_splink(month: Month) -> Found:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on
    from splink.internals.exceptions import EMTrainingException

    crm, books = _frame(month.crm), _frame(month.books)
    began = time.perf_counter()
    settings = SettingsCreator(
        link_type="link_only",
        comparisons=[
            cl.LevenshteinAtThresholds("number", [1]),
            cl.ExactMatch("customer"),
            cl.CustomComparison(
                [
                    cll.NullLevel("total"),
                    cll.ExactMatchLevel("total"),
                    cll.PercentageDifferenceLevel("total", 0.05),
                    cll.ElseLevel(),
                ],
                output_column_name="total",
            ),
            cl.AbsoluteDateDifferenceAtThresholds(
                "issued", input_is_string=True, metrics=["day"] * 3, thresholds=[1, 7, 31]
            ),
            cl.JaccardAtThresholds("lines", [0.9, 0.6]),
        ],
        blocking_rules_to_generate_predictions=[block_on(*r) for r in RULES],
        retain_matching_columns=False,
    )
    db = DuckDBAPI()
    linker = Linker(
        [db.register(crm.drop(columns=["day"])), db.register(books.drop(columns=["day"]))],
        settings,
        log_level=logging.WARNING,
    )
    linker.training.estimate_probability_two_random_records_match(
        [block_on("number"), block_on("customer", "total")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    for rule in (("number",), ("customer", "week")):
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(block_on(*rule))
        except (ValueError, EMTrainingException) as error:  # no pairs, or an m driven to 0
            logging.warning("splink EM on %s skipped: %s", rule, str(error)[:60])
    out = linker.inference.predict(threshold_match_probability=NEAR).as_pandas_dataframe()
    crm_ids = set(crm["unique_id"])
    edges = [
        (p, left, right) if left in crm_ids else (p, right, left)
        for p, left, right in zip(
            out["match_probability"], out["unique_id_l"], out["unique_id_r"], strict=True
        )
    ]
    sure, near, copies = assign(edges)
    return Found(sure, near, copies, time.perf_counter() - began)


def run_ecm(month: Month) -> Found:
    import recordlinkage

    crm = _frame(month.crm).set_index("unique_id")
    books = _frame(month.books).set_index("unique_id")
    began = time.perf_counter()
    pairs = None
    for rule in RULES:
        indexer = recordlinkage.Index()
        indexer.block(list(rule))
        got = indexer.index(crm, books)
        pairs = got if pairs is None else pairs.union(got)
    compare = recordlinkage.Compare()
    compare.exact("number", "number", label="number")
    compare.exact("customer", "customer", label="customer")
    compare.numeric("total", "total", method="step", offset=0.01, label="total")
    compare.numeric("day", "day", method="step", offset=3, label="day")
    compare.string("lines", "lines", method="jarowinkler", threshold=0.9, label="lines")
    features = compare.compute(pairs, crm, books).fillna(0)
    ecm = recordlinkage.ECMClassifier(binarize=None)
    ecm.fit(features)
    probabilities = ecm.prob(features)
    edges = [(p, c, b) for (c, b), p in probabilities.items()]
    sure, near, copies = assign(edges)
    return Found(sure, near, copies, time.perf_counter() - began)


SYSTEMS = {"syncfirm": run_syncfirm, "splink (DuckDB)": run_splink, "recordlinkage ECM": run_ecm}


def _ratio(right: int, total: int) -> float:
    return right / total if total else math.nan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, help="Online Retail, .xlsx or .csv")
    parser.add_argument(
        "--generator", type=int, nargs="*", default=[], help="also our generator at these sizes"
    )
    parser.add_argument("--numbering", nargs="+", default=["kept", "prefixed", "own"])
    parser.add_argument("--systems", nargs="+", default=list(SYSTEMS))
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    books: dict[str, list[Month]] = {}
    if args.data:
        invoices = load(args.data)
        by_month = months(invoices)
        print(
            f"{len(invoices):,} invoices, {len(by_month)} months, "
            f"{len({s.customer for s in invoices if s.customer}):,} customers, "
            f"{sum(1 for s in invoices if not s.customer):,} with none"
        )
        for numbering in args.numbering:
            books[f"Online Retail, {numbering}"] = [
                post(found, numbering, args.seed * 1000 + k)
                for k, found in enumerate(by_month.values())
            ]
    for size in args.generator:
        books[f"generator {size:,} x 5 seeds"] = [generated(size, seed) for seed in range(1, 6)]
    print(
        "| data | system | pair precision | pair recall | copies P / R | missing P / R "
        "| review | seconds |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for numbering, posted in books.items():
        for name in args.systems:
            runs = [grade(m, SYSTEMS[name](m)) for m in posted]
            t = {k: sum(r[k] for r in runs) for k in runs[0]}
            print(
                f"| {numbering} | {name} | {_ratio(t['right'], t['sure']):.4f} "
                f"| {_ratio(t['right'], t['posted']):.4f} "
                f"| {_ratio(t['right_copies'], t['copies']):.3f} / "
                f"{_ratio(t['right_copies'], t['true_copies']):.3f} "
                f"| {_ratio(t['right_missing'], t['missing']):.3f} / "
                f"{_ratio(t['right_missing'], t['true_missing']):.3f} "
                f"| {_ratio(t['near'], t['crm']):.1%} | {t['seconds']:.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
