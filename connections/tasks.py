"""Background work for connections (django-q2). Tasks take ids and are idempotent."""

import logging
from datetime import timedelta

from django.db.models import Max
from django.utils import timezone
from django_q.tasks import async_task

from clients.models import Client, User

from .hubspot import webhooks as hubspot
from .models import BOUND_STATUSES, DeliveryStatus, Status, WebhookDelivery
from .providers import System
from .quickbooks import webhooks as quickbooks
from .refresh import refresh_expiring_tokens
from .sync.customers import run_customer_sync
from .sync.models import RunKind, SyncRun, SyncSettings

log = logging.getLogger(__name__)

PARSERS = {System.QUICKBOOKS: quickbooks.parse_events, System.HUBSPOT: hubspot.parse_events}
# HubSpot subscription type prefix → the CRM object type sync reads.
CRM_OBJECT_TYPES = {"company": "companies", "contact": "contacts", "deal": "deals"}
# QuickBooks entities whose change a sync run picks up (customers, and money for deals).
ACCOUNTING_ENTITIES = {"Customer", "Invoice", "Payment", "CreditMemo"}


def process_webhook(delivery_id: int) -> int:
    """Claim a queued delivery and sync what it names; returns how many events it held.

    The claim is a conditional update, so two workers never process the same delivery. A
    worker killed after the claim loses nothing: the batched pull reads the same changes.
    """
    claimed = WebhookDelivery.objects.filter(pk=delivery_id, status=DeliveryStatus.QUEUED).update(
        status=DeliveryStatus.PROCESSED, processed_at=timezone.now()
    )
    if not claimed:
        return 0
    delivery = WebhookDelivery.objects.select_related("connection__client").get(pk=delivery_id)
    events = PARSERS[delivery.system](delivery.body.encode())
    WebhookDelivery.objects.filter(pk=delivery_id).update(event_count=len(events))
    log.info("webhook %s: %s %s event(s)", delivery.pk, len(events), delivery.system)
    connection = delivery.connection
    if (
        connection is None
        or connection.status not in BOUND_STATUSES
        or connection.external_id != delivery.account_id
    ):
        # Its company moved to another client or was set aside since the delivery was stored:
        # the events are not this client's any more (the new holder's pull reads the changes).
        return len(events)
    client = connection.client
    if delivery.system == System.HUBSPOT:
        crm_ids: dict[str, list[str]] = {}
        for event in events:
            crm_type = CRM_OBJECT_TYPES.get(event.subscription_type.split(".")[0])
            if crm_type and not event.subscription_type.endswith(".deletion"):
                crm_ids.setdefault(crm_type, []).append(event.object_id)
        if crm_ids:
            run_customer_sync(client, kind=RunKind.WEBHOOK, crm_ids=crm_ids)
    elif any(event.entity in ACCOUNTING_ENTITIES for event in events):
        # QuickBooks names the object; the change-data pull reads it with the others.
        run_customer_sync(client, kind=RunKind.WEBHOOK)
    return len(events)


def sync_client(
    client_id: int,
    kind: str = RunKind.SCHEDULED,
    full: bool = False,
    dry_run: bool = False,
    crm_ids: dict[str, list[str]] | None = None,
    user_id: int | None = None,
) -> str:
    client = Client.objects.get(pk=client_id)
    preview = None
    if kind == RunKind.IMPORT:
        preview = client.sync_runs.filter(kind=RunKind.IMPORT_PREVIEW).first()
    run = run_customer_sync(
        client,
        kind=kind,
        full=full,
        dry_run=dry_run,
        crm_ids=crm_ids,
        user=User.objects.filter(pk=user_id).first() if user_id else None,
        approved_preview=preview,
    )
    return f"{run.get_status_display()}: {run.counts}"


def sync_due_clients() -> int:
    """Scheduled every minute: queue the batched pull of each fully connected client whose
    own interval (SyncSettings.schedule_minutes, default 15) has passed."""
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
            async_task("connections.tasks.sync_client", client.pk, RunKind.SCHEDULED)
            queued += 1
    return queued


def refresh_tokens() -> int:
    """Scheduled every 10 minutes (see the migration that creates the schedule)."""
    return refresh_expiring_tokens()
