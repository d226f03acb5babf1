"""A missing invoice's fix in the browser, on a desktop and a 390 px phone: approving shows
exactly what will be written (number, lines, total, customer, its date after the books'
closing date), a fix QuickBooks fails stays in the queue marked "Fix failed" with why and a
retry, the retry writes it, and undoing it voids the invoice."""

import re
from decimal import Decimal

import pytest

from connections import retries
from connections.quickbooks.adapter import QuickBooksAdapter
from tests.sandbox.conftest import sandbox_db
from tests.test_fixes import books, invoices_of  # noqa: F401 - the fixture

from .conftest import expect, log_in, screenshot

pytestmark = sandbox_db
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def page(new_context, two_firms, live_server):
    context = new_context()
    log_in(context, two_firms.accountant_a, live_server)
    return context.new_page()


def both_sizes(page, name: str) -> None:
    screenshot(page, f"{name}-desktop")
    page.set_viewport_size(PHONE)
    screenshot(page, f"{name}-phone")
    page.set_viewport_size({"width": 1280, "height": 900})


def test_preview_failed_fix_retry_and_undo(page, books, two_firms, monkeypatch):  # noqa: F811
    monkeypatch.setattr(retries, "_wait", lambda state: 0.01)
    books.quickbooks_settings(book_close_date="2026-11-30")
    two_firms.firm_a.confirm_fixes_above = Decimal("500.00")
    two_firms.firm_a.save()
    finding = books.finding
    page.goto("/review/findings/")
    item = page.locator(f"#finding-{finding.pk}")
    item.get_by_role("button", name="Approve fix").click()

    panel = item.get_by_role("region", name=re.compile("^Create invoice SF-"))
    expect(panel).to_contain_text("Dated 1 Dec 2026, the first open day")
    expect(panel).to_contain_text("Cedar Roofing")
    expect(panel.get_by_role("row", name=re.compile("Gutter install"))).to_contain_text("500.00")
    expect(panel.get_by_role("row", name=re.compile("^Total"))).to_contain_text("685.00 USD")
    both_sizes(page, "fix-preview")

    confirm = panel.get_by_role("button", name=re.compile("^Confirm: Create invoice"))
    confirm.click()  # above the firm's 500.00: the browser asks for the second confirmation
    assert panel.get_by_role("checkbox").evaluate("box => box.validity.valueMissing")
    finding.refresh_from_db()
    assert finding.fix_failed_at is None and invoices_of(books) == []
    panel.get_by_role("checkbox", name=re.compile("is more than your firm's 500.00")).check()
    books.faults("quickbooks", error_rate=1.0)
    confirm.click()
    failed = item.get_by_role("alert").filter(has_text="Fix failed")
    expect(failed).to_contain_text("QuickBooks did not answer")
    expect(page.locator("#queue-summary")).to_contain_text("685.00 USD")  # still counted
    both_sizes(page, "fix-failed")

    books.faults("quickbooks")
    item.get_by_role("button", name="Retry fix").click()
    item.get_by_role("checkbox", name=re.compile("is more than your firm's")).check()
    item.get_by_role("button", name=re.compile("^Retry: Create invoice")).click()
    expect(item).to_contain_text("Fixed")
    expect(page.locator("#queue-summary")).to_contain_text("0 open findings")
    (created,) = invoices_of(books)
    assert created.TxnDate == "2026-12-01"
    both_sizes(page, "fix-done")

    page.once("dialog", lambda dialog: dialog.accept())
    item.get_by_role("button", name="Undo fix").click()
    expect(item).to_contain_text("Fix undone by")
    expect(item.get_by_role("button", name="Approve fix")).to_be_visible()
    assert QuickBooksAdapter(books.qbo_connection).invoices_by_id([created.Id])[0].voided
    both_sizes(page, "fix-undone")
