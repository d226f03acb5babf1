"""The client's sync page: runs and their per-record outcomes, the review queue of
conflicts with their decisions, alerts, and the buttons that start a sync or the import."""

import logging
from collections import Counter

from django.contrib import messages
from django.core.paginator import Paginator
from django.forms.models import model_to_dict
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from clients.actions import audit
from clients.models import Role
from clients.tenancy import get_client_for_member, get_for_firm, member_required
from connections.naming import words_of

from . import evidence, health_record
from .books_choices import read_books_choices, read_crm_choices
from .client_matching import settings_changed, settings_stamp, vocabulary
from .forms import SyncSettingsForm
from .models import (
    WAITING_PAYMENTS,
    Alert,
    ConflictKind,
    ConflictStatus,
    InvoiceLink,
    InvoiceState,
    LearntMatching,
    Outcome,
    PaymentLink,
    PaymentRule,
    PaymentState,
    Posting,
    RunKind,
    SyncConflict,
    SyncRun,
    SyncSettings,
)
from .record_names import name_conflicts
from .review import (
    DecisionRefused,
    decisions_for,
    do_resolve_conflict,
    do_retry_invoice,
    do_start_sync,
)
from .status import with_run_totals

RUNS_SHOWN = 15
CONFLICTS_PER_PAGE = 25
OUTCOMES_PER_PAGE = 100
WAITING_SHOWN = 50
BULK_DECISIONS = {
    "dismiss": "Dismiss ticked",
    "keep_crm": "Keep the CRM's values",
    "keep_accounting": "Keep the accounting system's values",
    "link": "Link ticked matches",
}

log = logging.getLogger(__name__)


@require_GET
@member_required()
def sync_page(request: HttpRequest, client_slug: str) -> HttpResponse:
    client = get_client_for_member(request, client_slug)
    runs = SyncRun.objects.for_firm(request.firm).filter(client=client)
    conflicts = (
        SyncConflict.objects.for_firm(request.firm)
        .filter(client=client, status=ConflictStatus.OPEN)
        .order_by("created_at")
    )
    page = Paginator(conflicts, CONFLICTS_PER_PAGE).get_page(request.GET.get("page"))
    _for_cards(page.object_list)
    shown_runs = with_run_totals(list(runs[:RUNS_SHOWN]))
    context = {
        "client": client,
        "settings": SyncSettings.for_client(client),
        "words": words_of([client.pk])[client.pk],
        "runs": shown_runs,
        "running": runs.filter(finished_at__isnull=True).first(),
        "preview": runs.filter(kind=RunKind.IMPORT_PREVIEW, finished_at__isnull=False).first(),
        "page": page,
        "bulk_decisions": BULK_DECISIONS,
        "alerts": Alert.objects.for_firm(request.firm).filter(client=client, resolved_at=None)[:10],
        "waiting_payments": _waiting_payments(request, client),
        "waiting_invoices": InvoiceLink.objects.for_firm(request.firm)
        .filter(client=client, state__in=[InvoiceState.HELD, InvoiceState.UNCERTAIN])
        .order_by("state", "-updated_at")[:WAITING_SHOWN],
    }
    template = "sync/partials/runs.html" if request.htmx else "sync/page.html"
    return render(request, template, context)


def _waiting_payments(request: HttpRequest, client) -> list[PaymentLink]:
    """Payments syncfirm held instead of carrying, each with its invoice's number."""
    held = list(
        PaymentLink.objects.for_firm(request.firm)
        .filter(client=client, state__in=WAITING_PAYMENTS)
        .order_by("-updated_at")[:WAITING_SHOWN]
    )
    numbers = dict(
        InvoiceLink.objects.filter(
            client=client, deal_id__in=[p.deal_id for p in held]
        ).values_list("deal_id", "doc_number")
    )
    for payment in held:
        payment.doc_number = numbers.get(payment.deal_id, "")
    return held


def _for_cards(conflicts) -> None:
    """What a review card shows beside the conflict itself: its decisions, both records'
    values, the weighed evidence of a possible match, and the records' names."""
    for conflict in conflicts:
        conflict.decisions = decisions_for(conflict)
        conflict.rows = _side_by_side(conflict)
        conflict.card = evidence.card(
            conflict.evidence, conflict.crm_value, conflict.accounting_value, conflict.crm_type
        )
    name_conflicts(conflicts)


def _side_by_side(conflict: SyncConflict) -> list[tuple[str, str, str, bool]]:
    """(field, CRM value, accounting value, differs) for the fields either side holds."""
    crm, accounting = conflict.crm_value or {}, conflict.accounting_value or {}
    names = [n for n in dict.fromkeys([*crm, *accounting]) if crm.get(n) or accounting.get(n)]
    return [
        (
            n.replace("_", " "),
            crm.get(n, ""),
            accounting.get(n, ""),
            crm.get(n) != accounting.get(n),
        )
        for n in names
    ]


@require_GET
@member_required()
def run_detail(request: HttpRequest, client_slug: str, run_id: int) -> HttpResponse:
    client = get_client_for_member(request, client_slug)
    run = get_for_firm(request, SyncRun, pk=run_id, client=client)
    outcomes = run.outcomes.all()
    shown = request.GET.get("outcome", "")
    if shown in Outcome.values:
        outcomes = outcomes.filter(outcome=shown)
    page = Paginator(outcomes, OUTCOMES_PER_PAGE).get_page(request.GET.get("page"))
    counts = dict(Counter(run.outcomes.values_list("outcome", flat=True)))
    return render(
        request,
        "sync/run.html",
        {
            "client": client,
            "words": words_of([client.pk])[client.pk],
            "run": run,
            "page": page,
            "shown": shown,
            "counts": counts,
            "outcome_labels": dict(Outcome.choices),
            "duplicates": {
                side: (run.counts or {}).get(f"duplicates_{side}") or []
                for side in ("accounting", "crm")
            },
        },
    )


@member_required(Role.ADMIN)
def sync_settings(request: HttpRequest, client_slug: str) -> HttpResponse:
    client = get_client_for_member(request, client_slug)
    current = SyncSettings.for_client(client)
    form = SyncSettingsForm(
        request.POST or None,
        instance=current,
        books=read_books_choices(client),  # the lists settings are picked from
        crm=read_crm_choices(client),
        learnt=LearntMatching.objects.for_firm(request.firm).filter(client=client).first(),
    )
    if request.method == "POST" and form.is_valid():
        before = _settings_state(SyncSettings.objects.for_firm(request.firm).get(pk=current.pk))
        saved = form.save()
        audit(
            client.firm,
            request.user,
            "sync.settings_changed",
            saved,
            before,
            _settings_state(saved),
        )
        messages.success(request, "Sync settings saved; the next run uses them." + _waiting(
            request, client, before, _settings_state(saved)
        ) + _took_over(client, before, _settings_state(saved))
          + _payments_now(client, before, _settings_state(saved)))  # fmt: skip
        return redirect("client_sync", client_slug=client.slug)
    return render(request, "sync/settings.html", {"client": client, "form": form})


def _took_over(client, before: dict, after: dict) -> str:
    """Switched to syncfirm posting a billing CRM's invoices: the one thing to do at once."""
    if before.get("posting") == after.get("posting") or after.get("posting") != Posting.SYNCFIRM:
        return ""
    crm = words_of([client.pk])[client.pk].crm
    return (
        f" syncfirm posts {crm}'s invoices from the next sync: turn off {crm}'s own sync to "
        "the books now, or both will post each invoice. The sync's run will list what it "
        "posted and what it kept back."
    )


def _payments_now(client, before: dict, after: dict) -> str:
    """The payment rule changed: which way payments go from the next sync, and that those
    carried already stay as they are."""
    if before.get("payment_rule") == after.get("payment_rule") or not after.get("posting"):
        return ""
    words = words_of([client.pk])[client.pk]
    crm, books = words.crm, words.books
    way = {
        PaymentRule.BOTH: f"both ways between {crm} and {books}",
        PaymentRule.CRM_TO_BOOKS: f"from {crm} to {books} only",
        PaymentRule.BOOKS_TO_CRM: f"from {books} to {crm} only",
        PaymentRule.NONE: "no longer carried",
    }[after["payment_rule"]]
    return (
        f" Payments are {way} from the next sync, including those recorded since the last "
        "one; payments carried already stay as they are."
    )


def _waiting(request: HttpRequest, client, before: dict, after: dict) -> str:
    """What a change of the matching settings does to the pairs waiting for review: the
    next run decides them again (decision 0026), by the same comparison it makes."""
    changed = settings_changed(_stamp(before), _stamp(after))
    if not changed:
        return ""
    waiting = (
        SyncConflict.objects.for_firm(request.firm)
        .filter(client=client, kind=ConflictKind.NEAR_MATCH, status=ConflictStatus.OPEN)
        .count()
    )
    if not waiting:
        return ""
    pairs = "The pair" if waiting == 1 else f"The {waiting} pairs"
    return (
        f" {pairs} waiting for review ({changed}) will be decided again: linked if now sure, "
        "created if now below review, left waiting otherwise."
    )


def _stamp(state: dict) -> dict:
    _, words = vocabulary(state["match_abbreviations"], state["match_legal_forms"])
    return settings_stamp(state["link_sure_percent"], state["review_from_percent"], words)


def _settings_state(settings: SyncSettings) -> dict:
    """Every setting a person chooses, for the audit log's before and after: a list kept by
    hand left out who posts, the invoice number pattern, terms and more."""
    state = model_to_dict(settings, exclude=["id", "client"])
    return {
        name: value if isinstance(value, str | int | bool | list | dict | None) else str(value)
        for name, value in state.items()
        if not name.endswith("_at")  # when something happened, not what was chosen
    }


@require_POST
@member_required(Role.ACCOUNTANT)
def sync_start(request: HttpRequest, client_slug: str) -> HttpResponse:
    client = get_client_for_member(request, client_slug)
    what = request.POST.get("what", "")
    try:
        do_start_sync(request.user, client, what)
    except DecisionRefused as error:
        messages.error(request, str(error))
    else:
        started = {
            "sync": "Sync started.",
            "preview": "Import preview started: nothing is written.",
            "import": "Import approved and started.",
        }
        messages.success(request, started[what])
    return redirect("client_sync", client_slug=client.slug)


@require_POST
@member_required(Role.ACCOUNTANT)
def conflict_resolve(request: HttpRequest, client_slug: str, conflict_id: int) -> HttpResponse:
    client = get_client_for_member(request, client_slug)
    conflict = get_for_firm(request, SyncConflict, pk=conflict_id, client=client)
    error = ""
    try:
        do_resolve_conflict(
            request.user, conflict, request.POST.get("decision", ""), request.POST.get("note", "")
        )
    except DecisionRefused as refused:
        error = str(refused)
    if request.htmx:
        return _decided_items(request, [conflict.pk], {conflict.pk: error} if error else {})
    if error:
        messages.error(request, error)
    else:
        messages.success(request, "Decided; the next sync acts on it.")
    return redirect("client_sync", client_slug=client.slug)


def _decided_items(request: HttpRequest, ids: list[int], errors: dict) -> HttpResponse:
    """The decided items swapped in place and the waiting count, all out of band; an item a
    decision did not fit keeps its card with the reason."""
    decided = sorted(
        SyncConflict.objects.for_firm(request.firm)
        .filter(pk__in=ids)
        .select_related("client", "resolved_by"),
        key=lambda c: ids.index(c.pk),
    )
    for conflict in decided:
        conflict.error = errors.get(conflict.pk, "")
    _for_cards(decided)
    waiting = SyncConflict.objects.for_firm(request.firm).filter(status=ConflictStatus.OPEN)
    one_client = request.POST.get("client", "")  # the page lists one client's items
    if one_client:
        waiting = waiting.filter(client__slug=one_client)
    return render(
        request,
        "sync/partials/bulk_decided.html",
        {"conflicts": decided, "waiting": waiting.count(), "show_client": not one_client},
    )


@require_POST
@member_required(Role.ACCOUNTANT)
def invoice_retry(request: HttpRequest, client_slug: str, link_id: int) -> HttpResponse:
    client = get_client_for_member(request, client_slug)
    link = get_for_firm(request, InvoiceLink, pk=link_id, client=client)
    try:
        do_retry_invoice(request.user, link)
    except DecisionRefused as error:
        messages.error(request, str(error))
    else:
        deal = f"Deal “{link.deal_name}”" if link.deal_name else "The deal"
        messages.success(request, f"{deal}: looked for in the books, then written.")
    return redirect("client_sync", client_slug=client.slug)


@require_POST
@member_required(Role.ACCOUNTANT)
def payment_handled(request: HttpRequest, client_slug: str, payment_id: int) -> HttpResponse:
    """A held payment a person recorded by hand (or decided to leave): no longer waiting."""
    client = get_client_for_member(request, client_slug)
    link = get_for_firm(request, PaymentLink, pk=payment_id, client=client)
    if link.state not in WAITING_PAYMENTS:
        messages.info(request, "That payment was already handled.")
        return redirect("client_sync", client_slug=client.slug)
    before = {"state": link.state, "reason": link.reason}
    link.state = PaymentState.HANDLED
    link.save(update_fields=["state", "updated_at"])
    audit(client.firm, request.user, "sync.payment_handled", link, before, {"state": link.state})
    messages.success(request, "Marked as handled: syncfirm will not carry that payment.")
    return redirect("client_sync", client_slug=client.slug)


@require_POST
@member_required(Role.ACCOUNTANT)
def alert_handled(request: HttpRequest, client_slug: str, alert_id: int) -> HttpResponse:
    """An alert a person has acted on: it leaves the pages and client health."""
    client = get_client_for_member(request, client_slug)
    alert = get_for_firm(request, Alert, pk=alert_id, client=client)
    if alert.resolved_at is None:
        alert.resolved_at = timezone.now()
        alert.save(update_fields=["resolved_at"])
        audit(client.firm, request.user, "sync.alert_handled", alert, {"message": alert.message},
              {"resolved_at": alert.resolved_at.isoformat()})  # fmt: skip
    # Judged again now, so the dashboard and the client page stop saying "degraded" for
    # an alert nobody waits on, instead of at the next scheduled check.
    try:
        status = f" Integration health: {health_record.record(client).status}."
    except Exception:  # handled all the same; the scheduled check judges it again
        log.exception("client %s: integration health not recorded", client.pk)
        status = ""
    messages.success(request, f"Alert marked as handled.{status}")
    return redirect("client_sync", client_slug=client.slug)


@require_GET
@member_required()
def review_conflicts(request: HttpRequest) -> HttpResponse:
    """Every client's sync decisions waiting for a person, oldest first."""
    conflicts = (
        SyncConflict.objects.for_firm(request.firm)
        .filter(status=ConflictStatus.OPEN)
        .select_related("client")
        .order_by("created_at", "pk")
    )
    kind = request.GET.get("kind", "")
    if kind:
        conflicts = conflicts.filter(kind=kind)
    page = Paginator(conflicts, CONFLICTS_PER_PAGE).get_page(request.GET.get("page"))
    _for_cards(page.object_list)
    return render(
        request,
        "sync/review_conflicts.html",
        {
            "page": page,
            "kind": kind,
            "kinds": ConflictKind.choices,
            "show_client": True,
            "bulk_decisions": BULK_DECISIONS,
        },
    )


@require_POST
@member_required(Role.ACCOUNTANT)
def conflicts_bulk(request: HttpRequest) -> HttpResponse:
    """One decision for every ticked item it fits; an item it does not fit (a dismissal with
    no note, "keep the CRM's value" on a near match) keeps its card with the reason."""
    try:
        ids = list(dict.fromkeys(int(i) for i in request.POST.getlist("ids")))
    except ValueError:
        ids = []
    decision = request.POST.get("decision", "")
    if not ids or len(ids) > CONFLICTS_PER_PAGE or decision not in BULK_DECISIONS:
        message = f"Tick between 1 and {CONFLICTS_PER_PAGE} items, then choose a decision."
        if request.htmx:
            return HttpResponse(message, status=400)
        messages.error(request, message)
        return redirect("review_conflicts")
    chosen = SyncConflict.objects.for_firm(request.firm).filter(pk__in=ids)
    if not chosen.exists():
        raise Http404("No such item.")
    errors = {}
    for conflict in chosen.select_related("client"):
        try:
            do_resolve_conflict(request.user, conflict, decision, request.POST.get("note", ""))
        except DecisionRefused as refused:
            errors[conflict.pk] = str(refused)
    if request.htmx:
        return _decided_items(request, ids, errors)
    for error in errors.values():
        messages.error(request, error)
    messages.success(request, f"Decided {chosen.count() - len(errors)} item(s).")
    return redirect("review_conflicts")
