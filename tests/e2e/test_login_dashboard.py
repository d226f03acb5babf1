"""Log in on allauth's page with email and password and land on the dashboard of clients."""

import re

from tests.factories import TEST_PASSWORD
from tests.sandbox.conftest import sandbox_db

from .conftest import expect, screenshot

pytestmark = sandbox_db


def test_it_logs_in_and_lists_the_firms_clients(new_context, two_firms):
    page = new_context().new_page()
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))  # anonymous: sent to log in

    page.get_by_label("Email").fill(two_firms.accountant_a.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign In").click()

    expect(page.get_by_role("heading", name="Clients")).to_be_visible()
    expect(page.get_by_role("link", name="Alpha Secret Roofing")).to_be_visible()
    expect(page.get_by_role("link", name="Bravo Plumbing")).to_have_count(0)  # firm B's
    nav = page.get_by_role("navigation", name="Main")
    for name in ("Clients", "Findings", "Sync review", "Staff"):
        expect(nav.get_by_role("link", name=name, exact=True)).to_be_visible()
    screenshot(page, "dashboard")
