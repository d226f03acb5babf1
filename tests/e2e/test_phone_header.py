"""On a phone (390 x 844) the header is two short rows, not a third of the screen: the
name and the account menu, then every section in one row that scrolls sideways. Each link
is reachable and works, with scripts on or off."""

import pytest

from tests.factories import MembershipFactory
from tests.sandbox.conftest import sandbox_db

from .conftest import expect, log_in, screenshot

pytestmark = sandbox_db

SECTIONS = ("Clients", "Findings", "Sync review", "Reports", "Close", "Staff", "Notices")


@pytest.mark.parametrize("scripts", [True, False], ids=["scripts", "no-scripts"])
def test_it_keeps_the_header_short_and_every_link_reachable_on_a_phone(
    new_context, two_firms, live_server, scripts
):
    context = new_context()
    log_in(context, two_firms.owner_a, live_server)
    page = context.new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    if not scripts:
        page.route("**/*.js", lambda route: route.abort())
    page.goto("/")
    header = page.get_by_role("banner")
    height = header.evaluate("el => el.getBoundingClientRect().height")
    assert height <= 130, f"the header takes {height:.0f} of 844 px"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # the page stays put
    screenshot(page, f"phone-header-{'scripts' if scripts else 'no-scripts'}")

    nav = page.get_by_role("navigation", name="Main")
    for name in SECTIONS:
        link = nav.get_by_role("link", name=name)
        link.scroll_into_view_if_needed()
        expect(link).to_be_in_viewport()
    nav.get_by_role("link", name="Staff").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Staff")

    page.get_by_role("banner").get_by_text(two_firms.owner_a.email).click()  # the account menu
    expect(page.get_by_role("link", name="Log out")).to_be_in_viewport()


def test_a_member_of_two_firms_keeps_the_firm_switch_in_the_short_header(
    new_context, two_firms, live_server
):
    MembershipFactory(user=two_firms.owner_a, firm=two_firms.firm_b, role="accountant")
    context = new_context()
    log_in(context, two_firms.owner_a, live_server)
    page = context.new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/")
    header = page.get_by_role("banner")
    assert header.evaluate("el => el.getBoundingClientRect().height") <= 130
    expect(header.get_by_label("Firm")).to_be_in_viewport()
    expect(header.get_by_text(two_firms.owner_a.email)).to_be_in_viewport()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "phone-header-two-firms")
