"""What the close of each client and month is decided from, read for many clients and months
at once: a fixed number of queries however many (the board shows every client of a firm
beside several months)."""

from collections import defaultdict
from datetime import date, timedelta

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from clients.models import Client
from connections.models import Connection, Status
from connections.providers import provider
from sync.models import SyncRun

from . import close
from .lifecycle import end_dead
from .models import CarryNote, FindingMonth, MonthClose, Reconciliation
from .report import month_bounds

RUN_FIELDS = (
    "pk",
    "client_id",
    "period",
    "status",
    "stage",
    "started_at",
    "finished_at",
    "heartbeat_at",
    "error",
    "report_sent_at",
)


def with_last_sync(clients):
    """Clients with their latest sync run's status and error (one subquery each)."""
    last = SyncRun.objects.filter(client=OuterRef("pk")).order_by("-started_at")
    return clients.annotate(
        last_sync_status=Subquery(last.values("status")[:1]),
        last_sync_error=Subquery(last.values("error")[:1]),
    )


def ended_months(today: date, count: int, last: date | None = None) -> list[date]:
    """`count` months ending with `last` (default: the last month that has ended), newest
    first."""
    month = last or (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    months = [month]
    while len(months) < count:
        months.append((months[-1] - timedelta(days=1)).replace(day=1))
    return months


def facts_for(
    clients: list[Client], periods: list[date], *, reasons: bool = True
) -> dict[tuple[int, date], close.Facts]:
    """The facts of each client (annotated by `with_last_sync`) and month; the latest run of
    a month that a dead worker left "running" is ended first, so it never reads as running.
    Without `reasons`, findings carry no reason text (the board needs none)."""
    ids = [c.pk for c in clients]
    links = defaultdict(list)
    for client_id, system, status in Connection.objects.filter(client_id__in=ids).values_list(
        "client_id", "system", "status"
    ):
        links[client_id].append(
            close.Link(provider(system).kind, provider(system).label, status, Status(status).label)
        )
    latest: dict[tuple[int, date], Reconciliation] = {}
    runs = Reconciliation.objects.filter(client_id__in=ids, period__in=periods).only(*RUN_FIELDS)
    for run in runs.order_by("client_id", "period", "-started_at"):
        latest.setdefault((run.client_id, run.period), run)
    end_dead(latest.values())
    notes = {
        (finding_id, period): note
        for finding_id, period, note in CarryNote.objects.filter(
            client_id__in=ids, period__in=periods
        ).values_list("finding_id", "period", "note")
    }
    items = defaultdict(list)
    fields = [
        "client_id",
        "period",
        "finding_id",
        "finding__code",
        "amount",
        "finding__currency",
        "finding__status",
    ] + (["finding__reason"] if reasons else [])
    for row in (
        FindingMonth.objects.filter(client_id__in=ids, period__in=periods)
        .order_by("finding__code", "-amount", "finding_id")
        .values_list(*fields)
    ):
        client_id, period, finding_id, code, amount, currency, status = row[:7]
        items[(client_id, period)].append(
            close.Item(
                finding_id,
                code,
                amount,
                currency,
                status,
                reason=row[7] if reasons else "",
                carried=notes.get((finding_id, period), ""),
            )
        )
    closes = {
        (c.client_id, c.period): c
        for c in MonthClose.objects.filter(client_id__in=ids, period__in=periods)
    }
    now = timezone.now()
    facts = {}
    for client in clients:
        for period in periods:
            end = month_bounds(client, period)[1]
            run = latest.get((client.pk, period))
            kept = closes.get((client.pk, period))
            status = getattr(client, "last_sync_status", None)
            facts[(client.pk, period)] = close.Facts(
                period=period,
                ended=now >= end,
                month_end=end,
                links=tuple(links[client.pk]),
                last_sync=(status, client.last_sync_error or "") if status else None,
                latest_run=_run(run) if run else None,
                items=tuple(items[(client.pk, period)]),
                signed_off_at=kept.signed_off_at if kept else None,
                snapshot=kept.snapshot if kept and kept.closed else {},
            )
    return facts


def _run(run: Reconciliation) -> close.Run:
    return close.Run(
        run.pk, run.status, run.started_at, run.finished_at, run.error, run.report_sent_at
    )


def one_month(client: Client, period: date) -> close.Facts:
    annotated = with_last_sync(Client.objects.filter(pk=client.pk)).get()
    return facts_for([annotated], [period])[(client.pk, period)]


def signed_off_view(client: Client, period: date) -> dict | None:
    """For a month's report: who signed it off, when, what it showed then and what differs
    now (None while the month is open)."""
    kept = (
        MonthClose.objects.filter(client=client, period=period, signed_off_at__isnull=False)
        .select_related("signed_off_by")
        .first()
    )
    if kept is None:
        return None
    return {
        "kept": kept,
        "verdict": close.verdict(one_month(client, period)),
        "count": kept.snapshot.get("count", 0),
        "totals": kept.snapshot.get("totals", {}),
    }
