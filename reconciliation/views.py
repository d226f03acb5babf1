"""The monthly report as a page, and its findings as CSV."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_q.tasks import async_task

from clients.actions import audit
from clients.models import Role
from clients.tenancy import get_client_for_member, get_for_firm, member_required

from .models import FindingStatus, Reconciliation
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
