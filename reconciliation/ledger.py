"""The client's ledger of problems: what a reconciliation of one month does to it.

A problem's identity is its code and the records it is about (`problem_key`), never its
amounts. A run for month P, given what the detectors found:
- a problem already in the ledger is carried forward (amount now, last month seen); a
  dismissed one stays dismissed while its data are unchanged and reopens saying what changed;
  a resolved one seen again in a later month reopens; a fixed one seen again reopens;
- a new problem is opened;
- an open problem not seen any more is resolved ("no longer seen … on <date>") when P is its
  latest month; a run of an earlier month (November after December) only rewrites that
  month's view;
- the month's view (`FindingMonth`) is rewritten to what the run saw.
Only rows whose values change are written: re-running an unchanged month writes nothing.
"""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from clients.models import Client
from syncfirm.copy_rows import JsonText, copy_rows

from . import detectors, totals
from .models import Finding, FindingMonth, FindingStatus, Reconciliation

BULK = 2000
# What the ledger keeps of a finding when a later run sees it again (besides its status).
CARRIED = (
    "severity", "amount", "currency", "direction", "reason", "customer_id", "evidence",
    "records", "fix", "fingerprint",
)  # fmt: skip
JSON_COLUMNS = ("evidence", "records", "fix", "invoice_ids", "record_ids")
DIGESTED = (*(n for n in CARRIED if n != "fingerprint"), "invoice_ids", "record_ids")


def problem_key(found: detectors.Finding) -> str:
    """The problem's identity: its code and its records. The customer names a problem only
    when no record does (a customer's balance), since a deal's customer link may come later."""
    parts = [found.code, found.deal_id, sorted(found.invoice_ids), sorted(found.record_ids)]
    if not (found.deal_id or found.invoice_ids or found.record_ids):
        parts.append(found.customer_id)
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def fingerprint(found: detectors.Finding) -> str:
    """The finding and the data it rests on: the same problem with the same numbers."""
    key = [found.code, found.deal_id, sorted(found.invoice_ids), str(found.amount), found.evidence]
    return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()


def _posted_by_syncfirm(client: Client, findings: list[Finding]) -> dict[str, str]:
    """Missing invoices syncfirm has since posted: deal id → the number it posted under, so
    the resolution says how it went away."""
    from sync.models import InvoiceLink, InvoiceState

    deals = [f.deal_id for f in findings if f.code == "missing_invoice" and f.deal_id]
    if not deals:
        return {}
    return dict(
        InvoiceLink.objects.filter(client=client, deal_id__in=deals, state=InvoiceState.CREATED)
        .exclude(doc_number="")
        .values_list("deal_id", "doc_number")
    )


@dataclass
class Outcome:
    """What a run did to the ledger, in counts (kept on the run)."""

    opened: int = 0
    carried: int = 0
    reopened: int = 0
    resolved: int = 0
    dismissed_unchanged: int = 0
    rows_written: int = 0
    by_code: dict[str, int] = field(default_factory=dict)

    def count_unchanged(self, row) -> None:
        if row.status == FindingStatus.DISMISSED:
            self.dismissed_unchanged += 1
        else:
            self.carried += 1

    def as_counts(self) -> dict:
        return {
            "findings": self.opened + self.carried + self.reopened,
            "opened": self.opened,
            "carried": self.carried,
            "reopened": self.reopened,
            "resolved": self.resolved,
            "skipped_as_dismissed": self.dismissed_unchanged,
            "ledger_rows_written": self.rows_written,
            "by_code": self.by_code,
        }


@dataclass(frozen=True)
class Seen:
    """A detector's finding as the ledger stores it; `state` digests what a run writes.
    Its `fingerprint` is worked out only when a row is written or a dismissal weighed (the
    digest covers what it is made of): an unchanged month needs none."""

    key: str
    values: dict  # the CARRIED fields but the fingerprint, and the identity fields
    month: tuple[Decimal, str]  # (amount, severity) for the month's view
    found: detectors.Finding | None = None
    state: str = ""

    def __post_init__(self) -> None:
        # The digest an unchanged month is recognised by (JSON: the same values always
        # give the same text; pickle would not, as it shares repeated objects).
        text = json.dumps([self.values[name] for name in DIGESTED], default=str)
        object.__setattr__(self, "state", hashlib.sha256(text.encode()).hexdigest())

    def full(self) -> dict:
        """Every column it writes, the fingerprint worked out on first use."""
        if "fingerprint" not in self.values:
            self.values["fingerprint"] = fingerprint(self.found)
        return self.values

    def as_row(self) -> dict:
        """The finding's columns for COPY, its JSON written once."""
        values = self.full()
        texts = {k: JsonText(json.dumps(values[k], default=str)) for k in JSON_COLUMNS}
        return {**values, **texts}


def _money(amount: Decimal, currency: str) -> str:
    return f"{amount:,.2f} {currency}"


def what_changed(before: dict, after: dict) -> str:
    """Why a dismissed finding came back, in words."""
    said = []
    if before["amount"] != after["amount"]:
        said.append(
            f"amount {_money(before['amount'], before['currency'])} → "
            f"{_money(after['amount'], after['currency'])}"
        )
    old, new = before.get("evidence") or {}, after.get("evidence") or {}
    for name in sorted(set(old) | set(new)):
        if name != "links" and old.get(name) != new.get(name):
            said.append(f"{name.replace('_', ' ')} {old.get(name, '—')} → {new.get(name, '—')}")
    return "; ".join(said) or "its records changed"


def update(
    client: Client,
    recon: Reconciliation,
    seen: list[Seen],
    *,
    can_resolve: Callable[[Finding], bool] = lambda finding: True,
    now=None,
) -> Outcome:
    """Apply one month's findings to the client's ledger (see the module's docstring).

    The ledger is read as a few plain columns and each problem's `state` (a digest of what a
    run would write); only findings that change are loaded whole, so an unchanged month
    costs one narrow read per table and writes nothing."""
    now = now or timezone.now()
    today = now.astimezone(client.tzinfo).date()
    period = recon.period
    wanted: dict[str, Seen] = {}
    for item in seen:
        wanted.setdefault(item.key, item)  # one problem, once, however many detectors say it
    outcome = Outcome()
    with transaction.atomic():
        # One writer per client's ledger: two runs (November and December) take turns.
        Client.objects.select_for_update().filter(pk=client.pk).values_list("pk").first()
        light = {
            row[1]: Light(*row)
            for row in Finding.objects.filter(client=client).order_by().values_list(*Light.FIELDS)
        }
        new, to_carry = [], []
        for key, item in wanted.items():
            code = item.values["code"]
            outcome.by_code[code] = outcome.by_code.get(code, 0) + 1
            row = light.get(key)
            if row is None:
                new.append(item)
            elif row.would_change(item, recon):
                to_carry.append(row.pk)
            else:
                outcome.count_unchanged(row)
        gone = [
            row.pk
            for key, row in light.items()
            if key not in wanted and row.status == FindingStatus.OPEN and row.last_period <= period
        ]
        # Locked, and read again: a decision taken since the narrow read (a dismissal, a
        # fix) is what the run works from, and none can land between this and the write.
        loaded = Finding.objects.select_for_update().in_bulk(to_carry + gone)
        changed, touched = [], set()
        for pk in to_carry:
            finding = loaded[pk]
            names = _carry(finding, wanted[finding.key], recon, today, outcome)
            if names:
                changed.append(finding)
                touched.update(names)
        posted = _posted_by_syncfirm(client, [loaded[pk] for pk in gone])
        for pk in gone:
            finding = loaded[pk]
            if finding.status == FindingStatus.OPEN and can_resolve(finding):
                finding.status, finding.resolved_period = FindingStatus.RESOLVED, period
                finding.decision_note = (
                    f"Posted by syncfirm as invoice {posted[finding.deal_id]}; no longer "
                    f"missing on {today:%-d %B %Y}."
                    if finding.deal_id in posted
                    else f"No longer seen in the books or the CRM on {today:%-d %B %Y}."
                )
                finding.reconciliation = recon
                changed.append(finding)
                touched.update(("status", "resolved_period", "decision_note", "reconciliation"))
                outcome.resolved += 1
        created = _insert_findings(client, recon, new, now)
        outcome.opened = len(created)
        if changed:
            Finding.objects.bulk_update(changed, sorted(touched), batch_size=BULK)
        outcome.rows_written = len(created) + len(changed)
        status = {key: (row.pk, row.status) for key, row in light.items()}
        status |= {f.key: (f.pk, f.status) for f in changed} | created
        outcome.rows_written += _month_view(client, period, wanted, status)
        if outcome.rows_written:
            totals.refresh([client.pk])
    return outcome


@dataclass(frozen=True)
class Light:
    """The columns that decide whether a run changes a finding."""

    FIELDS = ("pk", "key", "status", "state", "fingerprint", "first_period", "last_period",
              "resolved_period", "decided_at")  # fmt: skip
    pk: int
    key: str
    status: str
    state: str
    fingerprint: str
    first_period: date
    last_period: date
    resolved_period: date | None
    decided_at: object

    def would_change(self, item: Seen, recon: Reconciliation) -> bool:
        """Whether `_carry` would write anything (it is the judge; this only spares loading
        the findings it would leave alone)."""
        period = recon.period
        if period < self.first_period:
            return True
        latest = period >= self.last_period
        if self.status == FindingStatus.DISMISSED:
            return latest and item.full()["fingerprint"] != self.fingerprint
        if self.status == FindingStatus.RESOLVED:
            return period >= (self.resolved_period or period)
        if self.status == FindingStatus.FIXED:
            return latest and self.decided_at is not None and recon.started_at > self.decided_at
        return latest and (item.state != self.state or period > self.last_period)


def _insert_findings(client: Client, recon, new: list[Seen], now) -> dict[str, tuple]:
    """The new findings, written at once; returns {key: (pk, status)}."""
    common = {"client_id": client.pk, "reconciliation_id": recon.pk, "first_period": recon.period,
              "last_period": recon.period, "created_at": now,
              "status": FindingStatus.OPEN}  # fmt: skip
    copy_rows(Finding, ({**common, **item.as_row(), "key": item.key, "state": item.state}
                        for item in new))  # fmt: skip
    keys = [item.key for item in new]
    created = Finding.objects.filter(client=client, key__in=keys).values_list("key", "pk")
    return {key: (pk, FindingStatus.OPEN) for key, pk in created}


def _carry(finding: Finding, item: Seen, recon, today: date, outcome: Outcome) -> set[str]:
    """A problem seen again: update what changed; returns the names of the fields written."""
    period, values = recon.period, item.full()
    names: set[str] = set()

    def set_(name: str, value) -> None:
        attname = Finding._meta.get_field(name).attname
        value = getattr(value, "pk", value)  # a related row is compared by its id
        if getattr(finding, attname) != value:
            setattr(finding, attname, value)
            names.add(name)

    if period < finding.first_period:
        set_("first_period", period)
    latest = period >= finding.last_period
    status = finding.status
    if (
        status == FindingStatus.DISMISSED
        and values["fingerprint"] != finding.fingerprint
        and latest
    ):
        before = {"amount": finding.amount, "currency": finding.currency,
                  "evidence": finding.evidence}  # fmt: skip
        set_("status", FindingStatus.OPEN)
        set_("change_note", f"Reopened on {today:%-d %B %Y}: {what_changed(before, values)}. "
                            f"It had been dismissed: {finding.decision_note}")  # fmt: skip
        outcome.reopened += 1
    elif status == FindingStatus.RESOLVED and period >= (finding.resolved_period or period):
        set_("status", FindingStatus.OPEN)
        set_("change_note", f"Seen again in {period:%B %Y} after it was resolved in "
                            f"{finding.resolved_period:%B %Y}.")  # fmt: skip
        set_("resolved_period", None)
        outcome.reopened += 1
    elif (
        status == FindingStatus.FIXED
        and latest  # an earlier month re-run sees its own dates, before the fix was written
        and finding.decided_at is not None
        and recon.started_at > finding.decided_at
    ):
        set_("status", FindingStatus.OPEN)
        set_("change_note", f"Still seen on {today:%-d %B %Y}, after the fix of "
                            f"{finding.decided_at:%-d %B %Y}: {finding.decision_note}")  # fmt: skip
        outcome.reopened += 1
    elif status == FindingStatus.DISMISSED:
        outcome.dismissed_unchanged += 1
    else:
        outcome.carried += 1
    if finding.status != status:  # reopened: the earlier decision no longer stands
        for name, value in (("decided_by", None), ("decided_at", None), ("decision_note", ""),
                            ("fix_error", ""), ("fix_failed_at", None)):  # fmt: skip
            set_(name, value)
    if finding.status == FindingStatus.OPEN and (latest or "status" in names):
        for name in CARRIED:
            set_(name, values[name])
        set_("state", item.state)
        set_("last_period", max(period, finding.last_period))
    if names - {"first_period"}:
        set_("reconciliation", recon)
    return names


def _month_view(client: Client, period: date, wanted: dict[str, Seen], status: dict) -> int:
    """Rewrite the month's view to what this run saw; returns the rows written."""
    kept = {
        finding_id: (pk, amount, severity, dismissed)
        for pk, finding_id, amount, severity, dismissed in FindingMonth.objects.filter(
            client=client, period=period
        ).values_list("pk", "finding_id", "amount", "severity", "dismissed")
    }
    created, changed, seen_ids = [], [], set()
    for key, item in wanted.items():
        finding_id, finding_status = status[key]
        seen_ids.add(finding_id)
        amount, severity = item.month
        dismissed = finding_status == FindingStatus.DISMISSED
        row = kept.get(finding_id)
        if row is None:
            created.append(
                {"client_id": client.pk, "finding_id": finding_id, "period": period,
                 "amount": amount, "severity": severity, "dismissed": dismissed}
            )  # fmt: skip
        elif row[1:] != (amount, severity, dismissed):
            changed.append(
                FindingMonth(pk=row[0], amount=amount, severity=severity, dismissed=dismissed)
            )
    gone = [row[0] for finding_id, row in kept.items() if finding_id not in seen_ids]
    copy_rows(FindingMonth, created)
    if changed:
        FindingMonth.objects.bulk_update(changed, ["amount", "severity", "dismissed"], BULK)
    if gone:
        FindingMonth.objects.filter(pk__in=gone).delete()
    return len(created) + len(changed) + len(gone)
