"""A client's sync work, recorded first and run by whoever holds the client's lease.

A task never waits for a lease inside a worker (one client's stuck run would otherwise fill
every worker and stop all the other clients). It records what it wants — a request folded
into `SyncSettings.pending_work`, or a webhook delivery left QUEUED — and then tries the
lease once: free, it runs everything pending; taken, it returns at once. The holder hands
the pending work to a new task when it lets go (`leases._hand_off`); a dead holder's lease
lapses within 30 s and the every-minute dispatcher (`tasks.sync_due_clients`) picks the
work up. A delivery is marked processed only after the run that read its records ended.
"""

import dataclasses
import logging

from django.db import transaction
from django.utils import timezone

from clients.models import Client, User
from connections.adapters import webhook_changes
from connections.models import BOUND_STATUSES, DeliveryStatus, WebhookDelivery
from connections.providers import Kind, provider

from .coalesce import SyncRequest, books_request, crm_request, merge, merge_all, request_of
from .customers import run_under_lease
from .leases import client_lease
from .models import RunKind, SyncRun, SyncSettings

log = logging.getLogger(__name__)


def delivery_request(system: str, body: str) -> tuple[int, SyncRequest | None]:
    """How many events a delivery holds, and the sync they ask for (None: nothing to sync)."""
    changes = webhook_changes(system, body.encode())
    if provider(system).kind == Kind.CRM:
        return len(changes), crm_request(changes)
    return len(changes), books_request(changes)


def still_bound(delivery: WebhookDelivery) -> bool:
    """Whether the delivery's company is still its client's: one that moved to another
    client or was set aside since is not this client's any more (the new holder's pull
    reads the changes)."""
    connection = delivery.connection
    return (
        connection is not None
        and connection.status in BOUND_STATUSES
        and connection.external_id == delivery.account_id
    )


def request_sync(client: Client, request: SyncRequest) -> list[SyncRun]:
    """Record `request` for the client, then run what is pending if its lease is free."""
    with transaction.atomic():
        row = SyncSettings.objects.select_for_update().get(pk=SyncSettings.for_client(client).pk)
        row.pending_work = merge(list(row.pending_work), request)
        row.pending_at = row.pending_at or timezone.now()
        row.save(update_fields=["pending_work", "pending_at"])
    return drain(client)


def note_webhook(client: Client) -> list[SyncRun]:
    """A delivery of the client waits QUEUED: flag it, then run what is pending if free."""
    settings = SyncSettings.for_client(client)
    SyncSettings.objects.filter(pk=settings.pk, pending_at__isnull=True).update(
        pending_at=timezone.now()
    )
    return drain(client)


def drain(client: Client) -> list[SyncRun]:
    """Run the client's pending work if its lease is free; never waits for it."""
    with client_lease(client) as lease:
        if lease is None:
            return []  # the holder hands it on, or its lease lapses for the dispatcher
        runs = []
        for entry in _claim(client):
            request = request_of(entry)
            runs.append(run_under_lease(lease, client, **_run_options(client, request)))
            if lease.lost.is_set():
                break  # the new holder has taken the rest on
            _done(client, entry)
        return runs


def _run_options(client: Client, request: SyncRequest) -> dict:
    preview = None
    if request.kind == RunKind.IMPORT:
        preview = client.sync_runs.filter(kind=RunKind.IMPORT_PREVIEW).first()
    user = User.objects.filter(pk=request.user_id).first() if request.user_id else None
    return {
        "kind": request.kind,
        "full": request.full,
        "dry_run": request.dry_run,
        "crm_ids": request.crm_ids,
        "user": user,
        "approved_preview": preview,
    }


def _claim(client: Client) -> list[dict]:
    """Take on everything pending (under the lease): a dead holder's unfinished work first,
    then the folded requests, then the QUEUED webhook deliveries. The flag is cleared
    before the deliveries are read, so one that arrives later raises it again."""
    with transaction.atomic():
        row = SyncSettings.objects.select_for_update().get(client=client)
        entries = merge_all(list(row.claimed_work), row.pending_work)
        row.pending_work, row.pending_at = [], None
        queued = (
            WebhookDelivery.objects.select_related("connection")
            .filter(connection__client=client, status=DeliveryStatus.QUEUED)
            .order_by("pk")
        )
        for delivery in queued:
            request = _read(delivery)
            if request is not None:
                entries = merge(entries, dataclasses.replace(request, deliveries=[delivery.pk]))
        row.claimed_work = entries
        row.save(update_fields=["pending_work", "pending_at", "claimed_work"])
    return entries


def _read(delivery: WebhookDelivery) -> SyncRequest | None:
    """The request a queued delivery makes; one that asks for nothing is done already."""
    try:
        count, request = delivery_request(delivery.system, delivery.body)
    except ValueError as error:  # stored bodies were verified and parsed once; be safe
        log.warning("webhook %s could not be read: %s", delivery.pk, error)
        mark_delivery(delivery.pk, DeliveryStatus.FAILED, reason=f"Could not be read: {error}")
        return None
    if request is None or not still_bound(delivery):
        mark_delivery(delivery.pk, DeliveryStatus.PROCESSED, event_count=count)
        return None
    return request


def _done(client: Client, entry: dict) -> None:
    """The entry's run ended: its deliveries are processed, and it is no longer owed."""
    for pk in entry.get("deliveries", []):
        mark_delivery(pk, DeliveryStatus.PROCESSED)
    with transaction.atomic():
        row = SyncSettings.objects.select_for_update().get(client=client)
        row.claimed_work = [e for e in row.claimed_work if e["key"] != entry["key"]]
        row.save(update_fields=["claimed_work"])


def mark_delivery(pk: int, status: str, **fields) -> None:
    """Settle a delivery that is still QUEUED (one already settled is left as it is)."""
    WebhookDelivery.objects.filter(pk=pk, status=DeliveryStatus.QUEUED).update(
        status=status, processed_at=timezone.now(), **fields
    )
