"""What `/metrics` measures at each scrape about the sync engine, from the shared database:
the task queue's depth and how far behind the clients' syncs are."""

from django.db.models import Max
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from connections.models import Status

from .models import FINISHED_STATUSES, SyncRun, SyncSettings


class SyncCollector:
    def collect(self):
        from django_q.brokers import get_broker

        depth = GaugeMetricFamily("syncfirm_queue_depth", "Tasks waiting in the broker.")
        depth.add_metric([], float(get_broker().queue_size() or 0))
        yield depth
        now = timezone.now()
        due = SyncSettings.objects.filter(
            import_done_at__isnull=False, client__connections__status=Status.ACTIVE
        ).distinct()
        every = dict(due.values_list("client_id", "schedule_minutes"))
        last = dict(
            SyncRun.objects.filter(client_id__in=list(every), status__in=FINISHED_STATUSES)
            .values_list("client_id")
            .annotate(latest=Max("finished_at"))
        )
        lags = {c: (now - last[c]).total_seconds() if last.get(c) else None for c in every}
        known = [lag for lag in lags.values() if lag is not None]
        lag = GaugeMetricFamily(
            "syncfirm_sync_lag_seconds",
            "Seconds since the last finished sync of the client furthest behind.",
        )
        lag.add_metric([], max(known, default=0.0))
        yield lag
        behind = GaugeMetricFamily(
            "syncfirm_clients_behind",
            "Clients whose last finished sync is older than twice their schedule (or none).",
        )
        behind.add_metric(
            [], float(sum(1 for c, s in lags.items() if s is None or s > 120 * every[c]))
        )
        yield behind
