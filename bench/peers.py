"""The peers' common set-up for the linkage benchmarks (`linkage.py`: two systems;
`dedupe.py`: one system against itself): the records as a DataFrame, the columns and
blocking rules both tools get, splink's comparisons and linker, recordlinkage's candidate
pairs and comparisons. Each benchmark trains and predicts its own way."""

import logging

FIELDS = ("name", "given_name", "family_name", "email", "phone", "website", "line1", "city",
          "region", "postal_code", "country", "tax_id")  # fmt: skip


def frame(records, columns):
    import pandas as pd

    rows = []
    for r in records:
        row = {"unique_id": r["id"]}
        for c in columns:
            value = (r.get(c) or "").strip().casefold()
            if c == "phone":  # digits only: the cleaning every tool's user does
                value = "".join(ch for ch in value if ch.isdigit())[-10:]
            row[c] = value or None
        rows.append(row)
    return pd.DataFrame(rows)


def columns_of(records) -> list[str]:
    return [c for c in FIELDS if any(r.get(c) for r in records)]


def rules(columns) -> list[tuple[str, ...]]:
    """Blocking rules: any one of them shared makes a candidate pair."""
    if "name" in columns:
        found = [("name",), ("email",), ("phone",), ("postal_code",), ("tax_id",), ("line1",)]
    else:
        found = [("given_name", "family_name"), ("family_name", "postal_code"),
                 ("given_name", "postal_code"), ("postal_code",), ("tax_id",), ("line1",),
                 ("given_name", "city"), ("family_name", "city")]  # fmt: skip
    return [r for r in found if all(c in columns for c in r)]


def splink_linker(frames: list, columns: list[str], link_type: str):
    """A splink (DuckDB) linker over `frames` with one comparison per column, as a splink
    user would pick them, blocked on `rules(columns)`."""
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    comparisons = []
    for c in columns:
        if c in ("name", "given_name", "family_name"):
            comparisons.append(cl.NameComparison(c))
        elif c == "email":
            comparisons.append(cl.EmailComparison(c))
        elif c in ("line1", "city"):
            comparisons.append(cl.JaroWinklerAtThresholds(c, [0.95, 0.88]))
        elif c in ("postal_code", "tax_id", "phone"):
            comparisons.append(cl.LevenshteinAtThresholds(c, [1, 2]))
        else:
            comparisons.append(cl.ExactMatch(c))
    settings = SettingsCreator(
        link_type=link_type,
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=[block_on(*r) for r in rules(columns)],
        retain_matching_columns=False,
    )
    db = DuckDBAPI()
    return Linker([db.register(f) for f in frames], settings, log_level=logging.WARNING)


def ecm_features(columns: list[str], *frames):
    """recordlinkage's candidate pairs (the union of `rules(columns)`) and their comparison
    vectors, over one frame (dedupe) or two (link); frames indexed by unique_id."""
    import recordlinkage

    pairs = None
    for rule in rules(columns):
        indexer = recordlinkage.Index()
        indexer.block(list(rule))
        found = indexer.index(*frames)
        pairs = found if pairs is None else pairs.union(found)
    compare = recordlinkage.Compare()
    for c in columns:
        if c in ("name", "given_name", "family_name", "line1", "city"):
            compare.string(c, c, method="jarowinkler", threshold=0.85, label=c)
        else:
            compare.exact(c, c, label=c)
    return pairs, compare.compute(pairs, *frames)
