"""The monthly report as a page, and its findings as CSV."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_q.tasks import async_task

from clients.actions import audit
from clients.models import Client, Role
from clients.tenancy import get_client_for_member, get_for_firm, member_required

from .fixes import AUTOMATIC, FixRefused, do_approve, do_dismiss, do_undo_dismiss
from .models import Finding, FindingStatus, Reconciliation
from .report import findings_csv, report_data


@require_GET
@member_required()
def report(request: HttpRequest, client_slug: str, recon_id: int) -> HttpResponse:
    client = get_client_for_member(request, client_slug)
    recon = get_for_firm(request, Reconciliation, pk=recon_id, client=client)
    data = report_data(recon)
    data["findings"] = recon.findings.filter(status=FindingStatus.OPEN).order_by("code", "-amount")
    return render(request, "reconciliation/report.html", data)


@require_GET
@member_required()
def report_csv(request: HttpRequest, client_slug: str, recon_id: int) -> HttpResponse:
    client = get_client_for_member(request, client_slug)
    recon = get_for_firm(request, Reconciliation, pk=recon_id, client=client)
    findings = recon.findings.filter(status=FindingStatus.OPEN).order_by("code", "-amount")
    response = HttpResponse(findings_csv(findings), content_type="text/csv")
    name = f"{client.slug}-{recon.period:%Y-%m}-findings.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_POST
@member_required(Role.ACCOUNTANT)
def reconcile_start(request: HttpRequest, client_slug: str) -> HttpResponse:
    """Reconcile the current month now (the monthly run does last month by itself)."""
    client = get_client_for_member(request, client_slug)
    month = timezone.now().astimezone(client.tzinfo).date().replace(day=1)
    audit(client.firm, request.user, "reconciliation.started", client, None, {"period": str(month)})
    async_task("reconciliation.tasks.reconcile_now", client.pk, month.isoformat(), request.user.pk)
    messages.success(request, f"Reconciling {month:%B %Y}; the report appears below when done.")
    return redirect("client_detail", client_slug=client.slug)


QUEUE_PAGE = 50
QUEUE_FILTERS = {"client": "client__slug", "code": "code", "severity": "severity"}


@require_GET
@member_required()
def review_findings(request: HttpRequest) -> HttpResponse:
    """Every client's findings in one queue, worst first; decided inline."""
    status = request.GET.get("status", FindingStatus.OPEN)
    findings = Finding.objects.for_firm(request.firm).filter(status=status).select_related("client")
    chosen = {}
    for param, lookup in QUEUE_FILTERS.items():
        if value := request.GET.get(param, "").strip():
            findings = findings.filter(**{lookup: value})
            chosen[param] = value
    findings = findings.order_by("-amount", "pk")
    page = Paginator(findings, QUEUE_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "reconciliation/review_findings.html",
        {
            "page": page,
            "status": status,
            "chosen": chosen,
            "statuses": FindingStatus.choices,
            "automatic": AUTOMATIC,
            "clients": Client.objects.for_firm(request.firm)
            .order_by("name")
            .values_list("slug", "name"),
        },
    )


def _decided(request: HttpRequest, finding_id: int, decide) -> HttpResponse:
    finding = get_for_firm(request, Finding, pk=finding_id)
    error = ""
    try:
        finding = decide(finding)
    except FixRefused as refused:
        error = str(refused)
    context = {"f": finding, "error": error, "automatic": AUTOMATIC}
    if request.htmx:
        return render(request, "reconciliation/partials/finding_row.html", context)
    if error:
        messages.error(request, error)
    return redirect("review_findings")


@require_POST
@member_required(Role.ACCOUNTANT)
def finding_approve(request: HttpRequest, finding_id: int) -> HttpResponse:
    return _decided(request, finding_id, lambda f: do_approve(request.user, f))


@require_POST
@member_required(Role.ACCOUNTANT)
def finding_dismiss(request: HttpRequest, finding_id: int) -> HttpResponse:
    reason = request.POST.get("reason", "")
    return _decided(request, finding_id, lambda f: do_dismiss(request.user, f, reason))


@require_POST
@member_required(Role.ACCOUNTANT)
def finding_undo(request: HttpRequest, finding_id: int) -> HttpResponse:
    return _decided(request, finding_id, lambda f: do_undo_dismiss(request.user, f))
