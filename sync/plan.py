"""What to do with one CRM record, decided from plain values: the pure heart of customer sync.

The merge is three-way. A link remembers each side's values as they were after the last
sync (`Baseline`); a side whose value still equals its own baseline has not changed. So a
change syncfirm wrote itself, coming back by webhook or pull, is no change (no loops), a
field changed on one side is copied to the other, and only a field both sides changed is a
conflict, settled by the field's owner. Sides may agree to differ: a customer the books
call "Cedar Roofing LLC" and the CRM "Cedar Roofing" keeps both names until one changes.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

from .models import ACCOUNTING, CRM, REVIEW, Direction

# Fields an accounting system may not show back as written (QBO masks tax IDs on read):
# an empty value there means "not visible", never "cleared".
WRITE_ONLY_ON_ACCOUNTING = {"tax_id"}
# When a CRM record is first linked to an existing customer, differing names are how the
# two systems spell one customer (that is why they matched), not a conflict to settle.
NAMES = {"display_name", "company_name", "given_name", "family_name"}


@dataclass(frozen=True)
class FieldConflict:
    field: str
    crm: str
    accounting: str
    winner: str  # "crm", "accounting" or "review"


@dataclass
class Merge:
    """The writes a linked pair needs, the baseline to keep after them, and the conflicts."""

    to_accounting: dict[str, str] = field(default_factory=dict)
    to_crm: dict[str, str] = field(default_factory=dict)
    baseline: dict[str, dict[str, str]] = field(default_factory=lambda: {CRM: {}, ACCOUNTING: {}})
    conflicts: list[FieldConflict] = field(default_factory=list)

    @property
    def changes(self) -> bool:
        return bool(self.to_accounting or self.to_crm)


def allows(direction: str, towards: str) -> bool:
    if direction == Direction.BOTH:
        return True
    return direction == {ACCOUNTING: Direction.TO_ACCOUNTING, CRM: Direction.TO_CRM}[towards]


def merge(
    crm: Mapping[str, str],
    accounting: Mapping[str, str],
    baseline: Mapping[str, Mapping[str, str]] | None,
    owners: Mapping[str, str],
    direction: str,
    fields: list[str],
) -> Merge:
    """Three-way merge of one linked pair over `fields`; `baseline` None: first link."""
    out = Merge()
    first_link = not baseline
    crm_base = (baseline or {}).get(CRM, {})
    acc_base = (baseline or {}).get(ACCOUNTING, {})
    for name in fields:
        c, a = crm.get(name, ""), accounting.get(name, "")
        if name in WRITE_ONLY_ON_ACCOUNTING and not a:
            a = acc_base.get(name, c)
        keep = (c, a)  # what each side holds after this sync, unless written below
        if c == a:
            pass
        elif first_link:
            if not c or not a:
                keep = _settle(out, name, c, a, CRM if c else ACCOUNTING, direction)
            elif name not in NAMES:
                winner = owners.get(name, CRM)
                out.conflicts.append(FieldConflict(name, c, a, winner))
                keep = _settle(out, name, c, a, winner, direction)
        else:
            crm_changed = c != crm_base.get(name, c)
            acc_changed = a != acc_base.get(name, a)
            if crm_changed and not acc_changed:
                keep = _settle(out, name, c, a, CRM, direction)
            elif acc_changed and not crm_changed:
                keep = _settle(out, name, c, a, ACCOUNTING, direction)
            elif crm_changed and acc_changed:
                winner = owners.get(name, CRM)
                out.conflicts.append(FieldConflict(name, c, a, winner))
                keep = _settle(out, name, c, a, winner, direction)
        out.baseline[CRM][name], out.baseline[ACCOUNTING][name] = keep
    return out


def _settle(out: Merge, name: str, c: str, a: str, winner: str, direction: str) -> tuple:
    """Write the winner's value to the other side when the direction allows it."""
    if winner == CRM and allows(direction, ACCOUNTING):
        out.to_accounting[name] = c
        return c, c
    if winner == ACCOUNTING and allows(direction, CRM):
        out.to_crm[name] = a
        return a, a
    return c, a  # review, or a one-way client: both stay as they are


def crm_property(field_map: Mapping[str, dict], name: str) -> str | None:
    """The CRM property a customer field is written back to, when that can be inverted: a
    field fed by one property (or the first of `first_of`) has one; a field joined from
    several (a contact's first and last name) has none rather than a split by guess."""
    rule = field_map.get(name, {})
    if rule.get("first_of"):
        return rule["first_of"][0]
    sources = rule.get("from") or []
    return sources[0] if len(sources) == 1 else None


@dataclass(frozen=True)
class Decision:
    """The action for one unlinked CRM record."""

    action: str  # "create", "link", "review", "hold"
    reason: str
    accounting_id: str = ""
    score: float = 0.0


def decide_unlinked(
    problems: list[str], match_kind: str, candidate_id: str, reason: str, score: float
) -> Decision:
    """An unlinked record: held while invalid; linked on a sure match; reviewed on a near
    one; created only on a clear miss."""
    if problems:
        return Decision("hold", "; ".join(problems))
    if match_kind == "sure":
        return Decision("link", reason, candidate_id, score)
    if match_kind == "near":
        return Decision("review", reason, candidate_id, score)
    return Decision("create", reason, "", score)


__all__ = ["ACCOUNTING", "CRM", "REVIEW", "Decision", "FieldConflict", "Merge", "merge"]
