"""An accountant reconciles November, then December, then November again from the client
page, and reads the dashboard, the client page, November's report and the findings queue:
each planted problem once, open since November for two months, in every figure; and none of
these pages scrolls sideways on a phone."""

import re
from datetime import date
from decimal import Decimal

import pytest

from reconciliation.models import Finding, FindingStatus
from reconciliation.views import QUEUE_PAGE
from sandbox.generator import generate
from tests.sandbox.conftest import sandbox_db
from tests.test_ledger_months import about, each_planted_once

from .conftest import connect_generated_book, expect, screenshot
from .test_findings_queue import CLIENT, finding_item, usd

pytestmark = sandbox_db

NOV, DEC = date(2026, 11, 1), date(2026, 12, 1)
PHONE, DESKTOP = 390, 1280
# What sticks out past the viewport's right edge while its parent does not: the culprits.
WIDE = """() => {
  const edge = document.documentElement.clientWidth;
  const out = (el) => el.getBoundingClientRect().right > edge + 0.5;
  return [...document.querySelectorAll("body *")]
    .filter((el) => out(el) && !out(el.parentElement) && !el.closest(".table-scroll"))
    .map((el) => `${el.tagName.toLowerCase()}.${el.className} in ${el.parentElement.tagName}`);
}"""


@pytest.fixture
def november_book(two_firms, sandbox):
    """Firm A's client on a generated book whose planted problems all date from November;
    history imported, nothing reconciled."""
    client = two_firms.client_a
    book = generate(40, seed=4, today=date(2026, 11, 15))
    return connect_generated_book(client, sandbox, book, "Ledger books")


def reconcile(page, month: str) -> None:
    page.get_by_label("Month", exact=True).select_option(label=month)
    page.get_by_role("button", name="Reconcile", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text(f"Reconciling {month}")


def at_both_widths(page, name: str) -> None:
    """Screenshots at desktop and phone width; at the phone's, nothing scrolls sideways
    (a wide table scrolls inside its own box)."""
    for width in (DESKTOP, PHONE):
        page.set_viewport_size({"width": width, "height": 900})
        screenshot(page, f"ledger-{name}-{width}")
        if width == PHONE:
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, (name, width, overflow, page.evaluate(WIDE))
    page.set_viewport_size({"width": DESKTOP, "height": 900})


def test_november_december_november_from_the_client_page_counts_each_problem_once(
    accountant_page, two_firms, november_book
):
    page, client, key = accountant_page, two_firms.client_a, november_book.answer_key
    page.goto("/")
    page.get_by_role("link", name=CLIENT).click()
    expect(page.get_by_role("heading", name=CLIENT, level=1)).to_be_visible()
    for month in ("November 2026", "December 2026", "November 2026"):
        reconcile(page, month)

    ledger = list(Finding.objects.filter(client=client))
    each_planted_once(key, [(f.code, f.deal_id, f.invoice_ids) for f in ledger], "ledger")
    planted = [f for f in ledger if any(about(p, f.code, f.deal_id, f.invoice_ids) for p in key)]
    assert {(f.first_period, f.months_open) for f in planted} == {(NOV, 2)}
    # December may see more (an invoice gone stale since November's end); November may not.
    nov_count, nov_amount = len(planted), sum((f.amount for f in planted), Decimal("0.00"))
    open_now = [f for f in ledger if f.status == FindingStatus.OPEN]
    count, at_stake = len(open_now), sum((f.amount for f in open_now), Decimal("0.00"))
    assert all(f.code == "stale_open_invoice" for f in open_now if f not in planted)

    # The client page: a row per run, each month's figure once, however often it was run.
    history = page.get_by_role("table").filter(has_text="Open at month end")

    def run_rows(month: str, n: int, amount: Decimal):
        """The history's rows of a month's runs that read: done, n open, amount at stake."""
        said = rf"^{month} Done {n} {re.escape(usd(amount))} "
        return history.get_by_role("row", name=re.compile(said))

    november = run_rows("November 2026", nov_count, nov_amount)
    expect(november).to_have_count(1)  # the first run of November was replaced by the third
    replaced = history.get_by_role("row", name=re.compile("replaced by a later run"))
    expect(replaced).to_have_count(1)
    expect(run_rows("December 2026", count, at_stake)).to_have_count(1)
    expect(history.get_by_role("row")).to_have_count(4)  # the header and three runs
    # The chart: a point per month (not per run), as its description reads them out.
    months = (
        rf"Nov 2026: {nov_count} findings, {re.escape(usd(nov_amount))}\. "
        rf"Dec 2026: {count} findings, {re.escape(usd(at_stake))}\.\s*$"
    )
    expect(page.get_by_role("img", name=re.compile(months))).to_have_count(1)
    expect(page.get_by_role("button", name=f"Review {count} findings")).to_be_visible()
    at_both_widths(page, "client-page")

    # November's report: every planted problem open since November, two months.
    november.first.get_by_role("link", name="Report", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile("^November 2026"), level=1)).to_be_visible()
    main = page.get_by_role("main")
    expect(main).to_contain_text(f"{nov_count} open findings")
    expect(main).to_contain_text(usd(nov_amount))
    listed = main.get_by_role("table").filter(has_text="Open since").get_by_role("row")
    expect(listed).to_have_count(nov_count + 1)  # and the header
    since = re.compile(r"Nov 2026\s*2 months")  # "Open since": first seen, months open
    expect(listed.filter(has_text=since)).to_have_count(nov_count)
    at_both_widths(page, "november-report")

    # The dashboard: the client's row, its amount at stake summed once.
    page.goto("/")
    row = page.get_by_role("row").filter(has_text=CLIENT)
    expect(row).to_contain_text(usd(at_stake))
    expect(row.get_by_role("link", name=f"{count} open findings of {CLIENT}")).to_be_visible()
    at_both_widths(page, "dashboard")

    # The findings queue: the same totals; each planted problem an item of its own.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Findings").click()
    summary = page.locator("#queue-summary")
    expect(summary).to_contain_text(f"{count} open findings")
    expect(summary).to_contain_text(usd(at_stake))
    for finding in sorted(open_now, key=lambda f: (-f.amount, f.pk))[:QUEUE_PAGE]:
        expect(finding_item(page, finding)).to_have_count(1)
    at_both_widths(page, "findings-queue")
