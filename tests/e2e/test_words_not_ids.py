"""Words, not ids, in the browser: after a sandbox client's month is reconciled, the report
page, its CSV download and the monthly email name customers, invoice numbers and deals, and
a record's link opens the sandbox's own page of that record, in the client's company."""

import csv
import re

from django.core.management import call_command
from django.utils import timezone

from reconciliation.models import Reconciliation
from reconciliation.report import report_data, send_report
from sandbox.generator import generate
from tests.sandbox.conftest import sandbox_db

from .conftest import connect_generated_book, expect, screenshot

pytestmark = sandbox_db


def test_the_report_csv_and_email_name_records_and_links_open_them(
    accountant_page, two_firms, sandbox, mailoutbox
):
    client, page = two_firms.client_a, accountant_page
    client.assigned_staff.add(two_firms.accountant_a)
    today = timezone.now().astimezone(client.tzinfo).date()
    written = connect_generated_book(client, sandbox, generate(40, seed=6, today=today), "Words")
    call_command("reconcile", client.slug, "--period", f"{today:%Y-%m}")
    recon = Reconciliation.objects.get(client=client)
    findings = report_data(recon)["findings"]
    duplicate = next(f for f in findings if f.code == "duplicate_invoice")
    missing = next(f for f in findings if f.code == "missing_invoice")
    customer, deal = duplicate.words.customer, missing.words.deal
    kept, voided = duplicate.words.invoices
    ids = [f"invoice {i}" for i in duplicate.invoice_ids] + [
        f"customer {duplicate.customer_id}",
        f"deal {missing.deal_id}",
    ]

    page.goto(f"/clients/{client.slug}/reconciliations/{recon.pk}/")
    table = page.get_by_role("table").filter(has_text="Proposed fix")
    row = table.get_by_role("row").filter(has_text="Duplicate invoice")
    expect(row).to_contain_text(f"Customer: {customer}")
    expect(row).to_contain_text(f"Invoices: {kept}, {voided}")
    expect(table.get_by_role("row").filter(has_text="Missing invoice")).to_contain_text(deal)
    main = page.get_by_role("main").inner_text()
    for said in ids:
        assert not re.search(rf"\b{re.escape(said)}\b", main), said
    assert "duplicate_invoice" not in main and "balance_mismatch" not in main
    screenshot(page, "words-report")

    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    with open(download.value.path(), newline="") as saved:
        rows = list(csv.DictReader(saved))
    mine = next(r for r in rows if r["Finding"].startswith("Duplicate invoice"))
    assert mine["Client"] == client.name and mine["Period"] == f"{today:%Y-%m}"
    assert mine["Customer"] == customer and mine["Invoice numbers"] == f"{kept}, {voided}"
    assert mine["Currency"] == duplicate.currency and mine["Amount"] == f"{duplicate.amount:.2f}"
    assert any(r["Deal"] == deal for r in rows)

    send_report(recon)
    email = mailoutbox[-1]
    for said in (email.body, email.alternatives[0][0]):
        assert customer in said and kept in said and voided in said
        assert deal.replace("“", "").replace("”", "") in said.replace("&ldquo;", "“")
        for bare in ids:
            assert not re.search(rf"\b{re.escape(bare)}\b", said), bare

    with page.context.expect_page() as opened:
        row.get_by_role("link", name=f"Invoice {voided} in QuickBooks").click()
    record = opened.value
    record.wait_for_load_state()
    assert f"companyId={written.realm_id}" in record.url
    expect(record.get_by_role("heading", name=f"Invoice {voided}")).to_be_visible()
    expect(record.get_by_role("main")).to_contain_text(customer)
    screenshot(record, "words-sandbox-invoice")
