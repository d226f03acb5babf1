"""What the client page shows: the client's health (the dashboard's figures), its latest
sync runs, its settings in brief, and its reconciliation history with a chart. A fixed
number of queries, however long the history."""

from datetime import timedelta
from decimal import Decimal

from clients.models import Client
from reconciliation.chart import history_chart
from reconciliation.lifecycle import end_dead, last_good_run
from reconciliation.models import Reconciliation
from reconciliation.queue import month_totals
from reconciliation.run import local_today
from sync.models import SyncRun, SyncSettings
from sync.status import with_run_totals

from . import board
from .figures import with_health

RUNS_SHOWN = 5
HISTORY_MONTHS = 12


def client_overview(client: Client) -> dict:
    health = with_health(Client.objects.filter(pk=client.pk)).get()
    runs = with_run_totals(
        list(SyncRun.objects.filter(client=client).order_by("-started_at")[:RUNS_SHOWN])
    )
    recons = list(
        Reconciliation.objects.filter(client=client).order_by("-started_at")[: HISTORY_MONTHS * 2]
    )
    end_dead(recons)  # a run whose worker died reads as failed here, not "running" forever
    month_totals(recons)
    latest_per_month = {}
    for recon in recons:  # newest first: a month's chart point is its latest finished run
        if recon.found is not None:
            latest_per_month.setdefault(recon.period, recon)
    # The latest month and its latest run, as the dashboard's 'Last reconciled' reads it:
    # re-running November must not hide December (or December's failure) on this page.
    latest = max(recons, key=lambda r: (r.period, r.started_at), default=None)
    months = sorted(latest_per_month.values(), key=lambda r: r.period)[-HISTORY_MONTHS:]
    this_month = local_today(client).replace(day=1)
    choices = [this_month]
    while len(choices) < HISTORY_MONTHS + 1:
        choices.append((choices[-1] - timedelta(days=1)).replace(day=1))
    return {
        "stakes": board.stakes(health.stake_by_currency, health.at_stake, health.currency),
        "recon_months": choices,
        "recon_default": choices[1],  # the last month that has ended
        "health": health,
        "runs": runs,
        "settings": SyncSettings.objects.filter(client=client).first(),
        "reconciliations": recons[:HISTORY_MONTHS],
        "latest_recon": latest,
        "last_good": last_good_run(latest) if latest else None,
        "chart": history_chart(
            [(r.period, r.found, r.at_stake or Decimal("0.00")) for r in months]
        ),
    }
