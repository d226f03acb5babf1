"""A customer the books hold twice, in the browser: the finding shows both customers side by
side (names, email, phone, address, balances) with what each field contributed, and
approving its fix makes the copy inactive in QuickBooks."""

import re

import pytest

from reconciliation.models import Finding
from reconciliation.run import reconcile
from tests.sandbox.conftest import sandbox_db
from tests.test_duplicate_customers import NOV, active, keyed_twice  # noqa: F401 - fixture

from .conftest import expect, log_in, screenshot

pytestmark = sandbox_db


@pytest.fixture
def page(new_context, two_firms, live_server):
    context = new_context()
    log_in(context, two_firms.accountant_a, live_server)
    return context.new_page()


def test_both_customers_side_by_side_then_the_copy_made_inactive(page, keyed_twice):  # noqa: F811
    reconcile(keyed_twice.client, NOV)
    finding = Finding.objects.get(code="duplicate_customer")
    page.goto("/review/findings/")
    item = page.locator(f"#finding-{finding.pk}")
    expect(item).to_contain_text("“Maple Homes LLC” and “Maple Homes” look like one customer")
    table = item.get_by_role("table")
    expect(table).to_contain_text("Keep: QuickBooks customer “Maple Homes LLC”")
    expect(table.get_by_role("row", name=re.compile("^Email"))).to_contain_text(
        "office@maplehomes.example"
    )
    item.screenshot(path=str(screenshot(page, "duplicate-customer-queue").with_name(
        "duplicate-customer-finding.png")))  # fmt: skip

    item.get_by_role("button", name="Approve fix").click()
    panel = item.get_by_role("region", name=re.compile("^Make “Maple Homes” inactive"))
    expect(panel).to_contain_text("Maple Homes LLC")
    screenshot(page, "duplicate-customer-fix")
    panel.get_by_role("button", name=re.compile("^Confirm")).click()
    expect(item).to_contain_text("Fixed")
    assert active(keyed_twice)["Maple Homes"] is False
    screenshot(page, "duplicate-customer-fixed")
