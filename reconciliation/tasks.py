"""The monthly reconciliation (django-q2): each client, after its own month end.

Every tick (hourly) first ends the runs a dead worker left "running", then takes each client
on its own: one client's failure — a run that fails, a report that cannot be sent, anything
raised — is logged and recorded, and the other clients are still reconciled and their reports
sent. A failed month is tried again on the next ticks, MONTHLY_ATTEMPTS times in all; after
the last, the client's staff get an alert (shown on its sync page, emailed once)."""

import logging
from datetime import date

from django.conf import settings
from django.core.mail import send_mail
from django.db import close_old_connections
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from clients.models import Client
from clients.names import header_safe
from connections.actions import alert_recipients
from connections.models import Status
from sync.models import Alert, SyncSettings

from . import lifecycle
from .models import Reconciliation, ReconStatus
from .report import send_report
from .run import local_today, reconcile

log = logging.getLogger(__name__)

MONTHLY_ATTEMPTS = 3  # runs of a month, and sends of its report, before a person is asked
ALERT_SOURCE = "monthly reconciliation"
FINISHED = lifecycle.FINISHED


def previous_month(today: date) -> date:
    first = today.replace(day=1)
    return date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)


def _next(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def end_abandoned_runs(now=None) -> int:
    """Runs still "running" whose worker died (no heartbeat for minutes, or no end hours
    after they started) would otherwise show as running forever and block the month: marked
    failed, saying where they stopped. Pages and the API do the same when they read one."""
    return lifecycle.end_dead_runs(now=now)


def reconcile_due_clients() -> int:
    """Scheduled hourly: every fully connected client whose last month (in its timezone) has
    ended is reconciled and its report emailed, once; returns how many runs it started."""
    end_abandoned_runs()
    started = 0
    for client in Client.objects.filter(connections__status=Status.ACTIVE).distinct():
        try:
            started += _monthly(client)
        except Exception as error:  # one client never stops the others
            log.exception("monthly reconciliation of client %s failed", client.pk)
            close_old_connections()  # a broken connection is not handed to the next client
            _alert_quietly(client, f"The monthly reconciliation stopped: {error}")
    return started


def _monthly(client: Client) -> int:
    if client.connections.filter(status=Status.ACTIVE).count() < 2:
        return 0
    month = previous_month(local_today(client))
    imported = (
        SyncSettings.objects.filter(client=client).values_list("import_done_at", flat=True).first()
    )
    if imported is None or imported.astimezone(client.tzinfo).date() >= _next(month):
        return 0  # the month ended before syncfirm knew the client: nothing to prove
    runs = list(Reconciliation.objects.filter(client=client, period=month))
    if any(r.status == ReconStatus.RUNNING for r in runs):
        return 0
    finished = [r for r in runs if r.status in FINISHED]
    if finished:
        if not any(r.report_sent_at for r in finished):
            _send(client, max(finished, key=lambda r: r.started_at))  # a report that failed
        return 0
    failed = sum(r.status == ReconStatus.FAILED for r in runs)
    if failed >= MONTHLY_ATTEMPTS:
        return 0  # the staff were alerted at the last attempt
    recon = reconcile(client, month)
    if recon.status == ReconStatus.FAILED:
        log.warning("monthly reconciliation %s of client %s failed", recon.pk, client.pk)
        if failed + 1 >= MONTHLY_ATTEMPTS:
            _alert(
                client,
                f"{month:%B %Y} could not be reconciled after {MONTHLY_ATTEMPTS} attempts. "
                f"The last attempt: {recon.error}",
                recon,
            )
    else:
        Alert.objects.filter(client=client, source=ALERT_SOURCE, resolved_at=None).update(
            resolved_at=timezone.now()
        )
        _send(client, recon)
    return 1


def _send(client: Client, recon: Reconciliation) -> None:
    if recon.report_attempts >= MONTHLY_ATTEMPTS:
        return
    try:
        send_report(recon)
    except Exception as error:
        log.exception("monthly report %s of client %s not sent", recon.pk, client.pk)
        if recon.report_attempts + 1 >= MONTHLY_ATTEMPTS:
            _alert(
                client,
                f"The report for {recon.period:%B %Y} could not be emailed after "
                f"{MONTHLY_ATTEMPTS} attempts: {error}",
            )


def _alert(client: Client, message: str, recon: Reconciliation | None = None) -> Alert:
    """Shown on the client's sync page until a monthly run goes through; emailed once, with
    the failed run's report and the last run that went through."""
    already_open = Alert.objects.filter(
        client=client, source=ALERT_SOURCE, resolved_at=None
    ).exists()
    alert = Alert.objects.create(client=client, source=ALERT_SOURCE, message=message)
    if not already_open:
        base = settings.PUBLIC_BASE_URL.rstrip("/")
        good = lifecycle.last_good_run(recon) if recon is not None else None
        send_mail(
            subject=header_safe(f"{client.name}: the {ALERT_SOURCE} needs attention"),
            message=render_to_string(
                "reconciliation/email/monthly_alert.txt",
                {
                    "client": client,
                    "alert": alert,
                    "page": base + reverse("client_detail", args=[client.slug]),
                    "recon": recon,
                    "failed_page": recon and base + lifecycle.report_url(recon, client.slug),
                    "good": good,
                    "good_page": good and base + lifecycle.report_url(good, client.slug),
                },
            ),
            from_email=None,
            recipient_list=alert_recipients(client),
        )
    return alert


def _alert_quietly(client: Client, message: str) -> None:
    try:
        _alert(client, message)
    except Exception:
        log.exception("alert for client %s not recorded", client.pk)


def reconcile_now(client_id: int, period: str, user_id: int | None = None) -> str:
    from clients.models import User

    client = Client.objects.get(pk=client_id)
    user = User.objects.filter(pk=user_id).first() if user_id else None
    recon = reconcile(client, date.fromisoformat(period), user=user)
    return f"{recon.get_status_display()}: {recon.counts}"


def reconcile_queued(recon_id: int) -> str:
    """A reconciliation queued by the API or a retry: the row exists, the work runs here. It
    is claimed first, so one ended meanwhile (no worker came in time) is not run."""
    claimed = Reconciliation.objects.filter(
        pk=recon_id, status=ReconStatus.RUNNING, stage=lifecycle.QUEUED
    ).update(stage=lifecycle.CHECKING, heartbeat_at=timezone.now())
    if not claimed:
        return "Not run: it was no longer waiting."
    recon = Reconciliation.objects.select_related("client").get(pk=recon_id)
    recon = reconcile(recon.client, recon.period, recon=recon)
    return f"{recon.get_status_display()}: {recon.counts}"
