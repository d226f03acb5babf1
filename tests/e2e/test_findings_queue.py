"""The month's findings in the browser: reconcile a client from its page, approve the fix of
a duplicate invoice in the Findings queue (by button and by keyboard) and watch the amount
at stake drop on the report and the dashboard while the books void the duplicate."""

import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from connections.quickbooks.adapter import QuickBooksAdapter
from reconciliation.models import Finding, FindingStatus
from sandbox.generator import generate
from tests.sandbox.conftest import sandbox_db

from .conftest import connect_generated_book, expect, screenshot

pytestmark = sandbox_db

CLIENT = "Alpha Secret Roofing"


@pytest.fixture
def books(two_firms, sandbox):
    """Firm A's client connected to a generated book with one planted problem of each kind,
    its history imported; nothing reconciled yet."""
    client = two_firms.client_a
    today = timezone.now().astimezone(client.tzinfo).date()
    connect_generated_book(
        client, sandbox, generate(40, seed=4, today=today), "Alpha Roofing books"
    )
    return QuickBooksAdapter(client.connections.get(system="quickbooks"))


def finding_item(page, finding: Finding):
    """The queue's entry for a finding: an article named for its kind."""
    return page.locator(f"#finding-{finding.pk}").and_(
        page.get_by_role("article", name=finding.code_label)
    )


def confirm_fix(item, title: str) -> None:
    """The fix's preview is shown in the item (what will be written); above the firm's
    amount it asks for the second confirmation too."""
    panel = item.get_by_role("region", name=re.compile(f"^{title}"))
    expect(panel).to_contain_text("exactly what will be written")
    box = panel.get_by_role("checkbox")
    if box.count():
        box.check()


def usd(amount: Decimal) -> str:
    return f"{amount:,.2f} USD"


def open_at_stake(client) -> Decimal:
    return sum(
        (f.amount for f in Finding.objects.filter(client=client, status=FindingStatus.OPEN)),
        Decimal("0.00"),
    )


def test_approving_a_duplicate_voids_it_and_the_amount_at_stake_drops(
    accountant_page, two_firms, books
):
    page, client = accountant_page, two_firms.client_a
    receivable_before = books.receivable()
    page.goto("/")
    page.get_by_role("link", name=CLIENT).click()
    expect(page.get_by_role("heading", name=CLIENT, level=1)).to_be_visible()
    page.get_by_label("Month").select_option(index=0)  # the month in progress
    page.get_by_role("button", name="Reconcile", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Reconciling")
    report_link = page.get_by_role("link", name="Report", exact=True)
    expect(report_link).to_have_count(1)
    screenshot(page, "client-page")

    at_stake = open_at_stake(client)
    duplicate = Finding.objects.get(client=client, code="duplicate_invoice")
    assert duplicate.fix["action"] == "void_invoice" and at_stake > duplicate.amount
    report_link.click()
    expect(page.get_by_role("main")).to_contain_text(usd(at_stake))
    screenshot(page, "report-before")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Findings").click()
    expect(page.get_by_role("heading", name="Findings to review")).to_be_visible()
    item = finding_item(page, duplicate)
    expect(item).to_contain_text(usd(duplicate.amount))
    # Both systems side by side: the deal and the two invoices, the differing date marked.
    expect(item.get_by_role("columnheader", name=re.compile("^Books invoice"))).to_have_count(2)
    expect(item.locator("tr.differs")).to_contain_text("Date")
    summary = page.locator("#queue-summary")
    expect(summary).to_contain_text(usd(at_stake))
    screenshot(page, "findings-queue")
    item.get_by_role("button", name="Approve fix").click()
    confirm_fix(item, "Void invoice")
    screenshot(page, "findings-queue-fix-preview")
    item.get_by_role("button", name=re.compile("^Confirm: Void invoice")).click()

    expect(item).to_contain_text("Fixed")
    expect(item.get_by_role("button", name="Approve fix")).to_have_count(0)
    expect(summary).to_contain_text(usd(at_stake - duplicate.amount))  # in place, no reload
    screenshot(page, "findings-queue-after-approve")
    voided = books.invoices_by_id([duplicate.fix["invoice_id"]])[0]
    assert voided.voided
    assert books.receivable() == receivable_before - duplicate.amount

    after = at_stake - duplicate.amount
    page.go_back()  # the report again, fresh from the server
    page.reload()
    expect(page.get_by_role("main")).to_contain_text(usd(after))
    expect(page.get_by_role("main")).not_to_contain_text("duplicate_invoice")
    screenshot(page, "report-after")
    page.goto("/")
    expect(page.get_by_role("row").filter(has_text=CLIENT)).to_contain_text(f"{after:,.2f}")


def test_j_then_a_approves_the_focused_finding(accountant_page, two_firms, books):
    page = accountant_page
    call_command("reconcile", two_firms.client_a.slug, "--period", f"{timezone.now():%Y-%m}")
    page.goto("/review/findings/")
    expect(page.get_by_role("heading", name="Findings to review")).to_be_visible()

    focused = page.locator(":focus")
    for _ in range(Finding.objects.count()):
        page.keyboard.press("j")
        if focused.get_by_role("button", name="Approve fix").count():
            break
    else:
        pytest.fail("no finding in the queue has a fix to approve")
    chosen = Finding.objects.get(pk=int(focused.get_attribute("id").removeprefix("finding-")))
    assert chosen.status == FindingStatus.OPEN
    page.keyboard.press("a")
    item = finding_item(page, chosen)
    confirm_fix(item, "")
    item.get_by_role("button", name=re.compile("^Confirm: ")).click()

    expect(item).to_contain_text("Fixed")
    chosen.refresh_from_db()
    assert chosen.status == FindingStatus.FIXED, chosen.decision_note
