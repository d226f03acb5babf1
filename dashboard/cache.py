"""Every client's dashboard figures for a firm, kept for a few seconds.

The dashboard orders all of a firm's clients by what needs a person most, so each view
reads every client's figures (one query with a subquery per figure and client). Under load
that query is half of the page's cost, so its rows are cached per firm for
`DASHBOARD_CACHE_SECONDS` (default 5; 0 turns it off). Any change saved through the app to
what the figures come from — findings (through their kept totals), sync runs, sync
decisions, connections, reconciliations, clients — forgets the firm's figures at once, so
a person sees their own decisions on the next page; a change written with a bare
`.update()` (a connection's last call time) shows within the expiry. The figures are the
firm's own: the key carries the firm's id, and the cache is per deployment (Redis in
production, in-process memory in the demo).
"""

from django.conf import settings
from django.db.models.signals import post_delete, post_save

from clients.firm_cache import forget, kept

FIGURES = "dashboard-figures:{firm}:{generation}"


def firm_health(firm, fields: tuple[str, ...]) -> list[dict]:
    """Every client's figures as dicts (fresh copies: callers add to them)."""
    from clients.models import Client

    from .figures import with_health

    rows = kept(
        FIGURES, firm, lambda: list(with_health(Client.objects.for_firm(firm)).values(*fields))
    )
    return [dict(row) for row in rows]


def _firm_of(instance) -> int | None:
    client = getattr(instance, "client_id", None)
    if client is None:
        return getattr(instance, "firm_id", None)  # a Client itself
    from clients.models import Client

    return Client.objects.filter(pk=client).values_list("firm_id", flat=True).first()


def _changed(sender, instance, raw: bool = False, **kwargs) -> None:
    if raw or not settings.DASHBOARD_CACHE_SECONDS:
        return
    firm_id = _firm_of(instance)
    if firm_id is not None:
        forget(firm_id)


def _forget_sent(sender, firm_id: int, **kwargs) -> None:
    forget(firm_id)


def connect() -> None:
    from clients.models import Client
    from clients.signals import figures_changed
    from connections.models import Connection
    from reconciliation.models import OpenTotals, Reconciliation
    from sync.models import Incident, SyncConflict, SyncRun, SyncSettings

    figures_changed.connect(_forget_sent, dispatch_uid="health-figures-changed")
    for model in (
        Client,
        Connection,
        SyncRun,
        SyncConflict,
        SyncSettings,
        Reconciliation,
        Incident,
    ):
        post_save.connect(_changed, sender=model, dispatch_uid=f"health-{model.__name__}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"health-del-{model.__name__}")
    post_save.connect(_changed, sender=OpenTotals, dispatch_uid="health-OpenTotals")
