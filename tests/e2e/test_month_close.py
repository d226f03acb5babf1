"""An accountant closes October from the close board: reconciles it, carries each finding
with a note, sends the report and signs it off; then the books change (a copy of an invoice
keyed by hand in October), October is reconciled again, and the month reads "changed since
sign-off" with the difference in words while what was signed off stands. The board shows
closed, ready and blocked for different clients and months, at desktop and phone width."""

import re
from datetime import date, timedelta

import pytest
from django.core import mail
from django.utils import timezone
from quickbooks.objects.invoice import Invoice as QboInvoice

from connections.quickbooks.adapter import QuickBooksAdapter
from reconciliation.models import Finding, MonthClose, Reconciliation
from sandbox.generator import generate
from sync.models import SyncRun
from tests.factories import ClientFactory, ConnectionFactory
from tests.sandbox.conftest import sandbox_db

from .conftest import connect_generated_book, expect, screenshot
from .test_findings_queue import CLIENT

pytestmark = sandbox_db

OCT = date(2026, 10, 1)
PHONE, DESKTOP = 390, 1280
SIDEWAYS = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.fixture
def october_book(two_firms, sandbox):
    """Firm A's client on a generated book whose planted problems date from October; a
    second client ready to sign October off (connected, reconciled, reported, nothing
    found); a third never connected."""
    book = generate(40, seed=4, today=date(2026, 10, 20))
    written = connect_generated_book(two_firms.client_a, sandbox, book, "October books")
    ready = ClientFactory(firm=two_firms.firm_a, name="Beta Decks", slug="beta-decks")
    blocked = ClientFactory(firm=two_firms.firm_a, name="Gamma Gutters", slug="gamma-gutters")
    for client in (ready, blocked):
        client.assigned_staff.add(two_firms.accountant_a)
    for system in ("quickbooks", "hubspot"):
        ConnectionFactory(client=ready, system=system)
    SyncRun.objects.create(client=ready, kind="manual", status="succeeded")
    now = timezone.now()
    Reconciliation.objects.create(client=ready, period=OCT, status="done", finished_at=now,
                                  report_sent_at=now)  # fmt: skip
    return book, written


def key_a_copy_by_hand(client, book, written) -> None:
    """In QuickBooks, a copy of one of October's invoices keyed by hand a day later: the
    kind of duplicate a person makes after the sync already sent it."""
    qb = QuickBooksAdapter(client.connections.get(system="quickbooks"))._client()[0]
    planted = {p.deal_key for p in book.answer_key}
    original = next(
        i for i in book.invoices
        if i.deal_key and i.deal_key not in planted and OCT <= i.txn_date <= date(2026, 10, 20)
    )  # fmt: skip
    source = QboInvoice.get(written.ids[original.key], qb=qb)
    lines = [
        {
            "DetailType": "SalesItemLineDetail",
            "Amount": str(line.Amount),
            "SalesItemLineDetail": {
                "ItemRef": {"value": line.SalesItemLineDetail.ItemRef.value},
                "Qty": str(line.SalesItemLineDetail.Qty),
                "UnitPrice": str(line.SalesItemLineDetail.UnitPrice),
            },
        }
        for line in source.Line
        if line.DetailType == "SalesItemLineDetail"
    ]
    copy = QboInvoice.from_json(
        {"CustomerRef": {"value": source.CustomerRef.value}, "DocNumber": "M-777",
         "TxnDate": (original.txn_date + timedelta(days=1)).isoformat(), "Line": lines}
    )  # fmt: skip
    copy.save(qb=qb)


def cell(page, client: str, month: str):
    return page.get_by_role("link", name=re.compile(f"^{client}, {month}: "))


def show_board(page) -> None:
    """The board up to November 2026 (the months these books are about), every client."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Close").click()
    expect(page.get_by_role("heading", name="Month-end close", level=1)).to_be_visible()
    page.get_by_label("Up to").fill("2026-11")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_label("Whose clients")).to_have_value("mine")


def no_sideways_scroll(page, name: str) -> None:
    for width in (DESKTOP, PHONE):
        page.set_viewport_size({"width": width, "height": 900})
        screenshot(page, f"close-{name}-{width}")
        assert page.evaluate(SIDEWAYS) <= 0, f"{name} scrolls sideways at {width} px"
    page.set_viewport_size({"width": DESKTOP, "height": 900})


def test_october_is_closed_from_the_board_and_a_later_change_shows_as_changed_since_sign_off(
    accountant_page, two_firms, october_book
):
    page, client = accountant_page, two_firms.client_a
    book, written = october_book
    page.goto("/")
    show_board(page)
    expect(cell(page, CLIENT, "October 2026")).to_contain_text("blocked")
    expect(cell(page, "Beta Decks", "October 2026")).to_contain_text("ready")
    expect(cell(page, "Gamma Gutters", "October 2026")).to_contain_text("blocked")
    expect(page.get_by_role("row").filter(has_text="Gamma Gutters")).to_contain_text(
        "No books connected; No CRM connected."
    )

    # October: reconcile it from its close page.
    cell(page, CLIENT, "October 2026").click()
    checklist = page.get_by_role("region", name="Checklist")
    expect(checklist).to_contain_text("October 2026 has not been reconciled.")
    page.get_by_role("button", name="Reconcile October 2026").click()
    expect(page.get_by_role("status").first).to_contain_text("Reconciling October 2026")
    expect(checklist).to_contain_text("Done: October 2026 reconciled after it ended.")
    expect(checklist).to_contain_text("The report of the latest run has not been sent.")
    open_count = Finding.objects.filter(client=client, status="open").count()
    assert open_count >= 6  # one of each planted kind at least
    expect(checklist).to_contain_text(
        f"{open_count} open findings are neither decided nor carried with a note."
    )
    screenshot(page, "close-october-blocked")

    # Every finding carried with a note; the report sent; then signed off.
    findings = page.get_by_role("region", name="Findings of October 2026")
    waiting = findings.get_by_role("listitem").filter(
        has=page.get_by_role("button", name="Carry with this note")
    )
    for n in range(open_count):
        expect(waiting).to_have_count(open_count - n)
        waiting.first.get_by_role("textbox").fill(f"Asked the contractor ({n + 1}).")
        waiting.first.get_by_role("button", name="Carry with this note").click()
        expect(page.get_by_role("status").first).to_contain_text("Carried with your note.")
    expect(findings.get_by_role("button", name="Carry with this note")).to_have_count(0)
    page.get_by_role("button", name="Send the report").click()
    expect(page.get_by_role("status").first).to_contain_text("The report for October 2026 was")
    assert any("reconciliation for October 2026" in m.subject for m in mail.outbox)
    expect(page.get_by_role("status").last).to_contain_text("ready to sign off")
    page.get_by_role("button", name="Sign off October 2026").click()
    expect(page.get_by_role("status").first).to_contain_text("October 2026 signed off by you.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("closed")
    signed = page.get_by_role("region", name="As signed off")
    expect(signed).to_contain_text(f"{open_count} findings at the month's end")
    signed_text = " ".join(signed.text_content().split())
    no_sideways_scroll(page, "october-signed-off")

    # The books change after the sign-off; October is reconciled again.
    key_a_copy_by_hand(client, book, written)
    page.get_by_role("button", name="Reconcile October 2026").click()
    expect(page.get_by_role("status").first).to_contain_text("Reconciling October 2026")
    expect(page.get_by_role("heading", level=1)).to_contain_text("closed · changed since sign-off")
    changed = page.get_by_role("region", name="Changed since sign-off")
    expect(changed).to_contain_text("New problem: Duplicate invoice")
    expect(changed).to_contain_text("M-777")
    # What was signed off stands: the same findings and totals, not the new run's.
    expect(page.get_by_role("region", name="As signed off")).to_have_text(signed_text)
    assert MonthClose.objects.get(client=client, period=OCT).snapshot["count"] == open_count
    no_sideways_scroll(page, "october-changed")

    # The month's report says so too.
    page.get_by_role("link", name="The month's report").click()
    expect(page.get_by_role("main")).to_contain_text("October 2026 was signed off")
    expect(page.get_by_role("main")).to_contain_text("New problem: Duplicate invoice")

    # The board: closed (changed since sign-off), ready and blocked, worst first.
    show_board(page)
    expect(cell(page, CLIENT, "October 2026")).to_contain_text("closed · changed since sign-off")
    expect(cell(page, CLIENT, "November 2026")).to_contain_text("blocked")
    expect(cell(page, "Beta Decks", "October 2026")).to_contain_text("ready")
    expect(cell(page, "Gamma Gutters", "September 2026")).to_contain_text("blocked")
    names = page.get_by_role("rowheader").all_inner_texts()
    # Gamma: every month blocked; Beta: two blocked, October ready; Alpha: two blocked,
    # October closed.
    assert names == ["Gamma Gutters", "Beta Decks", CLIENT], names
    page.get_by_label("Whose clients").select_option(label=f"Assigned to {two_firms.owner_a.email}")
    expect(page.get_by_text("No client matches.")).to_be_visible()
    page.get_by_label("Whose clients").select_option(label="Every client")
    expect(page.get_by_role("rowheader")).to_have_count(3)
    no_sideways_scroll(page, "board")
