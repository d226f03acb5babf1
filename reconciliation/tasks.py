"""The monthly reconciliation (django-q2): each client, after its own month end."""

from datetime import date

from django.utils import timezone

from clients.models import Client
from connections.models import Status
from connections.sync.models import SyncSettings

from .models import Reconciliation
from .report import send_report
from .run import reconcile


def previous_month(today: date) -> date:
    first = today.replace(day=1)
    return date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)


def _next(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def reconcile_due_clients() -> int:
    """Scheduled hourly: every fully connected client whose last month (in its timezone) has
    ended and has no reconciliation yet is reconciled and its report emailed."""
    done = 0
    for client in Client.objects.filter(connections__status=Status.ACTIVE).distinct():
        if client.connections.filter(status=Status.ACTIVE).count() < 2:
            continue
        month = previous_month(timezone.now().astimezone(client.tzinfo).date())
        if Reconciliation.objects.filter(client=client, period=month).exists():
            continue
        imported = (
            SyncSettings.objects.filter(client=client)
            .values_list("import_done_at", flat=True)
            .first()
        )
        if imported is None or imported.astimezone(client.tzinfo).date() >= _next(month):
            continue  # the month ended before syncfirm knew the client: nothing to prove
        recon = reconcile(client, month)
        if recon.status != "failed":
            send_report(recon)
        done += 1
    return done


def reconcile_now(client_id: int, period: str, user_id: int | None = None) -> str:
    from clients.models import User

    client = Client.objects.get(pk=client_id)
    user = User.objects.filter(pk=user_id).first() if user_id else None
    recon = reconcile(client, date.fromisoformat(period), user=user)
    return f"{recon.get_status_display()}: {recon.counts}"


def reconcile_queued(recon_id: int) -> str:
    """A reconciliation started through the API: the row exists, the work runs here."""
    recon = Reconciliation.objects.select_related("client").get(pk=recon_id)
    recon = reconcile(recon.client, recon.period, recon=recon)
    return f"{recon.get_status_display()}: {recon.counts}"
