"""A client's customer sync at a glance, for the client page."""

from clients.models import Client

from .models import ConflictStatus


def sync_summary(client: Client) -> dict:
    return {
        "last": client.sync_runs.order_by("-started_at").first(),
        "open": client.sync_conflicts.filter(status=ConflictStatus.OPEN).count(),
    }
