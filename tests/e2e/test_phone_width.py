"""On a phone (390 px wide) a month's report, its customer balances and the reports list
scroll their wide tables in their own box: the page itself never scrolls sideways."""

import requests
from django.core.management import call_command
from django.utils import timezone

from connections.sync.customers import run_customer_sync
from connections.sync.models import RunKind
from reconciliation.models import Reconciliation
from sandbox.generator import generate
from sandbox.seed_book import write_book
from tests.sandbox.conftest import sandbox_db

from .conftest import expect, screenshot

pytestmark = sandbox_db

WIDE = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


def test_report_balances_and_reports_list_do_not_scroll_sideways_on_a_phone(
    accountant_page, two_firms, sandbox
):
    client, page = two_firms.client_a, accountant_page
    today = timezone.now().astimezone(client.tzinfo).date()
    written = write_book(generate(40, seed=4, today=today, unseen=True), sandbox, "Phone")
    call_command(
        "connect_sandbox", client.slug, realm_id=written.realm_id, portal_id=written.portal_id
    )
    for path in (
        f"quickbooks/companies/{written.realm_id}",
        f"hubspot/portals/{written.portal_id}",
    ):
        requests.patch(f"{sandbox}/sandbox/control/{path}", json={"webhook_url": ""}, timeout=10)
    run_customer_sync(client, kind=RunKind.IMPORT, full=True)
    call_command("reconcile", client.slug, "--period", f"{today:%Y-%m}")
    recon = Reconciliation.objects.get(client=client)

    page.set_viewport_size({"width": 390, "height": 844})
    for name, url, heading in (
        ("report", f"/clients/{client.slug}/reconciliations/{recon.pk}/", f"{today:%B %Y}"),
        ("balances", f"/clients/{client.slug}/balances/{today:%Y-%m}/", "Customer balances"),
        ("reports", "/reports/", "Monthly reports"),
    ):
        page.goto(url)
        expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
        screenshot(page, f"phone-{name}")
        assert page.evaluate(WIDE) <= 0, f"{name} scrolls sideways at 390 px"
