"""The monthly report as a page, and its findings as CSV."""

from collections import Counter
from datetime import date

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.backends.utils import csrf_input
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from clients.firm_cache import client_options
from clients.models import Client, Role
from clients.tenancy import get_client_for_member, get_for_firm, member_required
from connections.naming import words_of
from questions.asking import attach_questions

from . import bulk_outcome
from .close_facts import signed_off_view
from .detectors import CODES
from .fixes import (
    AUTOMATIC,
    FixRefused,
    do_approve,
    do_dismiss,
    do_retry,
    do_undo_dismiss,
    do_undo_fix,
    preview,
    undo_refusal,
)
from .lifecycle import RetryRefused, do_start, end_dead, last_good_run, report_url
from .lifecycle import do_retry as do_retry_run
from .models import CustomerBalance, Finding, FindingStatus, Reconciliation, ReconStatus
from .periods import PeriodRefused
from .queue import attach_comparisons, month_totals, queue_totals
from .report import csv_name, findings_csv, month_rows, report_data
from .run import client_period, local_today
from .stored_balances import balances_csv


def _run_of(request: HttpRequest, client_slug: str, recon_id: int) -> Reconciliation:
    """The firm's run (404 for another firm's), ended first if its worker died: a dead run
    never reads as running."""
    client = get_client_for_member(request, client_slug)
    recon = get_for_firm(request, Reconciliation, pk=recon_id, client=client)
    end_dead([recon])
    return recon


@require_GET
@member_required()
def report(request: HttpRequest, client_slug: str, recon_id: int) -> HttpResponse:
    recon = _run_of(request, client_slug, recon_id)
    context = report_data(recon)
    context["may_retry"] = context["can_retry"] and request.membership.has_role(Role.ACCOUNTANT)
    context["signed_off"] = signed_off_view(recon.client, recon.period)  # the month's close
    return render(request, "reconciliation/report.html", context)


@require_GET
@member_required()
def report_csv(request: HttpRequest, client_slug: str, recon_id: int) -> HttpResponse:
    recon = _run_of(request, client_slug, recon_id)
    if not recon.finished:
        # An empty findings file would read as a clean month: refused, saying why.
        state = "did not finish" if recon.status == ReconStatus.FAILED else "has not finished"
        words = [
            f"The reconciliation of {recon.client.name} for {recon.period:%B %Y} {state}: "
            "nothing was compared, so there is no findings file.",
            recon.error,
        ]
        if good := last_good_run(recon):
            words.append(
                f"The last run that went through ({good.period:%B %Y}): "
                + request.build_absolute_uri(report_url(good, recon.client.slug))
            )
        return HttpResponse(
            "\n".join(w for w in words if w) + "\n",
            status=409,
            content_type="text/plain; charset=utf-8",
        )
    findings = month_rows(report_data(recon))
    response = HttpResponse(findings_csv(recon, findings), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{csv_name(recon)}"'
    return response


@require_POST
@member_required(Role.ACCOUNTANT)
def reconcile_retry(request: HttpRequest, client_slug: str, recon_id: int) -> HttpResponse:
    """Start a failed (or partial) run's month again; the new run's report opens."""
    recon = _run_of(request, client_slug, recon_id)
    try:
        again = do_retry_run(request.user, recon)
    except RetryRefused as refused:
        messages.error(request, str(refused))
        return redirect("reconciliation_report", client_slug=recon.client.slug, recon_id=recon.pk)
    messages.success(request, f"Started {recon.period:%B %Y} again.")
    return redirect("reconciliation_report", client_slug=recon.client.slug, recon_id=again.pk)


@require_POST
@member_required(Role.ACCOUNTANT)
def reconcile_start(request: HttpRequest, client_slug: str) -> HttpResponse:
    """Reconcile a month now: the one chosen (any month of the client's history), else the
    month in progress (the monthly run does last month by itself). Back to the client page,
    or to the page it was pressed on (`next`: the month's close page)."""
    client = get_client_for_member(request, client_slug)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        back = reverse("client_detail", args=[client.slug])
    chosen = request.POST.get("period", "").strip()
    try:
        month = client_period(client, chosen) if chosen else local_today(client).replace(day=1)
    except PeriodRefused as refused:
        messages.error(request, f"Not reconciled: {refused}")
        return redirect(back)
    try:
        do_start(request.user, client, month)
    except RetryRefused as refused:
        messages.error(request, f"Not reconciled: {refused}")
        return redirect(back)
    messages.success(
        request,
        f"Reconciling {month:%B %Y}: it is listed under Reconciliations below; reload the "
        "page to see it finish and open its report."
        if back.endswith(reverse("client_detail", args=[client.slug]))
        else f"Reconciling {month:%B %Y}: reload the page to see it finish.",
    )
    return redirect(back)


QUEUE_PAGE = 20  # cards with both systems side by side: a screenful or two
QUEUE_FILTERS = {"client": "client__slug", "code": "code", "severity": "severity"}
QUEUE_SORTS = {
    "amount": ("-amount", "pk"),
    "newest": ("-created_at", "-pk"),
    "client": ("client__name", "-amount", "pk"),
}
SHOWN_WITH = ("client", "reconciliation", "decided_by")  # what an item names
BULK_LIMIT = QUEUE_PAGE  # one page; each approval calls the provider


def _queue(request: HttpRequest, params) -> tuple:
    """The firm's findings narrowed by the queue's filters (from the query string, or from the
    filter fields a decision posts along), the filters chosen, and the sort."""
    findings = Finding.objects.for_firm(request.firm).select_related(*SHOWN_WITH)
    chosen = {}
    for param, lookup in QUEUE_FILTERS.items():
        if value := params.get(param, "").strip():
            if param == "client":
                # By id, not through a join on the slug, so one client's queue is read in
                # order from its index (31 ms → 0.2 ms for a client with 15,000 findings).
                client_id = (
                    Client.objects.for_firm(request.firm)
                    .filter(slug=value)
                    .values_list("pk", flat=True)
                    .first()
                )
                findings = findings.filter(client_id=client_id)
            else:
                findings = findings.filter(**{lookup: value})
            chosen[param] = value
    sort = params.get("sort", "amount")
    return findings, chosen, sort if sort in QUEUE_SORTS else "amount"


def _summary(request: HttpRequest, params) -> dict:
    findings, chosen, _ = _queue(request, params)
    totals = queue_totals(request.firm, findings, chosen)
    return {"totals": totals, "chosen": chosen}


@require_GET
@member_required()
def review_findings(request: HttpRequest) -> HttpResponse:
    """Every client's findings in one queue, worst first; decided inline, one or many."""
    status = request.GET.get("status", FindingStatus.OPEN)
    if status not in FindingStatus.values:
        status = FindingStatus.OPEN
    findings, chosen, sort = _queue(request, request.GET)
    totals = queue_totals(request.firm, findings, chosen)
    paginator = Paginator(findings.filter(status=status).order_by(*QUEUE_SORTS[sort]), QUEUE_PAGE)
    if status == FindingStatus.OPEN:
        paginator.count = totals["count"]  # counted with the totals already: one query less
    page = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "reconciliation/review_findings.html",
        {
            "page": page,
            "items_html": _items_html(request, list(page.object_list)),
            "status": status,
            "sort": sort,
            "chosen": chosen,
            "totals": totals,
            "statuses": FindingStatus.choices,
            "codes": CODES,
            "automatic": AUTOMATIC,
            "client_options": client_options(request.firm, chosen.get("client", "")),
        },
    )


def _items_html(request: HttpRequest, findings: list[Finding], oob: bool = False) -> str:
    """The queue's items, rendered by Jinja2 (a page shows many: see syncfirm/jinja.py)."""
    attach_comparisons(findings)
    attach_questions(findings)  # questions to the contractor, and their answers
    for f in findings:  # whether a fixed finding's fix can be undone, and if not why
        f.undo_refusal = undo_refusal(f) if f.status == FindingStatus.FIXED else ""
    context = {
        "findings": findings,
        "oob": oob,
        "automatic": AUTOMATIC,
        "can_decide": request.membership.has_role(Role.ACCOUNTANT),
        "csrf": csrf_input(request),  # once: each use of Jinja's csrf_input masks a new token
    }
    html = render_to_string("reconciliation/findings.html", context, request, using="jinja2")
    return mark_safe(html)  # noqa: S308 - Jinja2 escaped it (autoescape on)


def _decided_items(
    request: HttpRequest, findings: list[Finding], said: tuple[str, str] | None = None
) -> HttpResponse:
    """The decided items in place and the queue's totals, all swapped out of band; after a
    bulk decision, what it did (`said`: level and words) in the line above the queue."""
    context = {"items_html": _items_html(request, findings, oob=True), "said": said}
    return render(
        request,
        "reconciliation/partials/decided.html",
        {**context, **_summary(request, request.POST)},
    )


def _decide(request: HttpRequest, ids: list[int], decide, bulk: str = "") -> HttpResponse:
    """Decide each finding; `bulk`: the action ticked findings were given ("approve",
    "dismiss"), whose outcome is then said in one line at the top."""
    chosen = Finding.objects.for_firm(request.firm).filter(pk__in=ids)
    errors, kinds = {}, {}
    started = timezone.now()
    for finding in sorted(chosen, key=lambda f: ids.index(f.pk)):
        try:
            decided = decide(finding)
        except FixRefused as refused:
            errors[finding.pk], kinds[finding.pk] = str(refused), refused.kind
            continue
        if decided.fix_failed_at and decided.fix_failed_at >= started:
            errors[finding.pk] = f"Fix failed: {decided.fix_error}"
            kinds[finding.pk] = "failed"
    decided = sorted(chosen.select_related(*SHOWN_WITH), key=lambda f: ids.index(f.pk))
    if not decided:
        raise Http404("No such finding.")
    for finding in decided:
        # A failed fix says so on the item itself; only a refusal needs a line of its own.
        failed = finding.fix_failed_at and finding.fix_failed_at >= started
        finding.error = "" if failed else errors.get(finding.pk, "")
    said = None
    if bulk:
        said = bulk_outcome.outcome(bulk, len(decided) - len(errors), Counter(kinds.values()))
    if request.htmx:
        return _decided_items(request, decided, said)
    if said:  # the sum first; below it, each refusal the sum does not already explain
        getattr(messages, said[0])(request, said[1])
        errors = {pk: error for pk, error in errors.items() if not kinds[pk]}
    for error in errors.values():
        messages.error(request, error)
    if not said and len(decided) > len(errors):
        messages.success(request, f"Decided {len(decided) - len(errors)} finding(s).")
    return redirect("review_findings")


def _confirmation(request: HttpRequest) -> dict:
    """What the person confirmed: the preview they saw, and the second confirmation."""
    return {
        "seen": request.POST.get("seen", ""),
        "confirmed_large": request.POST.get("confirm_large") == "yes",
    }


@require_GET
@member_required(Role.ACCOUNTANT)
def finding_fix(request: HttpRequest, finding_id: int) -> HttpResponse:
    """Exactly what approving (or retrying) the fix will write, read from both systems now,
    with the button that writes it: a panel in the queue's item, or a page of its own."""
    finding = get_for_firm(request, Finding, pk=finding_id)
    if request.htmx and request.GET.get("close"):
        return HttpResponse("")
    context = {
        "finding": finding,
        "shown": preview(finding) if finding.can_decide else None,
        "panel": bool(request.htmx),
    }
    template = "partials/fix_preview.html" if request.htmx else "fix_preview.html"
    response = render(request, f"reconciliation/{template}", context)
    response["Vary"] = "HX-Request"
    return response


@require_POST
@member_required(Role.ACCOUNTANT)
def finding_approve(request: HttpRequest, finding_id: int) -> HttpResponse:
    given = _confirmation(request)
    return _decide(request, [finding_id], lambda f: do_approve(request.user, f, **given))


@require_POST
@member_required(Role.ACCOUNTANT)
def finding_retry(request: HttpRequest, finding_id: int) -> HttpResponse:
    given = _confirmation(request)
    return _decide(request, [finding_id], lambda f: do_retry(request.user, f, **given))


@require_POST
@member_required(Role.ACCOUNTANT)
def finding_undo_fix(request: HttpRequest, finding_id: int) -> HttpResponse:
    return _decide(request, [finding_id], lambda f: do_undo_fix(request.user, f))


@require_POST
@member_required(Role.ACCOUNTANT)
def finding_dismiss(request: HttpRequest, finding_id: int) -> HttpResponse:
    reason = request.POST.get("reason", "")
    return _decide(request, [finding_id], lambda f: do_dismiss(request.user, f, reason))


@require_POST
@member_required(Role.ACCOUNTANT)
def finding_undo(request: HttpRequest, finding_id: int) -> HttpResponse:
    return _decide(request, [finding_id], lambda f: do_undo_dismiss(request.user, f))


@require_POST
@member_required(Role.ACCOUNTANT)
def findings_bulk(request: HttpRequest) -> HttpResponse:
    """Approve or dismiss the ticked findings; each is decided on its own, so one refusal
    (no automatic fix, already decided, above the firm's amount: those are confirmed one by
    one) is shown on its row and stops none of the others."""
    try:
        ids = list(dict.fromkeys(int(i) for i in request.POST.getlist("ids")))
    except ValueError:
        ids = []
    action = request.POST.get("action", "")
    if not ids or len(ids) > BULK_LIMIT or action not in ("approve", "dismiss"):
        message = f"Tick between 1 and {BULK_LIMIT} findings, then approve or dismiss them."
        if request.htmx:
            return HttpResponse(message, status=400)
        messages.error(request, message)
        return redirect("review_findings")
    if action == "approve":
        return _decide(request, ids, lambda f: do_approve(request.user, f), bulk=action)
    reason = request.POST.get("reason", "")
    return _decide(request, ids, lambda f: do_dismiss(request.user, f, reason), bulk=action)


REPORTS_PAGE = 50


@require_GET
@member_required()
def reports(request: HttpRequest) -> HttpResponse:
    """Every client's monthly reports, newest month first, with what each found."""
    recons = (
        Reconciliation.objects.for_firm(request.firm)
        .select_related("client")
        .annotate(currency=Coalesce(F("client__sync_settings__books_currency"), Value("USD")))
        .order_by("-period", "client__name", "-started_at")
    )
    chosen = {}
    if client := request.GET.get("client", "").strip():
        recons = recons.filter(client__slug=client)
        chosen["client"] = client
    if month := request.GET.get("month", "").strip():
        try:
            recons = recons.filter(period=date.fromisoformat(f"{month}-01"))
            chosen["month"] = month
        except ValueError:
            messages.error(request, f"“{month}” is not a month; write it as YYYY-MM.")
    page = Paginator(recons, REPORTS_PAGE).get_page(request.GET.get("page"))
    end_dead(page.object_list)
    month_totals(page.object_list)
    return render(
        request,
        "reconciliation/reports.html",
        {
            "page": page,
            "chosen": chosen,
            "client_options": client_options(request.firm, chosen.get("client", "")),
        },
    )


def _month_balances(request: HttpRequest, client_slug: str, month: str) -> tuple:
    """The client (of the request's firm, else 404), the month, and its customer balances,
    the unexplained differences first."""
    client = get_client_for_member(request, client_slug)
    try:
        period = date.fromisoformat(f"{month}-01")
    except ValueError:
        raise Http404("No such month.") from None
    rows = sorted(
        CustomerBalance.objects.for_firm(request.firm).filter(client=client, period=period),
        key=lambda b: (not b.unexplained, -abs(b.unexplained), -abs(b.difference), b.name),
    )
    return client, period, rows


@require_GET
@member_required()
def customer_balances(request: HttpRequest, client_slug: str, month: str) -> HttpResponse:
    """Each customer's balance in the CRM beside the books', what explains the difference
    and what does not."""
    client, period, rows = _month_balances(request, client_slug, month)
    recon = (
        Reconciliation.objects.for_firm(request.firm)
        .filter(client=client, period=period)
        .order_by("-started_at")
        .first()
    )
    return render(
        request,
        "reconciliation/balances.html",
        {
            "client": client,
            "period": period,
            "month": month,
            "rows": rows,
            "recon": recon,
            "words": words_of([client.pk])[client.pk],
        },
    )


@require_GET
@member_required()
def customer_balances_csv(request: HttpRequest, client_slug: str, month: str) -> HttpResponse:
    client, period, rows = _month_balances(request, client_slug, month)
    response = HttpResponse(balances_csv(rows), content_type="text/csv")
    name = f"{client.slug}-{period:%Y-%m}-customer-balances.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
