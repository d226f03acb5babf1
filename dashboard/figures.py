"""Every figure the dashboard and a client's page show of a client, as annotations: one
query for a whole firm, however many clients."""

from django.db.models import Count, DecimalField, JSONField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from connections.models import Connection
from reconciliation.models import OpenTotals, Reconciliation
from sync.models import ConflictStatus, Incident, SyncConflict, SyncRun, SyncSettings
from sync.status import BROKEN


def with_health(clients, findings: bool = True):
    """Clients annotated with what the dashboard shows, each a subquery so the page stays
    one query however many clients: open findings and the amount at stake (unless
    `findings` is off), open conflicts, the last sync's status and time, the last
    reconciliation, and the books' currency."""
    last_run = SyncRun.objects.filter(client=OuterRef("pk")).order_by("-started_at")
    # The latest month, and its latest run: re-running November must not hide December.
    last_recon = Reconciliation.objects.filter(client=OuterRef("pk")).order_by(
        "-period", "-started_at"
    )
    books_currency = SyncSettings.objects.filter(client=OuterRef("pk")).values("books_currency")
    broken = Connection.objects.filter(client=OuterRef("pk"), status__in=BROKEN)
    # The worst open integration incident ("broken" sorts before "degraded"), the oldest of
    # equals: its level and its words are read apart, so they must name the same one.
    incident = Incident.objects.filter(client=OuterRef("pk"), resolved_at=None).order_by(
        "level", "opened_at", "pk"
    )

    def total(queryset, expression):
        return Subquery(queryset.order_by().values("client").annotate(v=expression).values("v")[:1])

    money = DecimalField(max_digits=16, decimal_places=2)
    if findings:  # kept by reconciliation.totals: one row a client, not all its findings
        totals = OpenTotals.objects.filter(client=OuterRef("pk"))
        clients = clients.annotate(
            open_findings=Coalesce(Subquery(totals.values("count")[:1]), Value(0)),
            material_findings=Coalesce(Subquery(totals.values("high")[:1]), Value(0)),
            at_stake=Coalesce(Subquery(totals.values("amount")[:1]), Value(0), output_field=money),
            # Each currency apart (`at_stake` adds them, for ordering only).
            stake_by_currency=Subquery(totals.values("by_currency")[:1], output_field=JSONField()),
        )
    return clients.annotate(
        open_conflicts=Coalesce(
            total(
                SyncConflict.objects.filter(client=OuterRef("pk"), status=ConflictStatus.OPEN),
                Count("pk"),
            ),
            Value(0),
        ),
        broken_connections=Coalesce(total(broken, Count("pk")), Value(0)),
        integration=Subquery(incident.values("level")[:1]),
        integration_words=Subquery(incident.values("words")[:1]),
        last_sync_status=Subquery(last_run.values("status")[:1]),
        last_sync_at=Subquery(last_run.values("started_at")[:1]),
        last_recon_period=Subquery(last_recon.values("period")[:1]),
        last_recon_status=Subquery(last_recon.values("status")[:1]),
        last_recon_id=Subquery(last_recon.values("pk")[:1]),
        currency=Coalesce(Subquery(books_currency[:1]), Value("USD")),
    )
