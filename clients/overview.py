"""What the client page shows: the client's health (the dashboard's figures), its latest
sync runs, its settings in brief, and its reconciliation history with a chart. A fixed
number of queries, however long the history."""

from decimal import Decimal

from django.db.models import Count, Q, Sum

from connections.sync.models import SyncRun, SyncSettings
from connections.sync.status import with_health, with_run_totals
from reconciliation.chart import history_chart
from reconciliation.models import FindingStatus, Reconciliation

from .models import Client

RUNS_SHOWN = 5
HISTORY_MONTHS = 12


def client_overview(client: Client) -> dict:
    health = with_health(Client.objects.filter(pk=client.pk)).get()
    runs = with_run_totals(
        list(SyncRun.objects.filter(client=client).order_by("-started_at")[:RUNS_SHOWN])
    )
    open_findings = Q(findings__status=FindingStatus.OPEN)
    recons = list(
        Reconciliation.objects.filter(client=client)
        .annotate(
            found=Count("findings"),
            found_amount=Sum("findings__amount"),
            open=Count("findings", filter=open_findings),
            at_stake=Sum("findings__amount", filter=open_findings),
        )
        .order_by("-started_at")[: HISTORY_MONTHS * 2]
    )
    latest_per_month = {}
    for recon in recons:  # newest first: the first seen of a month is its latest run
        latest_per_month.setdefault(recon.period, recon)
    months = sorted(latest_per_month.values(), key=lambda r: r.period)[-HISTORY_MONTHS:]
    return {
        "health": health,
        "runs": runs,
        "settings": SyncSettings.objects.filter(client=client).first(),
        "reconciliations": recons[:HISTORY_MONTHS],
        "chart": history_chart(
            [(r.period, r.found, r.found_amount or Decimal("0.00")) for r in months]
        ),
    }
