"""A failed reconciliation, as an accountant meets it in the browser: flagged in words on the
dashboard, its report saying what failed, the last run that went through, and a button that
starts the month again — on a desktop and on a phone."""

from datetime import date

import pytest
from django.utils import timezone

from reconciliation import run as recon_run
from reconciliation.models import Reconciliation, ReconStatus
from tests.sandbox.conftest import sandbox_db

from .conftest import expect, log_in, screenshot

pytestmark = sandbox_db


@pytest.mark.parametrize("width, height", [(1280, 900), (390, 844)])
def test_a_failed_month_is_flagged_explained_and_started_again(
    new_context, two_firms, live_server, width, height
):
    october = Reconciliation.objects.create(
        client=two_firms.client_a,
        period=date(2026, 10, 1),
        status=ReconStatus.DONE,
        stage="Finished",
        finished_at=timezone.now(),
        counts={"invoices": 3, "credits": 0, "won_deals": 3, "crm_read": True},
    )
    failed = recon_run.reconcile(two_firms.client_a, date(2026, 11, 1))  # nothing connected
    context = new_context()
    context.set_default_timeout(15_000)
    log_in(context, two_firms.accountant_a, live_server)
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": height})

    page.goto("/")
    flag = page.get_by_role("link", name="failed November 2026 failed to reconcile")
    expect(flag).to_be_visible()
    screenshot(page, f"failed-run-dashboard-{width}")
    flag.click()

    expect(page.get_by_role("heading", name="November 2026 Failed")).to_be_visible()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("did not finish: nothing was compared")
    expect(alert).to_contain_text("has no connected accounting system; connect it first.")
    expect(page.get_by_text("No open findings")).to_have_count(0)
    expect(alert.get_by_role("link", name="October 2026, done")).to_have_attribute(
        "href", f"/clients/alpha-roofing/reconciliations/{october.pk}/"
    )
    expect(page.get_by_role("link", name="Download CSV")).to_have_count(0)
    box = alert.bounding_box()  # what failed is read whole, without scrolling sideways
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, box
    screenshot(page, f"failed-run-report-{width}")

    page.goto("/clients/alpha-roofing/")
    expect(
        page.get_by_text("November 2026 failed to reconcile: Alpha Secret Roofing has no")
    ).to_be_visible()
    expect(page.get_by_text("No open findings")).to_have_count(0)
    screenshot(page, f"failed-run-client-{width}")
    page.get_by_role("link", name="What failed").click()

    page.get_by_role("button", name="Start November 2026 again").click()
    again = Reconciliation.objects.exclude(pk__in=[october.pk, failed.pk]).get()
    expect(page).to_have_url(f"{live_server.url}/clients/alpha-roofing/reconciliations/{again.pk}/")
    expect(page.get_by_text("Started November 2026 again.")).to_be_visible()
