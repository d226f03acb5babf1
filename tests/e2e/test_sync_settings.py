"""Sync settings in the browser: the income account is chosen from the books' own list,
and with the books down the page still works and says why."""

from connections.sync.models import SyncSettings
from tests.sandbox.conftest import sandbox_db

from .conftest import expect, log_in, screenshot

pytestmark = sandbox_db


def owner_page(new_context, two_firms, live_server, width: int = 1280):
    context = new_context()
    log_in(context, two_firms.owner_a, live_server)
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": 900})
    return page


def test_an_owner_picks_the_income_account_from_the_books(
    systems, new_context, two_firms, live_server
):
    page = owner_page(new_context, two_firms, live_server)
    page.goto(f"/clients/{two_firms.client_a.slug}/sync/settings/")
    account = page.get_by_label("Income account for new products")
    expect(account).to_have_value("Services")
    screenshot(page, "sync-settings-income-account")

    account.select_option(label="Sales of Product Income")
    page.get_by_role("button", name="Save settings").click()

    expect(page.get_by_role("status")).to_contain_text("Sync settings saved")
    settings = SyncSettings.for_client(two_firms.client_a)
    assert settings.income_account == "Sales of Product Income"

    narrow = owner_page(new_context, two_firms, live_server, width=390)
    narrow.goto(f"/clients/{two_firms.client_a.slug}/sync/settings/")
    expect(narrow.get_by_label("Income account for new products")).to_have_value(
        "Sales of Product Income"
    )
    screenshot(narrow, "sync-settings-income-account-390")


def test_with_the_books_down_the_settings_page_says_why(
    systems, new_context, two_firms, live_server
):
    systems.faults("quickbooks", error_rate=1.0)
    page = owner_page(new_context, two_firms, live_server, width=390)
    page.goto(f"/clients/{two_firms.client_a.slug}/sync/settings/")

    note = page.get_by_role("status").filter(has_text="could not be read from the books")
    expect(note).to_contain_text("The current choice, “Services”, is kept.")
    expect(page.get_by_label("Income account for new products")).to_be_disabled()
    screenshot(page, "sync-settings-books-down-390")
