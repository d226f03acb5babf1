"""The month-end close of one client and month, decided in one place (pure: no database).

A month is *closed* once a person signed it off; until then it is *ready* when every item of
its checklist holds, else *blocked*, with the reasons in words:
- both systems connected (the books and the CRM, each active);
- syncing: the last sync did not fail (nor wait for the historical import);
- the month reconciled after it ended, by a run that went through (not failed, not partial);
- every finding of the month decided (fixed, dismissed, resolved) or carried with a note;
- the report of that run sent.
A signed-off month keeps what it showed then (`snapshot`); `changes` says, in words, what the
latest run and later decisions show differently (decision 0021).
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from syncfirm.money import money

from .detectors import CODES

CLOSED, READY, BLOCKED = "closed", "ready", "blocked"
DONE, PARTIAL, FAILED, RUNNING = "done", "partial", "failed", "running"
SYNC_FAILED, SYNC_WAITING = "failed", "waiting"
KINDS = {"accounting": "No books connected", "crm": "No CRM connected"}
RUN_WORDS = {
    DONE: "went through",
    PARTIAL: "could not compare everything",
    FAILED: "failed",
    RUNNING: "running",
}
SETTLED = {"fixed": "fixed", "dismissed": "dismissed", "resolved": "no longer seen"}


@dataclass(frozen=True)
class Link:
    """One system's connection: its kind (accounting / crm), name and status."""

    kind: str
    label: str
    status: str
    status_label: str


@dataclass(frozen=True)
class Run:
    """A reconciliation of the month, as the checklist reads it."""

    pk: int
    status: str
    started_at: datetime
    finished_at: datetime | None = None
    error: str = ""
    report_sent_at: datetime | None = None

    @property
    def status_words(self) -> str:
        return RUN_WORDS.get(self.status, self.status)


@dataclass(frozen=True)
class Item:
    """A finding of the month: its amount that month and its decision now. Also the shape
    of each finding kept in a sign-off's snapshot."""

    finding_id: int
    code: str
    amount: Decimal
    currency: str
    status: str  # open / fixed / dismissed / resolved
    reason: str = ""
    carried: str = ""  # the carry note of this month, when an open finding has one

    @property
    def label(self) -> str:
        return CODES.get(self.code, self.code)

    @property
    def settled(self) -> bool:
        return self.status != "open" or bool(self.carried)

    @property
    def decision(self) -> str:
        """Its decision in words: "fixed", "carried", "open, not carried"."""
        if self.status != "open":
            return SETTLED.get(self.status, self.status)
        return "carried" if self.carried else "open, not carried"

    def as_json(self) -> dict:
        return {
            "finding_id": self.finding_id,
            "code": self.code,
            "amount": str(self.amount),
            "currency": self.currency,
            "status": self.status,
            "reason": self.reason,
            "carried": self.carried,
        }

    @classmethod
    def from_json(cls, data: dict) -> "Item":
        return cls(**{**data, "amount": Decimal(data["amount"])})


@dataclass(frozen=True)
class Facts:
    """What the checklist of one client and month is decided from."""

    period: date
    ended: bool  # the month is over in the client's timezone
    month_end: datetime  # its first instant after
    links: tuple[Link, ...] = ()
    last_sync: tuple[str, str] | None = None  # (status, error) of the latest sync run
    latest_run: Run | None = None
    items: tuple[Item, ...] = ()
    signed_off_at: datetime | None = None
    snapshot: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Check:
    name: str
    holds: bool
    words: str


@dataclass(frozen=True)
class Change:
    kind: str  # new / gone / amount / decision
    words: str


@dataclass(frozen=True)
class Verdict:
    """The month's state: closed, ready or blocked, the checklist, and for a closed month
    what differs since the sign-off (`judged` False when the latest run cannot tell)."""

    status: str
    checks: tuple[Check, ...]
    changes: tuple[Change, ...] = ()
    judged: bool = True
    unjudged_words: str = ""

    @property
    def reasons(self) -> list[str]:
        return [c.words for c in self.checks if not c.holds]

    @property
    def connected(self) -> bool:
        """Both systems connected: until then a run can only be refused."""
        return all(c.holds for c in self.checks if c.name == "connected")

    @property
    def top_reason(self) -> str:
        return self.reasons[0] if self.reasons else ""

    @property
    def changed(self) -> bool:
        return bool(self.changes)

    @property
    def label(self) -> str:
        """The board's cell in words: "closed · changed since sign-off", "ready"…"""
        if self.status != CLOSED:
            return self.status
        if not self.judged:
            return "closed · latest run not compared"
        return "closed · changed since sign-off" if self.changes else "closed"


def _month(period: date) -> str:
    return f"{period:%B %Y}"


def _connected(facts: Facts) -> Check:
    said = []
    for kind, missing in KINDS.items():
        mine = [link for link in facts.links if link.kind == kind]
        if not mine:
            said.append(missing)
        for link in mine:
            if link.status != "active":
                said.append(f"{link.label}: {link.status_label.lower()}")
    if said:
        return Check("connected", False, "; ".join(said) + ".")
    names = " and ".join(link.label for link in facts.links)
    return Check("connected", True, f"{names} connected.")


def _syncing(facts: Facts) -> Check:
    if facts.last_sync is None:
        return Check("syncing", False, "No sync has run yet.")
    status, error = facts.last_sync
    if status == SYNC_FAILED:
        return Check("syncing", False, f"The last sync failed: {error or 'no reason given'}")
    if status == SYNC_WAITING:
        return Check("syncing", False, "Syncing waits for the historical import's approval.")
    return Check("syncing", True, "The last sync went through.")


def _reconciled(facts: Facts) -> Check:
    month, run = _month(facts.period), facts.latest_run
    name = "reconciled"
    if not facts.ended:
        return Check(name, False, f"{month} has not ended yet.")
    if run is None:
        return Check(name, False, f"{month} has not been reconciled.")
    if run.status == RUNNING:
        return Check(name, False, f"{month} is being reconciled now.")
    if run.status == FAILED:
        return Check(name, False, f"The latest run of {month} failed: {run.error}".strip())
    if run.status == PARTIAL:
        return Check(name, False, f"The latest run of {month} could not compare everything.")
    if run.started_at < facts.month_end:
        return Check(name, False, f"{month} was last reconciled before it ended.")
    return Check(name, True, f"{month} reconciled after it ended.")


def _decided(facts: Facts) -> Check:
    waiting = [i for i in facts.items if not i.settled]
    if waiting:
        many = len(waiting) != 1
        return Check(
            "decided",
            False,
            f"{len(waiting)} open finding{'s' if many else ''} "
            f"{'are' if many else 'is'} neither decided nor carried with a note.",
        )
    count = len(facts.items)
    if not count:
        return Check("decided", True, "No findings to decide.")
    return Check("decided", True, f"Every finding ({count}) decided or carried with a note.")


def _reported(facts: Facts) -> Check:
    run = facts.latest_run
    if run is None or run.status != DONE:
        return Check("reported", False, "The report waits for a run that went through.")
    if run.report_sent_at is None:
        return Check("reported", False, "The report of the latest run has not been sent.")
    return Check("reported", True, "The report was sent.")


def checklist(facts: Facts) -> tuple[Check, ...]:
    return (
        _connected(facts),
        _syncing(facts),
        _reconciled(facts),
        _decided(facts),
        _reported(facts),
    )


def verdict(facts: Facts) -> Verdict:
    """Closed, ready or blocked; for a closed month, what changed since the sign-off."""
    checks = checklist(facts)
    if facts.signed_off_at is None:
        return Verdict(READY if all(c.holds for c in checks) else BLOCKED, checks)
    run = facts.latest_run
    if run is not None and run.started_at > facts.signed_off_at and run.status != DONE:
        # A later run that failed or compared only part says nothing: neither changed nor
        # clean; what was signed off stands.
        state = {RUNNING: "is running", FAILED: "failed", PARTIAL: "could not compare everything"}
        words = (
            f"The latest run of {_month(facts.period)} {state.get(run.status, run.status)}, "
            "so it was not compared with what was signed off."
        )
        return Verdict(CLOSED, checks, judged=False, unjudged_words=words)
    signed = [Item.from_json(row) for row in facts.snapshot.get("items", [])]
    return Verdict(CLOSED, checks, changes=tuple(changes(signed, list(facts.items))))


CHANGE_ORDER = ("new", "gone", "amount", "decision")


def changes(signed: list[Item], now: list[Item]) -> list[Change]:
    """What differs between the findings signed off and the month's findings now, in words:
    new problems, problems gone, amounts changed, decisions changed (in that order)."""
    before = {i.finding_id: i for i in signed}
    after = {i.finding_id: i for i in now}
    said = []
    for item in now:
        was, amount = before.get(item.finding_id), money(item.amount, item.currency)
        if was is None:
            said.append(Change("new", f"New problem: {item.label}, {amount} — {item.reason}"))
            continue
        if (was.amount, was.currency) != (item.amount, item.currency):
            was_amount = money(was.amount, was.currency)
            said.append(Change("amount", f"Amount changed: {item.label} {was_amount} → {amount}."))
        if was.decision != item.decision:
            said.append(
                Change(
                    "decision",
                    f"Decision changed: {item.label}, {amount}: {was.decision} → {item.decision}.",
                )
            )
    for item in signed:
        if item.finding_id not in after:
            amount = money(item.amount, item.currency)
            said.append(
                Change("gone", f"No longer seen: {item.label}, {amount} (it was {item.decision}).")
            )
    return sorted(said, key=lambda c: CHANGE_ORDER.index(c.kind))


def totals(items: list[Item]) -> dict[str, str]:
    """Amount open at the month's end per currency (dismissed findings left out, as the report
    does), as text for the snapshot."""
    sums: dict[str, Decimal] = {}
    for item in items:
        if item.status != "dismissed":
            sums[item.currency] = sums.get(item.currency, Decimal("0.00")) + item.amount
    return {currency: str(amount) for currency, amount in sorted(sums.items())}


def snapshot(facts: Facts, signed_by: str, at: datetime) -> dict:
    """What a sign-off keeps: the run it rests on, each finding and the totals."""
    run = facts.latest_run
    return {
        "run": run.pk if run else None,
        "run_started_at": run.started_at.isoformat() if run else None,
        "signed_by": signed_by,
        "at": at.isoformat(),
        "items": [i.as_json() for i in facts.items],
        "count": sum(1 for i in facts.items if i.status != "dismissed"),
        "totals": totals(list(facts.items)),
        "checks": [c.words for c in checklist(facts)],
    }


RANK = {BLOCKED: 0, READY: 1, CLOSED: 2}


def worst_first[T](rows: list[tuple[T, list[Verdict]]]) -> list[tuple[T, list[Verdict]]]:
    """Clients with a blocked month first (the most blocked months first), then those with a
    month ready to sign off, then the closed; by name (`str` of each row's first item)."""

    def key(row):
        name, verdicts = row
        ranks = [RANK[v.status] for v in verdicts]
        return (min(ranks, default=2), -ranks.count(0), -ranks.count(1), str(name).casefold())

    return sorted(rows, key=key)
