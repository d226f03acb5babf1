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

from . import detectors, totals
from .models import Finding, FindingMonth, FindingStatus, Reconciliation

BULK = 2000
# What the ledger keeps of a finding when a later run sees it again (besides its status).
CARRIED = (
    "severity", "amount", "currency", "direction", "reason", "customer_id", "evidence",
    "records", "fix", "fingerprint",
)  # fmt: skip


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
    """A detector's finding as the ledger stores it."""

    key: str
    values: dict  # the CARRIED fields and the identity fields
    month: tuple[Decimal, str]  # (amount, severity) for the month's view


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
    """Apply one month's findings to the client's ledger (see the module's docstring)."""
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
        ledger = {f.key: f for f in Finding.objects.filter(client=client).order_by()}
        created, changed, touched = [], [], set()
        for key, item in wanted.items():
            finding = ledger.get(key)
            outcome.by_code[item.values["code"]] = outcome.by_code.get(item.values["code"], 0) + 1
            if finding is None:
                created.append(
                    Finding(
                        client=client, reconciliation=recon, key=key, first_period=period,
                        last_period=period, created_at=now, **item.values,
                    )
                )  # fmt: skip
                outcome.opened += 1
                continue
            names = _carry(finding, item, recon, today, outcome)
            if names:
                changed.append(finding)
                touched.update(names)
        for finding in ledger.values():
            if finding.key in wanted or finding.status != FindingStatus.OPEN:
                continue
            if finding.last_period <= period and can_resolve(finding):
                finding.status, finding.resolved_period = FindingStatus.RESOLVED, period
                finding.decision_note = (
                    f"No longer seen in the books or the CRM on {today:%-d %B %Y}."
                )
                finding.reconciliation = recon
                changed.append(finding)
                touched.update(("status", "resolved_period", "decision_note", "reconciliation"))
                outcome.resolved += 1
        Finding.objects.bulk_create(created, batch_size=BULK)
        if changed:
            Finding.objects.bulk_update(changed, sorted(touched), batch_size=BULK)
        outcome.rows_written = len(created) + len(changed)
        by_key = {f.key: f for f in created} | ledger
        outcome.rows_written += _month_view(client, period, wanted, by_key)
        if outcome.rows_written:
            totals.refresh([client.pk])
    return outcome


def _carry(finding: Finding, item: Seen, recon, today: date, outcome: Outcome) -> set[str]:
    """A problem seen again: update what changed; returns the names of the fields written."""
    period, values = recon.period, item.values
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
        set_("last_period", max(period, finding.last_period))
    if names - {"first_period"}:
        set_("reconciliation", recon)
    return names


def _month_view(client: Client, period: date, wanted: dict[str, Seen], by_key: dict) -> int:
    """Rewrite the month's view to what this run saw; returns the rows written."""
    kept = {
        row.finding_id: row for row in FindingMonth.objects.filter(client=client, period=period)
    }
    created, changed, seen_ids = [], [], set()
    for key, item in wanted.items():
        finding = by_key[key]
        seen_ids.add(finding.pk)
        amount, severity = item.month
        dismissed = finding.status == FindingStatus.DISMISSED
        row = kept.get(finding.pk)
        if row is None:
            created.append(
                FindingMonth(client=client, finding=finding, period=period, amount=amount,
                             severity=severity, dismissed=dismissed)
            )  # fmt: skip
        elif (row.amount, row.severity, row.dismissed) != (amount, severity, dismissed):
            row.amount, row.severity, row.dismissed = amount, severity, dismissed
            changed.append(row)
    gone = [pk for finding_id, row in kept.items() if finding_id not in seen_ids for pk in [row.pk]]
    FindingMonth.objects.bulk_create(created, batch_size=BULK)
    if changed:
        FindingMonth.objects.bulk_update(changed, ["amount", "severity", "dismissed"], BULK)
    if gone:
        FindingMonth.objects.filter(pk__in=gone).delete()
    return len(created) + len(changed) + len(gone)
