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


def with_health(clients):
    """Clients annotated with what the dashboard shows, each a subquery so the page stays
    one query however many clients: open findings and the amount at stake, open conflicts,
    the last sync's status and time."""
    from django.db.models import Count, DecimalField, OuterRef, Subquery, Sum, Value
    from django.db.models.functions import Coalesce

    from reconciliation.models import Finding, FindingStatus

    from .models import SyncConflict, SyncRun

    open_findings = Finding.objects.filter(client=OuterRef("pk"), status=FindingStatus.OPEN)
    last_run = SyncRun.objects.filter(client=OuterRef("pk")).order_by("-started_at")

    def total(queryset, expression):
        return Subquery(queryset.order_by().values("client").annotate(v=expression).values("v")[:1])

    money = DecimalField(max_digits=16, decimal_places=2)
    return clients.annotate(
        open_findings=Coalesce(total(open_findings, Count("pk")), Value(0)),
        at_stake=Coalesce(total(open_findings, Sum("amount")), Value(0), output_field=money),
        open_conflicts=Coalesce(
            total(
                SyncConflict.objects.filter(client=OuterRef("pk"), status=ConflictStatus.OPEN),
                Count("pk"),
            ),
            Value(0),
        ),
        last_sync_status=Subquery(last_run.values("status")[:1]),
        last_sync_at=Subquery(last_run.values("started_at")[:1]),
    )
