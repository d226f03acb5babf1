"""One sync of a client at a time, across every worker process and machine.

A lease is a conditional UPDATE on the client's SyncSettings row (the same on PostgreSQL and
SQLite). It is short (`LEASE`, 30 s) and kept alive by a heartbeat: a daemon thread of the
holding process, with its own database connection, renews it every `HEARTBEAT_SECONDS`
whatever the run is doing — a single provider call that takes minutes (a Retry-After, a
slow page) does not let a live lease lapse, and a killed worker's lease lapses within 30 s
instead of blocking its client for minutes. Why a thread and not renewals at safe points:
docs/decisions/0014-heartbeat-leases.md.

Nobody waits for a lease inside a worker: see `sync.pending`, which folds what the waiting
task wanted into the client's pending work; the holder hands it on when it lets go.
"""

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.db import DatabaseError, connections, transaction
from django.db.models import Q
from django.utils import timezone

from clients.models import Client

from .models import SyncRun, SyncSettings

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=30)
HEARTBEAT_SECONDS = 10.0  # three beats may fail before a live lease lapses
POLL_SECONDS = 0.5
WAITING_STAGE = "Waiting to start"


class LeaseLost(Exception):
    """Another run took the client's lease: this process stopped beating for longer than
    the lease (suspended, or its database unreachable), so it must not write on."""


class Lease:
    """A held lease: who holds it, and the heartbeat keeping it."""

    def __init__(self, client: Client, settings_pk: int, holder: str):
        self.client, self.settings_pk, self.holder = client, settings_pk, holder
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    def attach(self, run: SyncRun) -> None:
        """Name the run working under this lease (shown, and kept by the takeover)."""
        self._mine().update(lease_run=run.pk)

    def check(self) -> None:
        """At a safe point: renew here too (the heartbeat may not run: see `start`), and
        stop if the lease was lost."""
        if not self.renew():
            self.lost.set()
        if self.lost.is_set():
            raise LeaseLost(
                f"This run lost its lease: its process did not renew it for over "
                f"{LEASE.seconds} s and another run took the client over."
            )

    def renew(self) -> bool:
        return bool(self._mine().update(lease_until=timezone.now() + LEASE))

    def _mine(self):
        return SyncSettings.objects.filter(pk=self.settings_pk, lease_holder=self.holder)

    def start(self) -> None:
        # A lease taken inside an open transaction is not visible to other processes until
        # it commits, and a second connection would only wait on our own row lock: there
        # the holding thread renews at its safe points (`check`) instead.
        if transaction.get_connection().in_atomic_block:
            return
        self._beat = threading.Thread(
            target=self._heartbeat, name=f"lease-heartbeat-{self.client.pk}", daemon=True
        )
        self._beat.start()

    def stop(self) -> None:
        self._stop.set()
        if self._beat is not None:
            self._beat.join(timeout=HEARTBEAT_SECONDS)

    def _heartbeat(self) -> None:
        try:
            while not self._stop.wait(HEARTBEAT_SECONDS):
                try:
                    if not self.renew():
                        log.warning("sync lease of client %s was lost", self.client.pk)
                        self.lost.set()
                        return
                except DatabaseError:  # a missed beat; the next may get through
                    log.warning("sync lease heartbeat of client %s failed", self.client.pk)
        finally:
            connections.close_all()  # this thread's own connections


def holder_name() -> str:
    """Which process holds a lease, for a person reading the row."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


@contextmanager
def client_lease(client: Client, wait_seconds: float = 0) -> Iterator[Lease | None]:
    """Hold the client's sync lease; yields None if it stayed taken for `wait_seconds`.

    Workers pass 0 (never wait: `sync.pending`); only a person's command waits. On release,
    work that arrived meanwhile is handed to a new task.
    """
    settings = SyncSettings.for_client(client)
    holder = holder_name()
    deadline = time.monotonic() + wait_seconds
    while not _take(settings.pk, holder):
        if time.monotonic() >= deadline:
            yield None
            return
        time.sleep(POLL_SECONDS)
    lease = Lease(client, settings.pk, holder)
    _close_abandoned(client)
    lease.start()
    try:
        yield lease
    finally:
        lease.stop()
        SyncSettings.objects.filter(pk=settings.pk, lease_holder=holder).update(
            lease_run=None, lease_until=None, lease_holder=""
        )
        _hand_off(settings.pk, client.pk)


def _take(settings_pk: int, holder: str) -> bool:
    now = timezone.now()
    taken = SyncSettings.objects.filter(free(now), pk=settings_pk).update(
        lease_holder=holder, lease_run=None, lease_until=now + LEASE
    )
    return bool(taken)


def free(now: datetime) -> Q:
    """Lease rows nobody holds: never taken, released, or lapsed (a dead holder)."""
    return Q(lease_until__isnull=True) | Q(lease_until__lt=now)


def _hand_off(settings_pk: int, client_pk: int) -> None:
    """Work folded in while we held the lease gets a task of its own (at the back of the
    queue, so other clients' tasks go first). Checked after releasing: a request that found
    the lease taken had recorded its work before trying, so nothing falls between."""
    waiting = SyncSettings.objects.filter(pk=settings_pk).filter(pending_at__isnull=False)
    if waiting.exists():
        from django_q.tasks import async_task

        transaction.on_commit(lambda: async_task("sync.tasks.drain_client", client_pk))


def _close_abandoned(client: Client) -> None:
    """Runs that started but never finished, found when the lease was free: their worker
    died (runs are only created under the lease). Shown as failed, so the log says what
    happened."""
    from .alerts import raise_alert

    for stale in SyncRun.objects.filter(client=client, finished_at=None):
        stale.status, stale.finished_at = "failed", timezone.now()
        stale.error = (
            f"Stopped without finishing at “{stale.stage}” (the worker was stopped or "
            "killed); this run picked up where it left off."
        )
        stale.save(update_fields=["status", "finished_at", "error"])
        raise_alert(stale, stale.error)
