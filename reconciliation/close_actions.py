"""What a person does to close a month, one function each: atomic, audited, refusing in words
what the month's state does not allow (sign off a month that is not ready, carry a finding
of a month already signed off, reopen one that is not closed)."""

from datetime import date

from django.db import transaction
from django.utils import timezone

from clients.actions import audit
from clients.models import Client, User

from . import close
from .close_facts import one_month
from .fixes import REASON_MAX
from .lifecycle import FINISHED
from .models import CarryNote, Finding, FindingMonth, FindingStatus, MonthClose, Reconciliation
from .report import send_report


class CloseRefused(Exception):
    """Said to the person who asked."""


def _text(text: str, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise CloseRefused(f"Write {what}.")
    if len(text) > REASON_MAX:
        raise CloseRefused(f"Keep {what} under {REASON_MAX:,} characters ({len(text):,} now).")
    return text


def _lock(client: Client) -> None:
    """One close action of a client at a time (and none while a run writes its ledger)."""
    Client.objects.select_for_update().filter(pk=client.pk).values_list("pk").first()


def _month(period: date) -> str:
    return f"{period:%B %Y}"


def _signed_off(client: Client, period: date) -> MonthClose | None:
    return (
        MonthClose.objects.filter(client=client, period=period, signed_off_at__isnull=False)
        .select_related("signed_off_by")
        .first()
    )


def do_sign_off(actor: User, client: Client, period: date) -> MonthClose:
    """Sign the month off, keeping what it shows now; only when every checklist item holds."""
    with transaction.atomic():
        _lock(client)
        if done := _signed_off(client, period):
            raise CloseRefused(
                f"{_month(period)} was signed off already, by {done.signed_off_by or 'someone'} "
                f"on {timezone.localtime(done.signed_off_at, client.tzinfo):%-d %B %Y}."
            )
        facts = one_month(client, period)
        judged = close.verdict(facts)
        if judged.status != close.READY:
            raise CloseRefused(
                f"{_month(period)} cannot be signed off yet: " + " ".join(judged.reasons)
            )
        now = timezone.now()
        kept, _ = MonthClose.objects.get_or_create(client=client, period=period)
        kept.signed_off_by, kept.signed_off_at = actor, now
        kept.snapshot = close.snapshot(facts, str(actor), now)
        kept.save()
        after = {
            "period": str(period),
            "run": kept.snapshot["run"],
            "count": kept.snapshot["count"],
            "totals": kept.snapshot["totals"],
        }
        audit(client.firm, actor, "month.signed_off", kept, {}, after)
    return kept


def do_reopen(actor: User, client: Client, period: date, reason: str) -> MonthClose:
    """Take a sign-off back, saying why: the month is open again and its checklist counts."""
    reason = _text(reason, "why the month is reopened")
    with transaction.atomic():
        _lock(client)
        kept = _signed_off(client, period)
        if kept is None:
            raise CloseRefused(f"{_month(period)} is not signed off: there is nothing to reopen.")
        before = {
            "period": str(period),
            "signed_off_by": str(kept.signed_off_by or ""),
            "signed_off_at": kept.signed_off_at.isoformat(),
            "count": kept.snapshot.get("count"),
            "totals": kept.snapshot.get("totals"),
        }
        kept.signed_off_by, kept.signed_off_at, kept.snapshot = None, None, {}
        kept.reopened_by, kept.reopened_at, kept.reopen_reason = actor, timezone.now(), reason
        kept.save()
        audit(client.firm, actor, "month.reopened", kept, before, {"reason": reason})
    return kept


def do_carry(actor: User, client: Client, period: date, finding_id: int, note: str) -> CarryNote:
    """Carry an open finding of the month into the next with a note saying why."""
    note = _text(note, "why it is carried")
    with transaction.atomic():
        _lock(client)
        if _signed_off(client, period):
            raise CloseRefused(f"{_month(period)} is signed off: reopen it to change its notes.")
        finding = Finding.objects.filter(client=client, pk=finding_id).first()
        in_month = FindingMonth.objects.filter(finding_id=finding_id, period=period).exists()
        if finding is None or not in_month:
            raise CloseRefused(f"That finding is not one of {_month(period)}'s.")
        if finding.status != FindingStatus.OPEN:
            raise CloseRefused("That finding was decided already: it needs no carry note.")
        kept = CarryNote.objects.filter(finding=finding, period=period).first()
        before = {"note": kept.note} if kept else {}
        kept = kept or CarryNote(client=client, finding=finding, period=period)
        kept.note, kept.noted_by, kept.noted_at = note, actor, timezone.now()
        kept.save()
        audit(
            client.firm,
            actor,
            "finding.carried",
            finding,
            before,
            {"period": str(period), "note": note},
        )
    return kept


def do_send_report(actor: User, client: Client, period: date) -> Reconciliation:
    """Email the month's report, of its latest run (which must have gone through)."""
    run = (
        Reconciliation.objects.filter(client=client, period=period).order_by("-started_at").first()
    )
    if run is None or run.status not in FINISHED:
        raise CloseRefused(
            f"{_month(period)} has no run that went through: reconcile it before sending its "
            "report."
        )
    send_report(run)
    audit(
        client.firm,
        actor,
        "report.sent",
        run,
        {},
        {"period": str(period), "sent_at": run.report_sent_at.isoformat()},
    )
    return run
