"""A client's customer sync at a glance, for the client page."""

from clients.models import Client

from .models import ConflictStatus


def sync_summary(client: Client) -> dict:
    from django.db.models import Count, Q, Sum

    from reconciliation.models import FindingStatus

    open_findings = Q(findings__status=FindingStatus.OPEN)
    return {
        "reconciliations": client.reconciliations.annotate(
            open=Count("findings", filter=open_findings),
            at_stake=Sum("findings__amount", filter=open_findings),
        ).order_by("-started_at")[:6],
        "last": client.sync_runs.order_by("-started_at").first(),
        "open": client.sync_conflicts.filter(status=ConflictStatus.OPEN).count(),
    }
