"""Pages answer in a bounded number of queries, whatever how many rows they show."""

from datetime import date

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from connections.sync.models import SyncConflict, SyncRun
from reconciliation.models import Finding, Reconciliation

from .factories import ClientFactory


def fill(firm, clients: int) -> None:
    start = firm.clients.count()
    for n in range(start, start + clients):
        client = ClientFactory(firm=firm, name=f"Load Client {n}", slug=f"load-{n}")
        recon = Reconciliation.objects.create(client=client, period=date(2026, 10, 1))
        for code in ("duplicate_invoice", "missing_invoice"):
            Finding.objects.create(
                client=client, reconciliation=recon, code=code, severity="high", amount=10 + n,
                currency="USD", direction="AR overstated", reason="r", fingerprint=f"{n}{code}",
                fix={"action": "review", "words": "look"},
            )  # fmt: skip
        SyncRun.objects.create(client=client, kind="manual", status="succeeded")
        SyncConflict.objects.create(
            client=client, kind="near_match", crm_type="companies", crm_id=str(n), reason="r"
        )


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_dashboard_costs_the_same_for_3_or_30_clients(client, two_firms):
    client.force_login(two_firms.accountant_a)
    fill(two_firms.firm_a, 3)
    few = queries(client, reverse("dashboard"))
    fill(two_firms.firm_a, 27)
    assert queries(client, reverse("dashboard")) == few
    page = client.get(reverse("dashboard")).content.decode()
    # Worst first: the client with most at stake is listed above the one with least.
    ranked = sorted(two_firms.firm_a.clients.filter(findings__isnull=False).distinct(),
                    key=lambda c: sum(f.amount for f in c.findings.all()))  # fmt: skip
    assert page.index(f">{ranked[-1].name}<") < page.index(f">{ranked[0].name}<")


def test_the_findings_queue_costs_the_same_for_6_or_60_findings(client, two_firms):
    client.force_login(two_firms.accountant_a)
    fill(two_firms.firm_a, 3)
    few = queries(client, reverse("review_findings"))
    fill(two_firms.firm_a, 27)
    assert queries(client, reverse("review_findings")) == few


def test_the_findings_queue_decides_inline_and_undoes_a_dismissal(client, two_firms):
    client.force_login(two_firms.accountant_a)
    fill(two_firms.firm_a, 1)
    finding = Finding.objects.get(code="missing_invoice")
    page = client.get(reverse("review_findings")).content.decode()
    assert finding.client.name in page and "Why dismiss?" in page
    refused = client.post(
        reverse("finding_dismiss", args=[finding.pk]), {"reason": ""}, HTTP_HX_REQUEST="true"
    )
    assert "Say why it is dismissed." in refused.content.decode()
    done = client.post(
        reverse("finding_dismiss", args=[finding.pk]), {"reason": "paid by card"},
        HTTP_HX_REQUEST="true",
    )  # fmt: skip
    assert "Dismissed" in done.content.decode() and "Undo" in done.content.decode()
    client.post(reverse("finding_undo", args=[finding.pk]), HTTP_HX_REQUEST="true")
    finding.refresh_from_db()
    assert finding.status == "open"


def test_the_sync_review_queue_costs_the_same_for_3_or_30_items(client, two_firms):
    client.force_login(two_firms.accountant_a)
    fill(two_firms.firm_a, 3)
    few = queries(client, reverse("review_conflicts"))
    fill(two_firms.firm_a, 22)
    page = client.get(reverse("review_conflicts")).content.decode()
    assert queries(client, reverse("review_conflicts")) == few
    assert "Same customer: link them" in page and "Load Client" in page
