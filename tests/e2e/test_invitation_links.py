"""Contractor links in the browser: a link that connected QuickBooks once cannot connect it
again from another device, and a link the accountant revoked from the client page shows the
contractor a clear "withdrawn" page."""

import re

import requests

from connections.invitations import do_create_invitation, invitation_path
from tests.sandbox.conftest import sandbox_db

from .conftest import expect, screenshot

pytestmark = sandbox_db


def test_a_used_link_cannot_connect_again_and_a_revoked_link_says_so(
    accountant_page, new_context, two_firms, sandbox, live_server
):
    used = do_create_invitation(
        two_firms.accountant_a, two_firms.client_a, email="boss@alpharoofing.test"
    )
    withdrawn = do_create_invitation(
        two_firms.accountant_a, two_firms.client_a, email="office@alpharoofing.test"
    )
    # Another client's company exists in the sandbox: the chooser must not pick it for them.
    other = requests.post(
        f"{sandbox}/sandbox/control/quickbooks/companies", json={"name": "Bravo Plumbing Books"},
        timeout=10,
    )  # fmt: skip
    assert other.status_code == 201
    used_link = live_server.url + invitation_path(used)
    withdrawn_link = live_server.url + invitation_path(withdrawn)

    # The contractor connects QuickBooks through the first link.
    contractor = new_context().new_page()
    contractor.goto(used_link)
    expect(contractor.get_by_role("heading", level=1)).to_have_text(
        "Connect Alpha Secret Roofing's systems for Alpha Books"
    )
    contractor.get_by_role("button", name="Connect QuickBooks").click()
    expect(contractor).to_have_title(re.compile("Connect to QuickBooks"))
    expect(
        contractor.get_by_role("radio", name=re.compile("Bravo Plumbing Books"))
    ).not_to_be_checked()
    contractor.get_by_label("Or create a new company named").fill("Alpha Roofing LLC")
    contractor.get_by_role("button", name="Connect", exact=True).click()
    # syncfirm's own page says which company goes to which client before storing anything
    expect(contractor.get_by_role("main")).to_contain_text("Alpha Secret Roofing")
    contractor.get_by_role("button", name="Connect QuickBooks Online", exact=True).click()
    expect(contractor.get_by_role("heading", name="Thank you")).to_be_visible()
    expect(contractor.get_by_role("main")).to_contain_text("connected to Alpha Roofing LLC")
    screenshot(contractor, "invitation-used-thank-you")

    # The same link on another device: QuickBooks is spent, only HubSpot can still connect.
    again = new_context().new_page()
    again.goto(used_link)
    quickbooks = again.locator("section").filter(has_text="QuickBooks Online")
    expect(quickbooks).to_contain_text("Connected through this link on")
    expect(quickbooks).to_contain_text("Alpha Roofing LLC")
    expect(quickbooks.get_by_role("button")).to_have_count(0)
    expect(again.get_by_role("button", name=re.compile("QuickBooks"))).to_have_count(0)
    expect(again.get_by_role("button", name="Connect HubSpot")).to_be_visible()
    screenshot(again, "invitation-used-opened-again")

    # The accountant sees both links and revokes the second one.
    page = accountant_page
    page.goto(f"/clients/{two_firms.client_a.slug}/")
    links = page.get_by_role("table").filter(has_text="office@alpharoofing.test")
    used_row = links.get_by_role("row").filter(has_text="boss@alpharoofing.test")
    expect(used_row).to_contain_text("Partly used")
    expect(used_row).to_contain_text("Alpha Roofing LLC")
    expect(used_row).to_contain_text("accountant@alpha.test")
    page.on("dialog", lambda dialog: dialog.accept())
    row = links.get_by_role("row").filter(has_text="office@alpharoofing.test")
    expect(row).to_contain_text("Open")
    row.get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("status").filter(has_text="withdrawn")).to_contain_text(
        "Link to office@alpharoofing.test withdrawn."
    )
    revoked_row = page.get_by_role("row").filter(has_text="office@alpharoofing.test")
    expect(revoked_row).to_contain_text("Withdrawn")
    expect(revoked_row.get_by_role("button")).to_have_count(0)
    assert withdrawn_link not in page.content(), "a sent link is never shown again"
    screenshot(page, "client-page-link-revoked")

    # The contractor opens the withdrawn link: a clear page, nothing to press.
    late = new_context().new_page()
    late.goto(withdrawn_link)
    expect(late.get_by_role("heading", level=1)).to_have_text("This link was withdrawn")
    expect(late.get_by_role("main")).to_contain_text("Alpha Books withdrew this link on")
    expect(late.get_by_role("button")).to_have_count(0)
    screenshot(late, "invitation-withdrawn")
