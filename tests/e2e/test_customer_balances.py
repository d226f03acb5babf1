"""Customer balances in the browser: from a month's report, the section on customer
balances leads to the page of every customer, where a hand-keyed invoice shows as a
difference no finding explains, and a missing invoice as one that a finding does."""

from django.core.management import call_command
from django.utils import timezone

from reconciliation.models import CustomerBalance, Reconciliation
from sandbox.generator import generate
from tests.sandbox.conftest import sandbox_db

from .conftest import connect_generated_book, expect, screenshot

pytestmark = sandbox_db


def test_the_report_leads_to_every_customers_balance(accountant_page, two_firms, sandbox):
    client, page = two_firms.client_a, accountant_page
    today = timezone.now().astimezone(client.tzinfo).date()
    book = generate(40, seed=4, today=today, unseen=True)
    written = connect_generated_book(client, sandbox, book, "Balances")
    call_command("reconcile", client.slug, "--period", f"{today:%Y-%m}")
    recon = Reconciliation.objects.get(client=client)
    hand_keyed = next(
        p
        for p in written.answer_key
        if p["code"] == "balance_mismatch" and p["invoice_ids"] and not p["deal_id"]
    )
    row = CustomerBalance.objects.get(client=client, customer_id=hand_keyed["customer_id"])
    missing = next(p for p in written.answer_key if p["code"] == "missing_invoice")
    explained = CustomerBalance.objects.get(client=client, customer_id=missing["customer_id"])

    page.goto(f"/clients/{client.slug}/reconciliations/{recon.pk}/")
    section = page.locator("section#customer-balances")
    expect(section.get_by_role("heading", name="Customer balances")).to_be_visible()
    expect(section).to_contain_text(row.name)
    screenshot(page, "report-customer-balances")
    section.get_by_role("link", name="Every customer's balance").click()

    expect(page.get_by_role("heading", name="Customer balances", level=1)).to_be_visible()
    mine = page.get_by_role("row").filter(has_text=row.name)
    expect(mine).to_contain_text(f"{row.unexplained:,.2f} USD")
    other = page.get_by_role("row").filter(has_text=explained.name)
    expect(other).to_contain_text("Missing invoice")
    screenshot(page, "customer-balances")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    assert download.value.suggested_filename.endswith("customer-balances.csv")
