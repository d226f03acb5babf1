"""The monthly report of a reconciliation: totals by finding type, what bends AR and revenue,
what was fixed since last month, the trend, the aging of open invoices, and every open
finding as CSV. The same data renders the email (text and HTML) and the page."""

import csv
import io
from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import Count, F, Sum
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from clients.names import header_safe
from connections.actions import alert_recipients
from connections.sync.models import SyncSettings
from syncfirm.csv_cells import safe_row

from .detectors import AGING_BUCKETS
from .models import Finding, FindingStatus, Reconciliation

TREND_MONTHS = 6
CSV_COLUMNS = [
    "code", "severity", "amount", "currency", "direction", "reason", "deal_id",
    "invoice_ids", "customer_id", "proposed_fix", "status",
]  # fmt: skip


def report_data(recon: Reconciliation) -> dict:
    client = recon.client
    findings = list(recon.findings.all())
    open_findings = [f for f in findings if f.status == FindingStatus.OPEN]
    by_code: dict[str, dict] = defaultdict(lambda: {"count": 0, "amount": Decimal("0.00")})
    for f in open_findings:
        by_code[f.code]["count"] += 1
        by_code[f.code]["amount"] += f.amount
    previous = (
        Reconciliation.objects.filter(client=client, period__lt=recon.period)
        .order_by("-period")
        .first()
    )
    fixed = Finding.objects.filter(client=client, status=FindingStatus.FIXED)
    if previous is not None:
        fixed = fixed.filter(decided_at__gte=previous.finished_at or previous.started_at)
    trend = list(
        Reconciliation.objects.filter(client=client, period__lte=recon.period)
        .order_by("-period")
        .annotate(found=Count("findings"), at_stake=Sum("findings__amount"))[:TREND_MONTHS]
    )[::-1]
    aging: dict[str, Decimal] = {label: Decimal("0.00") for _, label in AGING_BUCKETS}
    aging["120+"] = Decimal("0.00")
    period_end = recon.finished_at.astimezone(client.tzinfo).date() if recon.finished_at else None
    for invoice in recon.invoices.filter(balance__gt=0, voided=False):
        age = (period_end - invoice.txn_date).days if period_end else 0
        label = next((name for days, name in AGING_BUCKETS if age <= days), "120+")
        aging[label] += invoice.balance
    return {
        "recon": recon,
        "client": client,
        "by_code": dict(sorted(by_code.items())),
        "open_count": len(open_findings),
        "open_amount": sum((f.amount for f in open_findings), Decimal("0.00")),
        "ar_overstated": _bent(open_findings, "AR", "overstated"),
        "revenue_overstated": _bent(open_findings, "revenue", "overstated"),
        "revenue_understated": _bent(open_findings, "revenue", "understated"),
        "fixed": list(fixed),
        "trend": trend,
        "aging": aging,
        "currency": open_findings[0].currency if open_findings else "USD",
        "page": settings.PUBLIC_BASE_URL.rstrip("/")
        + reverse("reconciliation_report", args=[client.slug, recon.pk]),
    }


def _bent(findings: list[Finding], what: str, way: str) -> Decimal:
    return sum(
        (f.amount for f in findings if what in f.direction and way in f.direction), Decimal("0.00")
    )


def findings_csv(findings) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for f in findings:
        writer.writerow(  # text from both systems: neutralised against formulas
            safe_row([
                f.code, f.severity, f.amount, f.currency, f.direction, f.reason, f.deal_id,
                " ".join(f.invoice_ids), f.customer_id, (f.fix or {}).get("words", ""), f.status,
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
    open_findings = recon.findings.filter(status=FindingStatus.OPEN).order_by("code", "-amount")
    message.attach(
        f"{recon.client.slug}-{recon.period:%Y-%m}-findings.csv",
        findings_csv(open_findings),
        "text/csv",
    )
    return message.send()
