"""One sync of a client at a time, across every worker process and machine.

A lease is a conditional UPDATE on the client's SyncSettings row: it works the same on
PostgreSQL and SQLite, survives no crash longer than `LEASE` (a killed worker's lease
simply runs out), and is renewed as the run moves through its stages.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from clients.models import Client

from .models import SyncRun, SyncSettings

LEASE = timedelta(minutes=10)
POLL_SECONDS = 0.5


@contextmanager
def client_lease(client: Client, run: SyncRun, wait_seconds: float) -> Iterator[bool]:
    """Hold the client's sync lease for `run`; yields False if it stayed taken."""
    settings = SyncSettings.for_client(client)
    deadline = time.monotonic() + wait_seconds
    while not _take(settings.pk, run.pk):
        if time.monotonic() >= deadline:
            yield False
            return
        time.sleep(POLL_SECONDS)
    _close_abandoned(client, run)
    try:
        yield True
    finally:
        SyncSettings.objects.filter(pk=settings.pk, lease_run=run.pk).update(
            lease_run=None, lease_until=None
        )


def _take(settings_pk: int, run_pk: int) -> bool:
    now = timezone.now()
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    taken = SyncSettings.objects.filter(free, pk=settings_pk).update(
        lease_run=run_pk, lease_until=now + LEASE
    )
    return bool(taken)


def renew(client: Client, run: SyncRun) -> None:
    SyncSettings.objects.filter(client=client, lease_run=run.pk).update(
        lease_until=timezone.now() + LEASE
    )


WAITING_STAGE = "Waiting to start"


def _close_abandoned(client: Client, run: SyncRun) -> None:
    """Runs that started but never finished, found when the lease was free: their worker
    died. Shown as failed, so the log says what happened."""
    from .alerts import raise_alert

    abandoned = (
        SyncRun.objects.filter(client=client, finished_at=None)
        .exclude(pk=run.pk)
        .exclude(stage=WAITING_STAGE)
    )
    for stale in abandoned:
        stale.status, stale.finished_at = "failed", timezone.now()
        stale.error = (
            f"Stopped without finishing at “{stale.stage}” (the worker was stopped or "
            "killed); this run picked up where it left off."
        )
        stale.save(update_fields=["status", "finished_at", "error"])
        raise_alert(stale, stale.error)
