"""The monthly report of a reconciliation, a dated view of the client's ledger: what was open
at the month's end by type, what bends AR and revenue, what was opened, fixed, dismissed and
resolved during the month, the trend, the aging of open invoices, and every open finding as
CSV. The same data renders the email (text and HTML) and the page."""

import csv
import io
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import Count, F, Sum
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from clients.names import header_safe
from connections.actions import alert_recipients
from sync.models import SyncSettings
from syncfirm.csv_cells import safe_row
from syncfirm.money import plain_amount

from . import lifecycle
from .detectors import AGING_BUCKETS
from .models import Finding, FindingMonth, FindingStatus, Reconciliation, ReconStatus
from .names import describe_all

TREND_MONTHS = 6
EMAIL_FINDINGS = 25  # the email lists the largest; the attached CSV has them all
# Words a person reads in a spreadsheet; the amount a plain number it can add up, its
# currency in its own column.
CSV_COLUMNS = [
    "Client", "Period", "Finding", "Customer", "Deal", "Invoice numbers", "Amount", "Currency",
    "First seen", "Months open", "Status", "Decided by", "Note",
]  # fmt: skip


def month_bounds(client, period: date) -> tuple[datetime, datetime]:
    """The month as instants in the client's timezone: [first day 00:00, next first day)."""
    zone = client.tzinfo
    following = date(period.year + period.month // 12, period.month % 12 + 1, 1)
    return (
        datetime.combine(period, time.min, tzinfo=zone),
        datetime.combine(following, time.min, tzinfo=zone),
    )


def month_view(client, period: date) -> list[Finding]:
    """The findings open at the month's end, as its latest run saw them: the month's amount
    and severity on each (`amount`, `severity`), the ledger's current status kept."""
    rows = (
        FindingMonth.objects.filter(client=client, period=period, dismissed=False)
        .select_related("finding", "finding__reconciliation", "finding__decided_by")
        .order_by("finding__code", "-amount", "finding_id")
    )
    findings = []
    for row in rows:
        finding = row.finding
        finding.amount_now = finding.amount
        finding.amount, finding.severity = row.amount, row.severity
        findings.append(finding)
    return findings


def trend(client, period: date, months: int = TREND_MONTHS) -> list[dict]:
    """Open findings at each month's end and their amount, oldest first, from the ledger:
    each problem once a month however many runs saw it."""
    rows = (
        FindingMonth.objects.filter(client=client, period__lte=period, dismissed=False)
        .values("period")
        .annotate(found=Count("*"), at_stake=Sum("amount"))
        .order_by("-period")[:months]
    )
    return list(rows)[::-1]


def compared_words(recon: Reconciliation) -> list[str]:
    """What a run compared, from its counts, in words ("412 invoices and 3 credit memos from
    the books"); empty when it compared nothing."""
    counts = recon.counts or {}
    if not recon.finished or "invoices" not in counts:
        return []
    invoices, credits = counts["invoices"], counts.get("credits", 0)
    books = f"{_many(invoices, 'invoice')} and {_many(credits, 'credit memo')}"
    said = [f"{books} from the books"]
    if "paired" in counts:  # a CRM that bills its own work, audited invoice by invoice
        crm = counts.get("crm_system") or "the CRM"
        how = [f"{counts['paired']} paired with a books invoice"]
        if counts.get("unsure"):
            how.append(f"{counts['unsure']} for a person to pair")
        if counts.get("crm_only"):
            how.append(f"{counts['crm_only']} not in the books")
        said.append(
            f"{_many(counts['crm_invoices'], crm + ' invoice')} from {crm} ({', '.join(how)})"
        )
    elif counts.get("crm_read", True) and not counts.get("crm_invoices"):
        said.append(f"{_many(counts.get('won_deals', 0), 'won deal')} from the CRM")
    return said


def _many(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def report_data(recon: Reconciliation) -> dict:
    """A month's report: a dated view of the client's ledger — open at the month's end, and
    what was opened, fixed, dismissed and resolved during it. A run that did not finish has
    no findings, says what failed and points to the last run that went through."""
    client = recon.client
    period = recon.period
    finished = recon.finished
    base = settings.PUBLIC_BASE_URL.rstrip("/")
    good = lifecycle.last_good_run(recon)
    open_findings = month_view(client, period) if finished else []
    by_code: dict[str, dict] = defaultdict(lambda: {"count": 0, "amount": Decimal("0.00")})
    for f in open_findings:
        by_code[f.code]["count"] += 1
        by_code[f.code]["amount"] += f.amount
    # Decided or gone since: the month's figures stand, and what is still open now is shown.
    still_open = [f for f in open_findings if f.status == FindingStatus.OPEN]
    start, end = month_bounds(client, period)
    # A run of the month in progress judged it on the day it ran, not at a month end that
    # had not come yet: the page says "on 4 December", never "at month end".
    last_day = end.date() - timedelta(days=1)
    as_of = min(last_day, timezone.localtime(recon.started_at, client.tzinfo).date())
    ledger = Finding.objects.filter(client=client).select_related("decided_by")
    decided = ledger.filter(decided_at__gte=start, decided_at__lt=end).order_by("-decided_at")
    fixed = list(decided.filter(status=FindingStatus.FIXED))
    dismissed = list(decided.filter(status=FindingStatus.DISMISSED))
    resolved = list(ledger.filter(status=FindingStatus.RESOLVED, resolved_period=period))
    describe_all([*open_findings, *fixed, *dismissed, *resolved])  # one look-up of names
    currency = (
        SyncSettings.objects.filter(client=client).values_list("books_currency", flat=True).first()
        or "USD"
    )
    return {
        "recon": recon,
        "client": client,
        "finished": finished,
        "as_of": as_of,
        "month_over": as_of == last_day,
        "findings": open_findings,
        "by_code": dict(sorted(by_code.items())),
        "open_count": len(open_findings),
        "open_amount": sum((f.amount for f in open_findings), Decimal("0.00")),
        "still_open": still_open,
        "still_open_amount": sum((f.amount_now for f in still_open), Decimal("0.00")),
        "ar_overstated": _bent(open_findings, "AR", "overstated"),
        "revenue_overstated": _bent(open_findings, "revenue", "overstated"),
        "revenue_understated": _bent(open_findings, "revenue", "understated"),
        "opened": [f for f in open_findings if f.first_period == period],
        "fixed": fixed,
        "dismissed": dismissed,
        "resolved": resolved,
        "trend": trend(client, period),
        "aging": _aging(recon),
        "currency": open_findings[0].currency if open_findings else currency,
        "page": base + reverse("reconciliation_report", args=[client.slug, recon.pk]),
        "compared": compared_words(recon),
        "good": good,
        "good_page": good and base + lifecycle.report_url(good, client.slug),
        "can_retry": lifecycle.can_retry(recon),
        "replaced_by": _replaced_by(recon),
        "email_limit": EMAIL_FINDINGS,
        "email_slice": f":{EMAIL_FINDINGS}",
    }


def _replaced_by(recon: Reconciliation) -> int | None:
    """The later run of the same month whose view the month now shows, if any."""
    from .queue import latest_finished_runs

    if recon.status not in (ReconStatus.DONE, ReconStatus.PARTIAL):
        return None
    latest = latest_finished_runs({(recon.client_id, recon.period)}).get(
        (recon.client_id, recon.period)
    )
    return latest[0] if latest and latest[0] != recon.pk else None


def _aging(recon: Reconciliation) -> dict[str, Decimal]:
    """The run's aging in bucket order (the database's JSON keeps no key order)."""
    kept = (recon.counts or {}).get("aging", {})
    labels = [label for _, label in AGING_BUCKETS] + ["120+"]
    return {label: Decimal(kept[label]) for label in labels if label in kept}


def _bent(findings: list[Finding], what: str, way: str) -> Decimal:
    return sum(
        (f.amount for f in findings if what in f.direction and way in f.direction), Decimal("0.00")
    )


def csv_name(recon: Reconciliation) -> str:
    """A partial run's file says so in its name: it is not the whole month."""
    partial = "-partial" if recon.status == ReconStatus.PARTIAL else ""
    return f"{recon.client.slug}-{recon.period:%Y-%m}{partial}-findings.csv"


def month_rows(data: dict) -> list[Finding]:
    """The findings a month's file lists: those open at its end, then those fixed, dismissed
    or resolved during it, each once, with who decided and why."""
    rows = list(data["findings"])
    seen = {f.pk for f in rows}
    for f in [*data.get("fixed", ()), *data.get("dismissed", ()), *data.get("resolved", ())]:
        if f.pk not in seen:
            seen.add(f.pk)
            rows.append(f)
    return rows


def findings_csv(recon: Reconciliation, findings: list[Finding]) -> str:
    """The month's open findings for a spreadsheet, in the words of the page (each finding's
    `words`, set by `report_data` or here)."""
    findings = list(findings)
    describe_all([f for f in findings if not hasattr(f, "words")])
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for f in findings:
        words = f.words
        decider = f.decided_by
        writer.writerow(  # text from both systems: neutralised against formulas
            safe_row([
                recon.client.name, f"{recon.period:%Y-%m}", f"{words.title}: {words.sentence}",
                words.customer, words.deal, ", ".join(words.invoices), plain_amount(f.amount),
                f.currency, f"{f.first_period:%Y-%m}", f.months_open, f.get_status_display(),
                (decider.get_full_name() or decider.email) if decider else "", f.decision_note,
            ])
        )  # fmt: skip
    return out.getvalue()


def send_report(recon: Reconciliation) -> int:
    """Email the report to the client's staff and note when; returns how many messages
    went. A failure to send is noted on the run (and raised) so the dispatcher retries."""
    Reconciliation.objects.filter(pk=recon.pk).update(report_attempts=F("report_attempts") + 1)
    try:
        sent = _send_report(recon)
    except Exception as error:
        Reconciliation.objects.filter(pk=recon.pk).update(
            report_error=f"{type(error).__name__}: {error}"[:2000]
        )
        raise
    recon.report_sent_at, recon.report_error = timezone.now(), ""
    Reconciliation.objects.filter(pk=recon.pk).update(
        report_sent_at=recon.report_sent_at, report_error=""
    )
    return sent


def _send_report(recon: Reconciliation) -> int:
    data = report_data(recon)
    recipients = alert_recipients(recon.client)
    contractor = (
        SyncSettings.objects.filter(client=recon.client)
        .values_list("report_contractor_email", flat=True)
        .first()
    )
    if contractor:
        recipients = [*recipients, contractor]
    if not recipients:
        return 0
    subject = header_safe(f"{recon.client.name}: reconciliation for {recon.period:%B %Y}")
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("reconciliation/email/report.txt", data),
        to=recipients,
    )
    message.attach_alternative(
        render_to_string("reconciliation/email/report.html", data), "text/html"
    )
    if data["finished"]:  # a run that compared nothing has no findings file to read as clean
        message.attach(csv_name(recon), findings_csv(recon, month_rows(data)), "text/csv")
    return message.send()
