"""Sync requests folded together while a client's lease is held: pure functions over plain
data (the JSON kept on SyncSettings), so 62 webhooks become one run, not 62 waiting tasks.

A request names what it wants (`SyncRequest`); requests that one run can serve share a key
and are merged into one entry; entries run in the order they were first asked for.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from .models import RunKind

# When requests of several kinds fold into one run, the run is labelled by the strongest:
# a person asked > the schedule asked > a webhook asked.
KIND_STRENGTH = {RunKind.MANUAL: 3, RunKind.FULL: 3, RunKind.SCHEDULED: 2, RunKind.WEBHOOK: 1}

# Kinds of books record whose change a sync run picks up (customers, and money for deals).
BOOKS_KINDS = {"customer", "invoice", "payment", "credit"}


@dataclass(frozen=True)
class SyncRequest:
    """One ask for a sync of a client. `crm_ids` None is the batched pull (all changes
    since the cursors); a dict reads just those CRM records."""

    kind: str = RunKind.SCHEDULED
    full: bool = False
    dry_run: bool = False
    crm_ids: dict[str, list[str]] | None = None
    user_id: int | None = None
    deliveries: list[int] = field(default_factory=list)  # webhook deliveries it answers

    def key(self) -> str:
        """Requests with one key are served by one run."""
        imports = self.kind in (RunKind.IMPORT, RunKind.IMPORT_PREVIEW)
        what = self.kind if imports else "sync"
        scope = "pull" if self.crm_ids is None else "records"
        return f"{what}:full={int(self.full)}:dry={int(self.dry_run)}:{scope}"

    def entry(self) -> dict:
        return {
            "key": self.key(),
            "kind": str(self.kind),
            "full": self.full,
            "dry_run": self.dry_run,
            "crm_ids": self.crm_ids,
            "user_id": self.user_id,
            "deliveries": list(self.deliveries),
        }


def merge(entries: list[dict], request: SyncRequest) -> list[dict]:
    """`entries` with `request` folded in: into the entry with its key, else appended."""
    new = request.entry()
    merged, found = [], False
    for entry in entries:
        if entry["key"] == new["key"] and not found:
            entry, found = _fold(entry, new), True
        merged.append(entry)
    return merged if found else [*merged, new]


def merge_all(entries: list[dict], more: Iterable[dict]) -> list[dict]:
    """Entries of another list (kept in their order) folded into `entries`."""
    for entry in more:
        entries = merge(entries, request_of(entry))
    return entries


def request_of(entry: dict) -> SyncRequest:
    return SyncRequest(
        kind=entry["kind"],
        full=entry["full"],
        dry_run=entry["dry_run"],
        crm_ids=entry["crm_ids"],
        user_id=entry["user_id"],
        deliveries=list(entry.get("deliveries", [])),
    )


def _fold(old: dict, new: dict) -> dict:
    strength = KIND_STRENGTH.get
    kind = new["kind"] if strength(new["kind"], 0) > strength(old["kind"], 0) else old["kind"]
    crm_ids = None
    if old["crm_ids"] is not None:
        crm_ids = {t: list(ids) for t, ids in old["crm_ids"].items()}
        for crm_type, ids in new["crm_ids"].items():
            crm_ids[crm_type] = list(dict.fromkeys([*crm_ids.get(crm_type, []), *ids]))
    return old | {
        "kind": kind,
        "crm_ids": crm_ids,
        "user_id": new["user_id"] or old["user_id"],  # the last person who asked
        "deliveries": sorted({*old.get("deliveries", []), *new.get("deliveries", [])}),
    }


def crm_request(changes: Iterable[tuple[str, str]]) -> SyncRequest | None:
    """The records a CRM delivery names, as (CRM object type, id); an empty type is a
    change sync does not read."""
    crm_ids: dict[str, list[str]] = {}
    for crm_type, object_id in changes:
        if crm_type:
            crm_ids.setdefault(crm_type, []).append(object_id)
    return SyncRequest(kind=RunKind.WEBHOOK, crm_ids=crm_ids) if crm_ids else None


def books_request(changes: Iterable[tuple[str, str]]) -> SyncRequest | None:
    """The books name the record; the change-feed pull reads it with the others."""
    if any(kind in BOOKS_KINDS for kind, _ in changes):
        return SyncRequest(kind=RunKind.WEBHOOK)
    return None
