"""On a phone (390 px wide) a month's report, its customer balances and the reports list
scroll their wide tables in their own box: the page itself never scrolls sideways."""

from django.core.management import call_command
from django.utils import timezone

from reconciliation.models import Reconciliation
from sandbox.generator import generate
from tests.sandbox.conftest import sandbox_db

from .conftest import connect_generated_book, expect, screenshot

pytestmark = sandbox_db

WIDE = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


def test_report_balances_and_reports_list_do_not_scroll_sideways_on_a_phone(
    accountant_page, two_firms, sandbox
):
    client, page = two_firms.client_a, accountant_page
    today = timezone.now().astimezone(client.tzinfo).date()
    book = generate(40, seed=4, today=today, unseen=True)
    connect_generated_book(client, sandbox, book, "Phone")
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
