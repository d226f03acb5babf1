"""Sync settings in the browser: the income account is chosen from the books' own list,
and with the books down the page still works and says why."""

import random

from sync.models import SyncSettings
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


def test_the_matching_thresholds_show_what_the_last_learnt_run_expects(
    new_context, two_firms, live_server
):
    """The thresholds beside the expected precision and review share of the client's last
    learnt run; a review threshold above the link threshold is refused next to it."""
    from sync.learnt import keep
    from sync.linkage import Matcher, Party

    rng = random.Random(7)  # noqa: S311 - test data
    words = sorted(
        {"".join(rng.choice("bcdfghjklmnprstvwz") + rng.choice("aeiou") for _ in "abc")
         for _ in range(400)}
    )[:220]  # fmt: skip
    books = [Party(f"q{n}", f"{w} Roofing LLC", postal_code=f"{78000 + n}", city="Austin")
             for n, w in enumerate(words)]  # fmt: skip
    # A third respelled, a quarter with the postal code one off: some sure, some for review.
    crm = [
        Party(f"c{n}", f"{w} Roofing" if n % 3 else f"{w[:2] + w[3:]} Rofing",
              postal_code=f"{78000 + n + (n % 4 == 0)}", city="Austin")
        for n, w in enumerate(words[:210])
    ]  # fmt: skip
    matcher = Matcher(books)
    matcher.fit(crm)
    settings = SyncSettings.for_client(two_firms.client_a)
    keep(two_firms.client_a, settings, None, matcher, matcher.link_all(crm))

    page = owner_page(new_context, two_firms, live_server)
    page.goto(f"/clients/{two_firms.client_a.slug}/sync/settings/")
    expect(page.get_by_label("Link without review at or above (%)")).to_have_value("90.0")
    note = page.locator(".matching-note")
    expect(note).to_contain_text("from 220 customers in the books and 210 CRM records")
    expect(note).to_contain_text("expected to be")
    expect(page.locator(".matching-expected")).to_contain_text("90 % (this setting)")
    matching = screenshot(page, "sync-settings-matching")
    page.locator("fieldset.matching").screenshot(path=str(matching.with_stem("matching-part")))

    page.get_by_label("Send to review at or above (%)").fill("95")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("div#id_review_from_percent_error")).to_contain_text(
        "Review must start below the link without review (90.0 %)"
    )
    refused = screenshot(page, "sync-settings-matching-refused")
    page.locator("fieldset.matching").screenshot(path=str(refused.with_stem("refused-part")))
    assert SyncSettings.for_client(two_firms.client_a).review_from_percent == 20
