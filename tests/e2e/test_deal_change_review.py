"""A deal invoiced short gains its missing line: the next sync puts it in the Sync review
queue, saying what the deal says now against what was invoiced; the accountant chooses
"Update the invoice to match the deal" and the invoice in the books is corrected."""

from decimal import Decimal

from sync.customers import run_customer_sync
from sync.models import ConflictStatus, RunKind, SyncConflict
from tests.sandbox.conftest import sandbox_db
from tests.test_invoice_deal_changes import FIRST_TWO, THIRD, add_line
from tests.test_invoice_sync import invoice_for

from .conftest import expect, screenshot

pytestmark = sandbox_db


def test_a_deal_changed_after_invoicing_is_reviewed_and_its_invoice_updated(
    systems, accountant_page
):
    company = systems.company(name="Cedar Roofing", zip="78701")
    run_customer_sync(systems.client, kind=RunKind.IMPORT, full=True)
    deal = systems.deal("Kitchen remodel", FIRST_TWO, company=company)
    systems.win(deal)
    run_customer_sync(systems.client)
    add_line(systems, deal, *THIRD)
    run_customer_sync(systems.client)

    page = accountant_page
    page.goto("/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sync review").click()
    main = page.get_by_role("main")
    expect(main).to_contain_text("Deal changed after its invoice was issued")
    expect(main).to_contain_text("1 line added (Painting: 1 x 900.00 USD)")
    expect(main).to_contain_text("3,300.00 USD")
    expect(main).to_contain_text("2,400.00 USD")
    screenshot(page, "deal-changed-review")

    page.get_by_role("button", name="Update the invoice to match the deal").click()

    expect(main).to_contain_text("Update the invoice to match the deal by accountant@alpha.test")
    screenshot(page, "deal-changed-updated")
    assert SyncConflict.objects.get().status == ConflictStatus.RESOLVED
    assert invoice_for(systems, deal).TotalAmt == Decimal("3300.00")
