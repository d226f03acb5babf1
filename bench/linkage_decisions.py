"""Every decision of the linkage benchmark's run, one line a record, to compare two
versions of the matcher record by record (a speed change must not move a decision):

    .bench-venv/bin/python bench/linkage_decisions.py > /tmp/after.txt
    diff /tmp/before.txt /tmp/after.txt

Per record: set, CRM id, kind, partner, probability to 9 decimals, reason.
"""

import sys

import linkage

SETS = ("companies", "unseen", "febrl4")


def main() -> None:
    sets = sys.argv[1:] or SETS
    for name in sets:
        books, crm, truth = linkage.SETS[name]()
        outcome = linkage.run_syncfirm(books, crm, truth, linkage.COUNTRY.get(name, "US"))
        for d in outcome.extra["decisions"]:
            partner = d.candidate.external_id if d.candidate else "-"
            print(f"{name}\t{d.party.external_id}\t{d.kind}\t{partner}\t{d.probability:.9f}\t"
                  f"{d.reason}")  # fmt: skip


if __name__ == "__main__":
    main()
