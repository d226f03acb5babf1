"""What each field said about a possible match, kept on the review item as data (not only as
the sentence of `reason`), so the card can lay it out as a table: per field, both values
side by side, how they agree, and how much that counted for or against.

Pure: a matcher's decision in, a JSON-ready dict out; that dict and the two records' values
in, the card's rows out. Items raised before the evidence was kept have none: their card
shows the reason and the values as it always did.
"""

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from .linkage import Decision

# Each comparison of the matcher, with the mapped fields it reads (in that order).
FIELDS: dict[str, tuple[str, ...]] = {
    "name": ("display_name", "company_name"),
    "first name": ("given_name",),
    "last name": ("family_name",),
    "email": ("email",),
    "website": ("website",),
    "phone": ("phone",),
    "address": ("line1",),
    "place": ("city", "region", "postal_code"),
    "country": ("country",),
    "tax ID": ("tax_id",),
}
ALIKE = re.compile(r"^(?P<level>.*?) \((?P<alike>\d+) % alike\)$")
BAR_STEPS = 10
MISSING = "missing on one side — no evidence"
NO_EVIDENCE_COUNTS = "nothing"


def of_decision(decision: Decision, other: str, summary: str, also: Sequence[dict] = ()) -> dict:
    """The evidence of a matcher's decision, to store on the review item. `other`: what the
    record was compared with, as the column is headed ("QuickBooks", "CRM company “Acme”");
    `summary`: the item's reason without the weights the table shows; `also`: the other
    candidates the person weighs it against (`of_candidate`), each a table of its own."""
    found = {
        "probability": decision.probability,
        "other": other,
        "summary": summary,
        "note": decision.note,
        "fields": _fields(decision),
    }
    return found | {"also": list(also)} if also else found


def of_candidate(decision: Decision, other: str, values: dict) -> dict:
    """Another candidate of the same record (a namesake), with its values: the item's own
    values are those of its first candidate."""
    return {
        "probability": decision.probability,
        "other": other,
        "note": decision.note,
        "fields": _fields(decision),
        "values": dict(values),
    }


def _fields(decision: Decision) -> list[dict]:
    fields = []
    for c in decision.contributions:
        found = ALIKE.match(c.level)
        fields.append(
            {
                "field": c.field,
                "level": found["level"] if found else c.level,
                "alike": int(found["alike"]) if found else None,
                "weight": round(c.weight, 1),
            }
        )
    return fields


@dataclass(frozen=True)
class Row:
    field: str
    crm: str
    other: str
    agreement: str  # "equal", "nearly equal — 94 % alike", "missing on one side — no evidence"
    counts: str  # "for +13.6", "against \u221210.6", "nothing"
    side: str  # "for", "against" or "" (no evidence)
    bar: int  # 0 to BAR_STEPS: the weight's size beside the card's largest


@dataclass(frozen=True)
class Card:
    summary: str  # the reason without the weights ("Looks like QuickBooks customer “Acme”. …")
    likely: str  # "96 % likely the same company"
    other: str  # the column heading of the other record
    note: str  # why a likely pair was not linked ("the tax IDs differ"), or ""
    rows: list[Row]
    also: tuple["Card", ...] = ()  # the record against its other candidates (namesakes)

    @property
    def other_label(self) -> str:
        """The other column's label beside each value on a phone, where a heading naming
        the customer would not fit: "QuickBooks", "CRM company"."""
        return self.other.split(" “", 1)[0]


def value_of(values: dict, field: str) -> str:
    names = FIELDS[field]
    found = [str(values.get(n) or "").strip() for n in names]
    if field == "name":
        return next((v for v in found if v), "")
    return ", ".join(v for v in found if v)


def card(evidence: dict | None, crm: dict, other: dict, crm_type: str = "companies") -> Card | None:
    """The table of a stored evidence, or None for an item that has none; a table more for
    each other candidate kept with it."""
    if not evidence or not isinstance(evidence, dict) or "fields" not in evidence:
        return None
    crm, other = crm if isinstance(crm, dict) else {}, other if isinstance(other, dict) else {}
    also = evidence.get("also") if isinstance(evidence.get("also"), list) else []
    more = tuple(
        _card(e, crm, e.get("values") if isinstance(e.get("values"), dict) else {}, crm_type)
        for e in also
        if isinstance(e, dict) and isinstance(e.get("fields"), list)
    )
    return replace(_card(evidence, crm, other, crm_type), also=more)


def _card(evidence: dict, crm: dict, other: dict, crm_type: str) -> Card:
    weighed = _weighed(evidence["fields"])
    largest = max((abs(f["weight"]) for f in weighed), default=0) or 1
    rows = []
    for f in weighed:
        weight, field = f["weight"], f["field"]
        agreement = f["level"] + (f" — {f['alike']} % alike" if f.get("alike") is not None else "")
        side = "for" if weight > 0 else "against" if weight < 0 else ""
        counts = f"{side} {_signed(weight)}" if side else NO_EVIDENCE_COUNTS
        bar = max(1, math.ceil(BAR_STEPS * abs(weight) / largest)) if side else 0
        rows.append(
            Row(field, value_of(crm, field), value_of(other, field), agreement, counts, side, bar)
        )
    seen = {r.field for r in rows}
    for field in FIELDS:
        a, b = value_of(crm, field), value_of(other, field)
        # Both sides hold it, yet it was not weighed: a person's whole name, compared as
        # first and last name instead. Not "missing", and no evidence of its own.
        if field not in seen and bool(a) != bool(b):
            rows.append(Row(field, a, b, MISSING, NO_EVIDENCE_COUNTS, "", 0))
    what = "company" if crm_type == "companies" else "customer"
    probability = _number(evidence.get("probability"))
    probability = probability if 0 <= probability <= 1 else 0.0
    return Card(
        summary=str(evidence.get("summary") or ""),
        likely=f"{_percent(probability)} likely the same {what}",
        other=str(evidence.get("other") or "The books"),
        note=str(evidence.get("note") or ""),
        rows=rows,
    )


MOST_WEIGHT = 1000.0  # log2 units: the model's weights stay within a few dozen


def _number(value: object) -> float:
    """A stored number, or 0.0 for what is none (a string, NaN, infinity)."""
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    return float(value) if ok else 0.0


def _weighed(fields: object) -> list[dict]:
    """The stored rows the matcher writes, one per field; damaged ones (another version's
    shape, hand edits) are left out rather than failing the whole review queue."""
    rows: dict[str, dict] = {}
    for f in fields if isinstance(fields, list) else []:
        if not isinstance(f, dict) or f.get("field") not in FIELDS or f["field"] in rows:
            continue
        alike = f.get("alike")
        rows[f["field"]] = {
            "field": f["field"],
            "level": str(f.get("level") or ""),
            "alike": alike if isinstance(alike, int) and not isinstance(alike, bool) else None,
            "weight": max(-MOST_WEIGHT, min(MOST_WEIGHT, _number(f.get("weight")))),
        }
    return list(rows.values())


def _signed(weight: float) -> str:
    return f"+{weight:.1f}" if weight > 0 else f"\N{MINUS SIGN}{abs(weight):.1f}"


def _percent(probability: float) -> str:
    """Rounded down, and with a decimal past 99: a pair held just under a threshold of 99 %
    never reads as 99 %, nor anything uncertain as 100 %."""
    if 0.99 <= probability < 1:
        return f"{min(99.9, math.floor(probability * 1000) / 10):.1f} %"
    shown = math.floor(probability * 100)
    return "under 1 %" if shown <= 0 < probability else f"{shown} %"
