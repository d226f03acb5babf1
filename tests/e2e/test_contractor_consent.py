"""The contractor's invitation in the browser: the accountant sends it from the client page,
the contractor opens the emailed link on their own device (no login), connects QuickBooks on
Intuit's consent page, confirms on syncfirm's page which company goes to which client, and the
accountant's client page shows QuickBooks connected."""

import re

from tests.sandbox.conftest import sandbox_db

from .conftest import expect, screenshot

pytestmark = sandbox_db

CONTRACTOR = "boss@alpharoofing.test"


def test_the_contractor_connects_quickbooks_from_the_emailed_link(
    accountant_page, new_context, two_firms, sandbox, mailoutbox
):
    page = accountant_page
    page.goto("/")
    page.get_by_role("link", name="Alpha Secret Roofing").click()
    connections = page.get_by_role("region", name="Connections")
    expect(connections).to_contain_text("Not connected")
    # Acting at once: the panel refreshes itself every 5 s and takes a half-typed email along.
    page.get_by_label("Contractor's email").fill(CONTRACTOR)
    page.get_by_role("button", name="Create invitation").click()
    expect(page.get_by_role("status").filter(has_text="Sent to")).to_contain_text(CONTRACTOR)
    shown = page.get_by_label("Invitation link").input_value()  # to copy, until the refresh
    screenshot(page, "client-page-invitation-sent")

    assert len(mailoutbox) == 1 and mailoutbox[0].to == [CONTRACTOR]
    link = re.search(r"https?://\S+/connect/\S+", mailoutbox[0].body).group(0)
    assert link == shown

    contractor = new_context().new_page()  # their own browser: no session, no login
    contractor.goto(link)
    expect(contractor.get_by_role("heading", level=1)).to_contain_text(
        "Connect Alpha Secret Roofing's systems for Alpha Books"
    )
    screenshot(contractor, "contractor-invitation")
    contractor.get_by_role("button", name="Connect QuickBooks").click()

    expect(contractor).to_have_title(re.compile("Connect to QuickBooks"))
    expect(contractor.get_by_role("heading", level=1)).to_contain_text("Intuit sandbox")
    contractor.get_by_label("Or create a new company named").fill("Alpha Roofing LLC")
    screenshot(contractor, "contractor-intuit-consent")
    contractor.get_by_role("button", name="Connect", exact=True).click()

    # Back at syncfirm: which company goes to which client, before anything is stored.
    expect(contractor.get_by_role("heading", level=1)).to_contain_text(
        "Connect QuickBooks Online for Alpha Secret Roofing"
    )
    expect(contractor.get_by_role("main")).to_contain_text("Alpha Roofing LLC")
    screenshot(contractor, "contractor-confirm-company")
    contractor.get_by_role("button", name="Connect QuickBooks Online", exact=True).click()

    expect(contractor.get_by_role("heading", name="Thank you")).to_be_visible()
    expect(contractor.get_by_role("main")).to_contain_text("QuickBooks Online: Active")
    expect(contractor.get_by_role("link", name="Connect HubSpot too")).to_be_visible()
    screenshot(contractor, "contractor-thank-you")

    page.reload()
    card = connections.get_by_role("article", name="QuickBooks Online")
    expect(card).to_contain_text("Active")
    expect(card).to_contain_text("by the contractor")
    expect(card).to_contain_text("Alpha Roofing LLC")
    screenshot(page, "client-page-connected")
    page.goto("/")
    expect(page.get_by_role("row").filter(has_text="Alpha Secret Roofing")).to_contain_text(
        "QuickBooks Online: Active"
    )
