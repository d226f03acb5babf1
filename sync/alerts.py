"""Alerts: a failure a person must see. Shown on the client's sync page until resolved, and
emailed to the client's staff, once per open problem rather than once per failed run."""

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse

from clients.names import header_safe
from connections.actions import alert_recipients

from .models import Alert, SyncRun


def raise_alert(run: SyncRun, message: str, source: str = "customer sync") -> Alert:
    client = run.client
    already_open = Alert.objects.filter(client=client, source=source, resolved_at=None).exists()
    alert = Alert.objects.create(client=client, source=source, message=message, run=run)
    if not already_open:
        page = settings.PUBLIC_BASE_URL.rstrip("/") + reverse("client_sync", args=[client.slug])
        context = {"client": client, "alert": alert, "run": run, "page": page}
        send_mail(
            subject=header_safe(f"{client.name}: {source} needs attention"),
            message=render_to_string("connections/email/sync_alert.txt", context),
            from_email=None,
            recipient_list=alert_recipients(client),
        )
    return alert


def resolve_alerts(run: SyncRun, source: str = "customer sync") -> None:
    """A run that went through clears the alerts of the runs before it."""
    Alert.objects.filter(client=run.client, source=source, resolved_at=None).update(
        resolved_at=run.finished_at
    )
