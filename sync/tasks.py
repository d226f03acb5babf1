"""The sync engine's background work (django-q2). Tasks take ids and are idempotent."""

import logging
from datetime import datetime, timedelta

from django.db.models import Max, Q
from django.utils import timezone
from django_q.tasks import async_task

from clients.models import Client
from connections.models import BOUND_STATUSES, DeliveryStatus, Status, WebhookDelivery

from .coalesce import SyncRequest
from .leases import free
from .models import RunKind, SyncRun, SyncSettings
from .pending import (
    delivery_request,
    drain,
    mark_delivery,
    note_webhook,
    request_sync,
    still_bound,
)

log = logging.getLogger(__name__)

STRANDED_DELIVERY = timedelta(minutes=1)


def process_webhook(delivery_id: int) -> int:
    """Sync what a queued delivery names; returns how many events it held.

    Never waits for the client's lease: the delivery stays QUEUED and the client is flagged
    (`sync.pending`); whichever run reads it marks it processed once that run has ended, so
    a worker killed on the way loses nothing and a busy client holds up no other client.
    """
    delivery = (
        WebhookDelivery.objects.select_related("connection__client")
        .filter(pk=delivery_id, status=DeliveryStatus.QUEUED)
        .first()
    )
    if delivery is None:
        return 0
    try:
        count, request = delivery_request(delivery.system, delivery.body)
    except ValueError as error:  # the receiver parsed it once; never leave it looping
        mark_delivery(delivery_id, DeliveryStatus.FAILED, reason=f"Could not be read: {error}")
        return 0
    WebhookDelivery.objects.filter(pk=delivery_id).update(event_count=count)
    log.info("webhook %s: %s %s event(s)", delivery.pk, count, delivery.system)
    if request is None or not still_bound(delivery):
        mark_delivery(delivery_id, DeliveryStatus.PROCESSED)
        return count
    client = delivery.connection.client
    if note_webhook(client):
        record_health(client)  # a webhook arriving again ends a missed-webhooks incident
    return count


def sync_client(
    client_id: int,
    kind: str = RunKind.SCHEDULED,
    full: bool = False,
    dry_run: bool = False,
    crm_ids: dict[str, list[str]] | None = None,
    user_id: int | None = None,
) -> str:
    """Ask for a sync of the client: it runs now if the client's lease is free, else it is
    folded into the client's pending work and this worker moves on."""
    client = Client.objects.get(pk=client_id)
    request = SyncRequest(kind, full=full, dry_run=dry_run, crm_ids=crm_ids, user_id=user_id)
    runs = request_sync(client, request)
    if not runs:
        return "Queued behind the client's current sync"
    record_health(client)
    return "; ".join(f"{run.get_status_display()}: {run.counts}" for run in runs)


def drain_client(client_id: int) -> int:
    """Run the client's pending sync work if its lease is free; how many runs it made."""
    client = Client.objects.get(pk=client_id)
    runs = drain(client)
    if runs:
        record_health(client)
    return len(runs)


def record_health(client: Client) -> None:
    """The client's health recorded after its runs, so the dashboard says a failed sync's
    alert as soon as the client's page does, not at the next scheduled check. Its failure
    is logged, never the run's."""
    from .health_record import record

    try:
        record(client)
    except Exception:
        log.exception("integration health of client %s not recorded", client.pk)


def sync_due_clients() -> int:
    """Scheduled every minute: queue the batched pull of each fully connected client whose
    own interval (SyncSettings.schedule_minutes, default 15) has passed, and a drain of each
    client whose pending work nobody is doing (`stranded_clients`)."""
    now = timezone.now()
    connected = Client.objects.filter(connections__status=Status.ACTIVE).distinct()
    last = dict(
        SyncRun.objects.filter(kind=RunKind.SCHEDULED)
        .values_list("client_id")
        .annotate(latest=Max("started_at"))
    )
    imported = SyncSettings.objects.filter(import_done_at__isnull=False)
    intervals = dict(imported.values_list("client_id", "schedule_minutes"))
    queued = 0
    for client in connected:
        if client.pk not in intervals:
            continue  # the historical import has not been approved yet
        if client.connections.filter(status=Status.ACTIVE).count() < 2:
            continue
        every = timedelta(minutes=intervals[client.pk])
        if last.get(client.pk) is None or now - last[client.pk] >= every:
            async_task("sync.tasks.sync_client", client.pk, RunKind.SCHEDULED)
            queued += 1
    for client_id in stranded_clients(now):
        async_task("sync.tasks.drain_client", client_id)
        queued += 1
    return queued


def stranded_clients(now: datetime) -> list[int]:
    """Clients with work nobody is doing: pending or half-done work under a free lease (its
    holder died, or its task was lost), or a delivery left queued for over a minute."""
    owed = Q(pending_at__isnull=False) | ~Q(claimed_work=[])
    stranded = set(SyncSettings.objects.filter(free(now)).filter(owed).values_list("client_id"))
    queued = WebhookDelivery.objects.filter(
        status=DeliveryStatus.QUEUED,
        connection__isnull=False,
        received_at__lt=now - STRANDED_DELIVERY,
    )
    stranded |= set(queued.values_list("connection__client_id"))
    return sorted(pk for (pk,) in stranded)


def check_health() -> int:
    """Scheduled every 5 minutes: each connected client's integration health recorded (its
    incidents opened or resolved, the staff told once), after the daily probe of any
    connection nobody called for a day. One client's failure stops no other."""
    from connections.app_checks import check_apps

    from .health_record import check_arrivals, probe, record

    try:
        check_apps()  # the app's own subscriptions, once for every client on that CRM
    except Exception:
        log.exception("the CRM app's subscriptions were not checked")
    checked = 0
    for client in Client.objects.filter(connections__status__in=BOUND_STATUSES).distinct():
        try:
            probe(client)
            check_arrivals(client)
            record(client)
            checked += 1
        except Exception:
            log.exception("integration health of client %s not recorded", client.pk)
    return checked
