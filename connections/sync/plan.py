"""What to do with one CRM record, decided from plain values: the pure heart of customer sync.

The merge is three-way. `synced` holds each field as both sides agreed after the last sync;
a side whose value still equals it has not changed. So a change syncfirm wrote itself, when
it comes back by webhook or pull, equals `synced` and is not written again (no loops), and
only a field both sides changed is a conflict, settled by the field's owner.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

from .models import ACCOUNTING, CRM, REVIEW, Direction

# Fields an accounting system may not show back as written (QBO masks tax IDs on read):
# an empty value there means "not visible", never "cleared".
WRITE_ONLY_ON_ACCOUNTING = {"tax_id"}


@dataclass(frozen=True)
class FieldConflict:
    field: str
    crm: str
    accounting: str
    winner: str  # "crm", "accounting" or "review"


@dataclass
class Merge:
    """The writes a linked pair needs, and the conflicts met on the way."""

    to_accounting: dict[str, str] = field(default_factory=dict)
    to_crm: dict[str, str] = field(default_factory=dict)
    synced: dict[str, str] = field(default_factory=dict)
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
    synced: Mapping[str, str] | None,
    owners: Mapping[str, str],
    direction: str,
    fields: list[str],
) -> Merge:
    """Three-way merge of one linked pair over `fields`. `synced` None: first link."""
    out = Merge()
    first_link = synced is None
    synced = synced or {}
    for name in fields:
        c, a = crm.get(name, ""), accounting.get(name, "")
        if name in WRITE_ONLY_ON_ACCOUNTING and not a:
            a = synced.get(name, c)
        base = synced.get(name)
        if c == a:
            out.synced[name] = c
            continue
        if first_link and (not c or not a):
            winner = CRM if c else ACCOUNTING  # filling a blank is no conflict
        elif not first_link and a == base:
            winner = CRM
        elif not first_link and c == base:
            winner = ACCOUNTING
        else:
            winner = owners.get(name, CRM)
            out.conflicts.append(FieldConflict(name, c, a, winner))
        if winner == CRM and allows(direction, ACCOUNTING):
            out.to_accounting[name] = c
            out.synced[name] = c
        elif winner == ACCOUNTING and allows(direction, CRM):
            out.to_crm[name] = a
            out.synced[name] = a
        elif base is not None:
            out.synced[name] = base  # undecided or one-way: remember the old agreement
    return out


def crm_properties(field_map: Mapping[str, dict], values: Mapping[str, str]) -> dict[str, str]:
    """Customer fields → the CRM properties that feed them, where that can be inverted:
    a field fed by one property (or the first of `first_of`) is written there; a field joined
    from several (a contact's first and last name) is left alone rather than split by guess."""
    out = {}
    for name, value in values.items():
        rule = field_map.get(name, {})
        sources = rule.get("first_of") or rule.get("from") or []
        if "first_of" in rule or len(sources) == 1:
            out[sources[0]] = value
    return out


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
