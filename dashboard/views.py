"""The firm's dashboard and a client's page: every client's figures in one query, ordered by
what needs a person most, and one client's health, runs, settings and history."""

from collections import defaultdict
from types import SimpleNamespace

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from clients.models import Client
from clients.tenancy import get_client_for_member, member_required
from connections.models import Connection
from connections.naming import words_of
from connections.status import connection_rows, panel_context
from reconciliation.lifecycle import end_dead_runs
from reconciliation.models import Reconciliation, ReconStatus
from sync.health_record import overview as integration_overview
from sync.health_record import strips

from . import board
from .cache import firm_health
from .overview import client_overview

PAGE_SIZE = 50


@member_required()
def dashboard(request: HttpRequest) -> HttpResponse:
    sort = request.GET.get("sort", "worst")
    sort = sort if sort in board.SORTS else "worst"
    show = request.GET.get("show", "all")
    show = show if show in board.SHOWS else "all"
    query = request.GET.get("q", "").strip()
    health = firm_health(request.firm, board.HEALTH_FIELDS)
    # A run whose worker died must not show as running: ended here, then read afresh.
    if any(r["last_recon_status"] == ReconStatus.RUNNING for r in health) and end_dead_runs(
        Reconciliation.objects.for_firm(request.firm)
    ):
        health = firm_health(request.firm, board.HEALTH_FIELDS)
    rows = board.ordered(board.shown(health, show, query), sort)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = _rows_with_people(request, page.object_list)
    rows_html = mark_safe(  # noqa: S308 - rendered by Jinja2 with autoescape on
        render_to_string(
            "clients/client_rows.html", {"rows": page.object_list}, request, using="jinja2"
        )
    )
    context = {"page": page, "rows_html": rows_html, "query": query, "sort": sort, "show": show}
    context["shows"] = board.SHOWS
    if request.htmx:
        return render(request, "clients/partials/client_rows.html", context)
    context["totals"] = board.totals(health)
    return render(request, "clients/dashboard.html", context)


def _rows_with_people(request: HttpRequest, rows: list[dict]) -> list[dict]:
    """The page's rows with their connections, assigned staff and 30 days of integration
    health: flat queries and no model instances (a prefetch of clients, users and
    connections costs more than the rest of the page)."""
    ids = [r["pk"] for r in rows]
    connections, staff = defaultdict(list), defaultdict(list)
    for client_id, system, status in (
        Connection.objects.for_firm(request.firm)
        .filter(client_id__in=ids)
        .order_by("system")
        .values_list("client_id", "system", "status")
    ):
        connections[client_id].append(SimpleNamespace(system=system, status=status))
    for client_id, email in (
        Client.objects.for_firm(request.firm)
        .filter(pk__in=ids, assigned_staff__isnull=False)
        .order_by("assigned_staff__email")
        .values_list("pk", "assigned_staff__email")
    ):
        staff[client_id].append(email)
    days = strips(rows)
    for r in rows:
        r["strip"] = days[r["pk"]]
        r["connection_rows"] = connection_rows(None, connections[r["pk"]])
        r["staff"] = staff[r["pk"]]
        r["stakes"] = board.stakes(r["stake_by_currency"], r["at_stake"], r["currency"])
    return rows


@member_required()
def client_detail(request: HttpRequest, client_slug: str) -> HttpResponse:
    client = get_client_for_member(request, client_slug)
    return render(
        request,
        "clients/client_detail.html",
        {
            "client": client,
            "staff": client.assigned_staff.order_by("email"),
            "words": words_of([client.pk])[client.pk],  # "Xero contacts", not "customers"
            **panel_context(client),
            **client_overview(client),
            **integration_overview(client),
        },
    )
