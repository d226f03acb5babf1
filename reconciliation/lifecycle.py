"""A reconciliation's life, told truthfully: its heartbeat while a worker runs it, what failed
in words an accountant can act on, the end of a run whose worker died (noticed by the
hourly tick and by any page or API call that reads it), the last good run of its month, and
starting it again."""

import logging
import threading
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import DatabaseError, connections, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django_q.tasks import async_task

from clients.actions import audit
from connections import retries
from connections.refresh import ConnectionUnusable
from connections.tokens import OAuthError
from sync.customers import SyncUnavailable

from .models import Reconciliation, ReconStatus
from .periods import PeriodRefused

log = logging.getLogger(__name__)

FINISHED = (ReconStatus.DONE, ReconStatus.PARTIAL)
BEAT_EVERY = 30  # seconds between heartbeats while a worker runs it, even inside one long read
DEAD_AFTER = timedelta(minutes=5)  # ten missed heartbeats: the worker is gone
QUEUED_FOR = timedelta(minutes=30)  # a queue can be busy; this long unpicked, it is not coming
ABANDONED_AFTER = timedelta(hours=2)  # beating but never ending: a worker stuck for good
QUEUED = "Queued"

# The stages a run goes through, as a person reads them ("stopped at …").
CHECKING = "Checking the month"
READING_BOOKS = "Reading the books (invoices, credit memos)"
READING_CRM = "Reading the CRM"
COMPARING = "Comparing both systems"
SYSTEM_OF_STAGE = {READING_BOOKS: "the books", READING_CRM: "the CRM"}


# -- what failed, in words ---------------------------------------------------------------
def failure_words(error: BaseException, stage: str, recon_id: int | None = None) -> str:
    """What an accountant reads about a run that failed: what happened and what to do, never
    an exception's class or a stack. The technical cause is logged and kept apart."""
    if isinstance(error, retries.ProviderError) and isinstance(
        error.__cause__, (retries.Transient, retries.RateLimited)
    ):
        error = error.__cause__  # retried until it gave up: say what kept happening
    system = SYSTEM_OF_STAGE.get(stage, "one of the systems")
    system = system[0].upper() + system[1:]
    during = f"while {stage[0].lower()}{stage[1:]}" if stage else "before it began"
    if isinstance(error, (SyncUnavailable, PeriodRefused)):
        return str(error)  # already written for a person ("… has no connected books; …")
    if isinstance(error, ConnectionUnusable):
        said = str(error).strip().rstrip(".")
        return (
            f"{system} cannot be read: {said}. It needs connecting again, from the client's "
            "page or by the contractor's link."
        )
    if isinstance(error, OAuthError):
        return (
            f"{system} did not renew syncfirm's access {during}. Start it again in a few "
            "minutes; if it fails the same way, reconnect it on the client's page."
        )
    if isinstance(error, retries.RateLimited):
        return (
            f"{system} asked syncfirm to slow down (too many requests) {during}. "
            "This passes by itself: start it again in a few minutes."
        )
    if isinstance(error, retries.Transient):
        return (
            f"{system} did not answer {during} (down for a moment, or the "
            "connection dropped). This is usually brief: start it again in a few minutes."
        )
    if isinstance(error, retries.ProviderError):
        # A ProviderError's message is written to be shown (see connections.retries).
        said = str(error).strip()
        said += "" if said.endswith((".", "!", "?")) else "."
        return (
            f"{system} refused syncfirm's request {during}: {said} Check the "
            "connection on the client's page, then start it again."
        )
    run = f" (run {recon_id})" if recon_id else ""
    return (
        f"Something went wrong in syncfirm {during}; it has been logged{run}. Start it again; "
        "if it fails the same way, tell support."
    )


def technical(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:2000]


# -- the heartbeat -----------------------------------------------------------------------
def beat(recon: Reconciliation, stage: str | None = None) -> bool:
    """A sign of life (and the stage it reached), only while the run is still running: a run
    already ended as dead is not brought back by a late beat. False when it was ended."""
    now = timezone.now()
    fields = {"heartbeat_at": now} | ({"stage": stage} if stage else {})
    alive = Reconciliation.objects.filter(pk=recon.pk, status=ReconStatus.RUNNING).update(**fields)
    recon.heartbeat_at = now
    if stage:
        recon.stage = stage
    return bool(alive)


class Heartbeat:
    """Beats every BEAT_EVERY seconds from a thread while the worker is alive, so one long
    read (a company's every invoice) never looks like a dead worker; a worker that dies
    takes its thread with it and the beats stop (as the sync leases do: decision 0014)."""

    def __init__(self, recon: Reconciliation, every: float = BEAT_EVERY):
        self.recon_id, self.every = recon.pk, every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> "Heartbeat":
        # A run inside an open transaction is invisible to other connections until it
        # commits: a thread's beat would find nothing (its stage beats still count).
        if not transaction.get_connection().in_atomic_block:
            self._thread = threading.Thread(
                target=self._run, name=f"recon-heartbeat-{self.recon_id}", daemon=True
            )
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.every)

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.every):
                try:
                    alive = Reconciliation.objects.filter(
                        pk=self.recon_id, status=ReconStatus.RUNNING
                    ).update(heartbeat_at=timezone.now())
                except DatabaseError:  # a missed beat is a late one, not a failed run
                    log.warning("heartbeat of reconciliation %s missed", self.recon_id)
                    continue
                if not alive:
                    return  # ended (as dead, by a reader): nothing left to keep alive
        finally:
            connections.close_all()  # this thread's own connections


# -- ending the runs a dead worker left --------------------------------------------------
def dead_words(recon: Reconciliation, now: datetime) -> str | None:
    """Why a run still marked running is over, or None while it may still be alive."""
    if recon.status != ReconStatus.RUNNING:
        return None
    if recon.stage == QUEUED:
        if recon.heartbeat_at < now - QUEUED_FOR:
            minutes = int(QUEUED_FOR.total_seconds() // 60)
            return (
                f"No worker picked it up within {minutes} minutes, so nothing was compared; "
                "start it again (if this repeats, the background tasks are not running)."
            )
        return None
    stage = recon.stage or "its start"
    if recon.heartbeat_at < now - DEAD_AFTER:
        return f"The worker running it stopped at “{stage}”; start it again."
    if recon.started_at < now - ABANDONED_AFTER:
        hours = f"{ABANDONED_AFTER.total_seconds() / 3600:g}"
        return (
            f"It had not finished {hours} hours after it started (stuck at “{stage}”), so it "
            "was stopped; start it again."
        )
    return None


def end_dead(recons: Iterable[Reconciliation], now: datetime | None = None) -> int:
    """End, as failed and saying why, the runs among these (already read) that a dead worker
    left running; the instances are updated in place, so the page that read them shows the
    truth. No query unless one is dead."""
    now = now or timezone.now()
    ended = 0
    for recon in recons:
        words = dead_words(recon, now)
        if words is None:
            continue
        fields = {
            "status": ReconStatus.FAILED,
            "finished_at": now,
            "error": words,
            "error_detail": f"no heartbeat since {recon.heartbeat_at.isoformat()}",
        }
        # Only if it is still running as read: a beat or an end in between wins.
        if Reconciliation.objects.filter(
            pk=recon.pk, status=ReconStatus.RUNNING, heartbeat_at=recon.heartbeat_at
        ).update(**fields):
            log.warning("reconciliation %s ended: %s", recon.pk, fields["error_detail"])
            ended += 1
            _forget_dashboard(recon)
        else:
            recon.refresh_from_db()
            continue
        for name, value in fields.items():
            setattr(recon, name, value)
    return ended


def end_dead_runs(recons=None, now: datetime | None = None) -> int:
    """The runs a dead worker left (of a queryset, or all), found by their heartbeat."""
    now = now or timezone.now()
    recons = Reconciliation.objects.all() if recons is None else recons
    suspects = recons.filter(status=ReconStatus.RUNNING).filter(
        Q(heartbeat_at__lt=now - DEAD_AFTER) | Q(started_at__lt=now - ABANDONED_AFTER)
    )
    return end_dead(list(suspects), now)


def _forget_dashboard(recon: Reconciliation) -> None:
    from clients.models import Client
    from clients.signals import figures_changed

    firm_id = Client.objects.filter(pk=recon.client_id).values_list("firm_id", flat=True).first()
    if firm_id is not None:
        figures_changed.send(sender=Reconciliation, firm_id=firm_id)


# -- the last good run, and starting again -----------------------------------------------
def last_good_run(recon: Reconciliation) -> Reconciliation | None:
    """For a run that did not finish: the latest that did, of its month, else of its client
    (the accountant's last trustworthy view). None for a finished run: it is its own."""
    if recon.finished:
        return None
    good = Reconciliation.objects.filter(client_id=recon.client_id, status__in=FINISHED).exclude(
        pk=recon.pk
    )
    return (
        good.filter(period=recon.period).order_by("-started_at").first()
        or good.order_by("-period", "-started_at").first()
    )


def attach_last_good(recons: list[Reconciliation]) -> None:
    """Set `last_good` (as last_good_run gives it) on each run, in one query for the list."""
    unfinished = [r for r in recons if not r.finished]
    for recon in recons:
        recon.last_good = None
    if not unfinished:
        return
    good = list(
        Reconciliation.objects.filter(
            client_id__in={r.client_id for r in unfinished}, status__in=FINISHED
        ).order_by("-period", "-started_at")
    )
    for recon in unfinished:
        mine = [g for g in good if g.client_id == recon.client_id and g.pk != recon.pk]
        same_month = [g for g in mine if g.period == recon.period]
        recon.last_good = max(same_month, key=lambda g: g.started_at, default=None) or (
            mine[0] if mine else None
        )


def report_url(recon: Reconciliation, slug: str) -> str:
    return reverse("reconciliation_report", args=[slug, recon.pk])


class RetryRefused(Exception):
    """Said to the person who asked."""


def can_retry(recon: Reconciliation) -> bool:
    return recon.status in (ReconStatus.FAILED, ReconStatus.PARTIAL)


def do_start(user, client, period, action: str = "reconciliation.started", before=None):
    """Queue a run of `client`'s month, visible at once ("Queued": if no worker picks it up,
    it says so instead of never appearing), run by the task every reconciliation uses;
    audited. A month already running is not started twice (a double click, a second
    accountant, the API): RetryRefused says so."""
    from clients.models import Client

    with transaction.atomic():
        # The client's row taken first, so two presses at once cannot both find none running.
        Client.objects.select_for_update().filter(pk=client.pk).values_list("pk").first()
        running = Reconciliation.objects.filter(
            client_id=client.pk, period=period, status=ReconStatus.RUNNING
        )
        end_dead(list(running))
        if running.exists():
            raise RetryRefused(f"{period:%B %Y} is being reconciled already; wait for it.")
        recon = Reconciliation.objects.create(
            client=client, period=period, started_by=user, stage=QUEUED
        )
        audit(client.firm, user, action, client, before,
              {"reconciliation": recon.pk, "period": str(period)})  # fmt: skip
    async_task("reconciliation.tasks.reconcile_queued", recon.pk)
    recon.refresh_from_db()
    return recon


def do_retry(user, recon: Reconciliation) -> Reconciliation:
    """Start the month of a failed or partial run again, as a new run (the failed one stays,
    with its reason)."""
    if not can_retry(recon):
        raise RetryRefused("Only a run that failed, or could not compare everything, is retried.")
    before = {"reconciliation": recon.pk, "status": recon.status, "error": recon.error}
    return do_start(user, recon.client, recon.period, "reconciliation.retried", before)
