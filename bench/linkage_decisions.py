"""Every decision of the linkage benchmark's run, one line a record, to compare two
versions of the matcher record by record (a speed change must not move a decision):

    .bench-venv/bin/python bench/linkage_decisions.py > /tmp/after.txt
    diff /tmp/before.txt /tmp/after.txt

Per record: set, CRM id, kind, partner, probability to 9 decimals, reason. `--exact` writes
the probability and the match weight to their last bit instead (repr): a change in how a
float is summed (decision 0028: mypyc's compiled sum) moves them by a few units in the last
place, which nine decimals do not show.
"""

import sys

import linkage

SETS = ("companies", "unseen", "febrl4")


def main() -> None:
    args = sys.argv[1:]
    exact = "--exact" in args
    sets = [a for a in args if a != "--exact"] or SETS
    for name in sets:
        books, crm, truth = linkage.SETS[name]()
        outcome = linkage.run_syncfirm(books, crm, truth, linkage.COUNTRY.get(name, "US"))
        for d in outcome.extra["decisions"]:
            partner = d.candidate.external_id if d.candidate else "-"
            chance = f"{d.probability!r}\t{d.weight!r}" if exact else f"{d.probability:.9f}"
            print(f"{name}\t{d.party.external_id}\t{d.kind}\t{partner}\t{chance}\t{d.reason}")


if __name__ == "__main__":
    main()
