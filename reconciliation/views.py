"""The monthly report as a page, and its findings as CSV."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

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
