"""Pages answer in a bounded number of queries, whatever how many rows they show."""

from datetime import date
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from connections.models import InvitationUse
from reconciliation import detectors
from reconciliation.models import Finding, Reconciliation
from reconciliation.records import records_of
from reconciliation.views import QUEUE_PAGE
from sync.models import SyncConflict, SyncRun

from .factories import ClientFactory, ContractorInvitationFactory


def fill(firm, clients: int) -> None:
    start = firm.clients.count()
    for n in range(start, start + clients):
        client = ClientFactory(firm=firm, name=f"Load Client {n}", slug=f"load-{n}")
        recon = Reconciliation.objects.create(
            client=client, period=date(2026, 10, 1), status="done"
        )
        # Both systems' records, so the queue's side-by-side has something to show.
        deal = detectors.SnapDeal(
            f"d{n}",
            f"Job {n}",
            True,
            Decimal(10 + n),
            lines=(("SKU", Decimal(1), Decimal(10 + n)),),
        )
        invoices = [
            detectors.SnapInvoice(
                f"i{n}-{number}", f"SF-{n}-{number}", "", date(2026, 10, int(number)),
                Decimal(10 + n), Decimal(10 + n), "USD", f"d{n}",
                (("7", Decimal(1), Decimal(10 + n)),),
            )
            for number in ("1", "2")
        ]  # fmt: skip
        for code in ("duplicate_invoice", "missing_invoice"):
            duplicate = code == "duplicate_invoice"
            Finding.objects.create(
                client=client, reconciliation=recon, key=f"{n}{code}", code=code, severity="high",
                amount=10 + n, currency="USD", direction="AR overstated", reason="r",
                fingerprint=f"{n}{code}", fix={"action": "review", "words": "look"},
                deal_id=f"d{n}", invoice_ids=[i.id for i in invoices] if duplicate else [],
                records=records_of(deal, invoices if duplicate else []),
                first_period=recon.period, last_period=recon.period,
            )  # fmt: skip
        SyncRun.objects.create(client=client, kind="manual", status="succeeded")
        SyncConflict.objects.create(  # a possible match names the customer it looks like
            client=client, kind="near_match", crm_type="companies", crm_id=str(n), reason="r",
            accounting_id=str(100 + n),
        )  # fmt: skip


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
    page = client.get(reverse("review_findings")).content.decode()
    # Each finding shows both systems side by side: the duplicate pair's dates differ.
    assert "Books invoice SF-29-2" in page and "CRM deal" in page
    assert page.count('class="differs"') >= QUEUE_PAGE  # every item on the page


def test_the_reports_page_costs_the_same_for_3_or_30_reports(client, two_firms):
    client.force_login(two_firms.viewer_a)
    fill(two_firms.firm_a, 3)
    few = queries(client, reverse("reports"))
    fill(two_firms.firm_a, 27)
    assert queries(client, reverse("reports")) == few
    page = client.get(reverse("reports")).content.decode()
    assert page.count("October 2026") == 30 and "Load Client 29" in page


def test_the_client_page_costs_the_same_for_one_month_or_twelve(client, two_firms):
    client.force_login(two_firms.viewer_a)
    fill(two_firms.firm_a, 1)
    target = two_firms.firm_a.clients.get(slug="load-1")
    url = reverse("client_detail", args=[target.slug])
    ContractorInvitationFactory(client=target, created_by=two_firms.accountant_a)
    few = queries(client, url)
    for n in range(8):  # the links sent, with who sent, who withdrew and what was used
        link = ContractorInvitationFactory(
            client=target, created_by=two_firms.accountant_a, email=f"c{n}@load.test",
            revoked_by=two_firms.owner_a if n % 2 else None,
            revoked_at=timezone.now() if n % 2 else None,
        )  # fmt: skip
        InvitationUse.objects.create(invitation=link, system="quickbooks", external_name="Co")
    for month in range(1, 10):
        recon = Reconciliation.objects.create(
            client=target, period=date(2025, month, 1), status="done"
        )
        Finding.objects.create(
            client=target, reconciliation=recon, code="stale_open_invoice", severity="low",
            amount=month, currency="USD", direction="AR overstated", reason="r",
            fingerprint=f"m{month}", fix={"action": "review"},
        )  # fmt: skip
        SyncRun.objects.create(client=target, kind="manual", status="failed", error="boom")
    assert queries(client, url) == few
    page = client.get(url).content.decode()
    assert "<svg" in page and "Sep 2025" in page and "Oct 2026" in page
    assert page.count('data-state="partly used"') == 4 and "c7@load.test" in page


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
