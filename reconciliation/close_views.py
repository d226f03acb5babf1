"""The month-end close as pages: the firm's close board (every client beside its last months,
closed / ready / blocked, worst first) and each client's month (its checklist, sign-off,
what was signed off and what changed since)."""

import logging
from datetime import date

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from clients.models import Client, Membership, Role
from clients.tenancy import get_client_for_member, member_required

from . import close
from .close_actions import CloseRefused, do_carry, do_reopen, do_send_report, do_sign_off
from .close_facts import ended_months, facts_for, one_month, with_last_sync
from .models import CarryNote, MonthClose, Reconciliation
from .periods import PeriodRefused, check_period
from .run import client_period

log = logging.getLogger(__name__)

BOARD_MONTHS = 3
BOARD_PAGE = 50  # clients a page


def _staff_choice(request: HttpRequest) -> tuple[str, list[Membership]]:
    """Whose clients the board shows: "all", "mine" (the default when the person is assigned
    any client) or a member's user id, and the firm's staff to choose from."""
    staff = list(
        Membership.objects.for_firm(request.firm).select_related("user").order_by("user__email")
    )
    chosen = request.GET.get("staff", "").strip()
    if chosen not in {"all", "mine"} | {str(m.user_id) for m in staff}:
        mine = Client.objects.for_firm(request.firm).filter(assigned_staff=request.user)
        chosen = "mine" if mine.exists() else "all"
    return chosen, staff


def _last_month(request: HttpRequest, today: date) -> date:
    """The newest month shown: the one picked (YYYY-MM, not after the last that has ended),
    else the last that has ended."""
    latest = ended_months(today, 1)[0]
    picked = request.GET.get("to", "").strip()
    if not picked:
        return latest
    try:
        month = check_period(picked, today)
    except PeriodRefused as refused:
        messages.error(request, f"Showing the last months that have ended: {refused}")
        return latest
    return min(month, latest)


@require_GET
@member_required()
def close_board(request: HttpRequest) -> HttpResponse:
    today = timezone.now().date()  # the board's months are the firm's: counted in UTC
    chosen, staff = _staff_choice(request)
    months = ended_months(today, BOARD_MONTHS, _last_month(request, today))
    clients = Client.objects.for_firm(request.firm).order_by("name")
    if chosen == "mine":
        clients = clients.filter(assigned_staff=request.user)
    elif chosen != "all":
        clients = clients.filter(assigned_staff__pk=int(chosen))
    clients = list(with_last_sync(clients))
    facts = facts_for(clients, months, reasons=False)
    rows = close.worst_first(
        [(c, [close.verdict(facts[(c.pk, month)]) for month in months]) for c in clients]
    )
    verdicts = [v for _, vs in rows for v in vs]
    # Ranked across the firm first (the worst client may be the last by name), then paged.
    page = Paginator(rows, BOARD_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "reconciliation/close_board.html",
        {
            "months": months,
            "page": page,
            "rows": [(c, list(zip(months, vs, strict=True))) for c, vs in page.object_list],
            "staff": staff,
            "chosen": chosen,
            "picked": f"{months[0]:%Y-%m}",
            "counts": {s: sum(v.status == s for v in verdicts) for s in close.RANK},
        },
    )


def _client_month(request: HttpRequest, client_slug: str, month: str) -> tuple[Client, date]:
    client = get_client_for_member(request, client_slug)
    try:
        return client, client_period(client, month)
    except PeriodRefused:
        raise Http404("No such month.") from None


@require_GET
@member_required()
def close_month(request: HttpRequest, client_slug: str, month: str) -> HttpResponse:
    client, period = _client_month(request, client_slug, month)
    facts = one_month(client, period)
    judged = close.verdict(facts)
    kept = (
        MonthClose.objects.for_firm(request.firm)
        .filter(client=client, period=period)
        .select_related("signed_off_by", "reopened_by")
        .first()
    )
    signed = [close.Item.from_json(i) for i in facts.snapshot.get("items", [])]
    run = facts.latest_run
    notes = {
        n.finding_id: n
        for n in CarryNote.objects.for_firm(request.firm)
        .filter(client=client, period=period)
        .select_related("noted_by")
    }
    good = (
        Reconciliation.objects.for_firm(request.firm)
        .filter(client=client, period=period, status__in=("done", "partial"))
        .order_by("-started_at")
        .values_list("pk", flat=True)
        .first()
    )
    return render(
        request,
        "reconciliation/close_month.html",
        {
            "client": client,
            "period": period,
            "month": month,
            "verdict": judged,
            "kept": kept if kept and kept.closed else None,
            "reopened": kept if kept and kept.reopened_at and not kept.closed else None,
            "signed": signed,
            "signed_totals": facts.snapshot.get("totals", {}),
            "signed_count": facts.snapshot.get("count", 0),
            "items": [(i, notes.get(i.finding_id)) for i in facts.items],
            "run": run,
            "report_run": good,
            "may_act": request.membership.has_role(Role.ACCOUNTANT),
            "here": request.get_full_path(),
        },
    )


def _acted(request: HttpRequest, client: Client, month: str, act, done: str) -> HttpResponse:
    try:
        act()
    except CloseRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, done)
    return redirect("close_month", client_slug=client.slug, month=month)


@require_POST
@member_required(Role.ACCOUNTANT)
def close_sign_off(request: HttpRequest, client_slug: str, month: str) -> HttpResponse:
    client, period = _client_month(request, client_slug, month)
    return _acted(
        request,
        client,
        month,
        lambda: do_sign_off(request.user, client, period),
        f"{period:%B %Y} signed off by you.",
    )


@require_POST
@member_required(Role.ACCOUNTANT)
def close_reopen(request: HttpRequest, client_slug: str, month: str) -> HttpResponse:
    client, period = _client_month(request, client_slug, month)
    reason = request.POST.get("reason", "")
    return _acted(
        request,
        client,
        month,
        lambda: do_reopen(request.user, client, period, reason),
        f"{period:%B %Y} reopened.",
    )


@require_POST
@member_required(Role.ACCOUNTANT)
def close_carry(
    request: HttpRequest, client_slug: str, month: str, finding_id: int
) -> HttpResponse:
    client, period = _client_month(request, client_slug, month)
    note = request.POST.get("note", "")
    return _acted(
        request,
        client,
        month,
        lambda: do_carry(request.user, client, period, finding_id, note),
        "Carried with your note.",
    )


@require_POST
@member_required(Role.ACCOUNTANT)
def close_send_report(request: HttpRequest, client_slug: str, month: str) -> HttpResponse:
    client, period = _client_month(request, client_slug, month)
    try:
        do_send_report(request.user, client, period)
    except CloseRefused as refused:
        messages.error(request, str(refused))
    except Exception:  # the mail server: said in words, the cause logged
        log.exception("report of %s %s not sent", client.pk, period)
        messages.error(request, "The report could not be sent (logged); try again shortly.")
    else:
        messages.success(request, f"The report for {period:%B %Y} was emailed.")
    return redirect(reverse("close_month", args=[client.slug, month]))
