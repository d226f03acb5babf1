"""Words, not ids: a finding reads the same on the report page, in the monthly email and in
the CSV (one source, `reconciliation/wording.py`), naming customers, deals, invoice numbers
and items; codes by their labels, money with its currency; links open the record in the
right company (QuickBooks' companyId, HubSpot's portal), and in the demo the sandbox's own
record page."""

import csv
import io
import re
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from html import unescape

import pytest
import requests
from django.urls import reverse

from connections.naming import Accounts
from connections.providers import hubspot_record_url, quickbooks_record_url
from dashboard.templatetags.display import money
from reconciliation.compare import compare
from reconciliation.detectors import SnapDeal, SnapInvoice
from reconciliation.models import Finding, Reconciliation
from reconciliation.report import CSV_COLUMNS, report_data, send_report
from reconciliation.wording import BookNames, describe
from sandbox.generator import generate
from syncfirm.money import plain_amount

from .sandbox.conftest import sandbox_db
from .test_reconciliation import reconciled

# "customer 19", "invoice 58", "item 6", "deal 1203": a bare id where a name belongs.
BARE_ID = re.compile(r"\b(customer|invoice|item|deal|payment|credit memo) \d+\b", re.IGNORECASE)
RAW_MONEY = re.compile(r"\b\d{4,}\.\d\d\b")  # 55591.00: money without grouping


@dataclass
class Seen:
    code: str = "duplicate_invoice"
    reason: str = "invoices SF-1 and M-9 bill the same lines to the same customer, 2 days apart"
    deal_id: str = "1203"
    invoice_ids: tuple = ("58", "59")
    customer_id: str = "19"
    fix: dict | None = None


NAMES = BookNames(
    customers={"19": "Acme Builders"},
    invoices={"58": "SF-1", "59": "M-9"},
    deals={"1203": "Kitchen remodel"},
    items={"6": "Drywall patch"},
    accounts=Accounts("quickbooks", "9130355", "hubspot", "4242"),
)


def test_it_names_the_customer_deal_and_invoices_not_their_ids():
    words = describe(Seen(fix={"words": "Void invoice M-9 (1,200.00 USD); keep SF-1."}), NAMES)
    assert words.title == "Duplicate invoice"
    assert words.sentence.startswith("Invoices SF-1 and M-9 bill the same lines")
    assert words.about == "Customer: Acme Builders · Deal: “Kitchen remodel” · Invoices: SF-1, M-9"
    assert words.fix == "Void invoice M-9 (1,200.00 USD); keep SF-1."
    assert [r.label for r in words.references] == [
        "Invoice SF-1 in QuickBooks",
        "Invoice M-9 in QuickBooks",
        "Deal “Kitchen remodel” in HubSpot",
        "Customer Acme Builders in QuickBooks",
    ]
    assert not any(BARE_ID.search(line) for line in words.lines)


def test_a_xero_clients_findings_name_xero_and_its_contacts_and_link_into_xero(settings):
    settings.SANDBOX = False
    xero = replace(NAMES, accounts=Accounts("xero", "tenant-7", "hubspot", "4242"))
    words = describe(Seen(), xero)
    labels = {r.label: r.url for r in words.references}
    assert labels["Invoice SF-1 in Xero"] == (
        "https://go.xero.com/AccountsReceivable/View.aspx?InvoiceID=58"
    )
    assert labels["Contact Acme Builders in Xero"] == "https://go.xero.com/Contacts/View/19"
    assert "Deal “Kitchen remodel” in HubSpot" in labels
    gone = describe(Seen(), BookNames(accounts=Accounts("xero", "tenant-7")))
    assert gone.customer == "a contact no longer in Xero (id 19)"


def test_a_name_no_longer_known_says_so_in_words_with_the_id():
    words = describe(Seen(), BookNames(accounts=Accounts("quickbooks", "9130355", "hubspot")))
    assert words.customer == "a customer no longer in QuickBooks (id 19)"
    assert words.deal == "a deal no longer in HubSpot (id 1203)"
    assert words.invoices == (
        "an invoice no longer in QuickBooks (id 58)",
        "an invoice no longer in QuickBooks (id 59)",
    )
    assert not any(BARE_ID.search(line) for line in words.lines)
    assert not [r for r in words.references if "HubSpot" in r.label], "no portal, no deal link"


def test_the_side_by_side_names_customers_and_items():
    deal = SnapDeal("1203", "Kitchen remodel", True, Decimal("900.00"), customer_id="19",
                    lines=(("DRY-1", Decimal(1), Decimal("900.00")),))  # fmt: skip
    line = ("6", Decimal(1), Decimal("900.00"))
    invoice = SnapInvoice("58", "SF-1", "19", date(2026, 11, 3), Decimal("900.00"),
                          Decimal("900.00"), lines=(line,))  # fmt: skip
    shown = compare(deal, [invoice], NAMES)
    rows = {what: values for what, values, _ in shown.rows}
    assert rows["Customer"] == ("Acme Builders", "Acme Builders")
    assert rows["Lines"][1] == "Drywall patch \N{MULTIPLICATION SIGN} 1 = 900.00 USD"
    assert shown.columns == ("CRM deal “Kitchen remodel”", "Books invoice SF-1")


def test_quickbooks_links_carry_the_company_and_hubspot_links_the_portal(settings):
    settings.SANDBOX = False
    assert quickbooks_record_url("9130355", "invoice", "58") == (
        "https://app.qbo.intuit.com/app/invoice?txnId=58&companyId=9130355"
    )
    assert quickbooks_record_url("9130355", "customer", "19") == (
        "https://app.qbo.intuit.com/app/customerdetail?nameId=19&companyId=9130355"
    )
    assert hubspot_record_url("4242", "deals", "1203") == (
        "https://app.hubspot.com/contacts/4242/record/0-3/1203"
    )
    settings.SANDBOX, settings.SANDBOX_BASE_URL = True, "http://demo.test:8000"
    assert quickbooks_record_url("9130355", "invoice", "58") == (
        "http://demo.test:8000/sandbox/quickbooks/app/invoice?txnId=58&companyId=9130355"
    )


def test_money_reads_grouped_with_its_currency():
    assert money(Decimal("55591.00"), "USD") == "55,591.00 USD"


@pytest.mark.parametrize("odd", ["NaN", "sNaN", "Infinity", "-Infinity", "1e309"])
def test_money_that_is_not_a_finite_amount_is_refused_not_shown(odd):
    # 1e309 is a finite Decimal, a 310-digit amount no field can hold: shown as it is.
    if odd == "1e309":
        assert money(Decimal(odd), "USD").endswith(" USD")
        return
    with pytest.raises(ValueError):
        money(Decimal(odd), "USD")
    with pytest.raises(ValueError):
        plain_amount(Decimal(odd))


def sentences(text: str) -> str:
    """An email or page as plain text with its whitespace folded, for searching."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", text)))


def ids_said_bare(findings) -> re.Pattern:
    """ "customer 19", "deal 1203", "invoice 58" for the findings' own ids (an invoice
    whose number is its id aside: QuickBooks numbers hand-keyed invoices 1001, 1002...)."""
    said = set()
    for f in findings:
        numbers = dict(zip(f.invoice_ids, f.words.invoices, strict=True))
        said |= {f"invoice {i}" for i, number in numbers.items() if number != i}
        said |= {f"customer {f.customer_id}", f"deal {f.deal_id}"} - {"customer ", "deal "}
        for row in (f.records or {}).get("invoices", []):
            said |= {f"item {line[0]}" for line in row[8]}
    return re.compile("|".join(rf"\b{re.escape(s)}\b" for s in sorted(said)), re.IGNORECASE)


@sandbox_db
def test_the_email_the_page_and_the_csv_say_the_same_sentences(
    two_firms, sandbox, capsys, mailoutbox, client
):
    """GIVEN a reconciled sandbox book with one planted problem of each kind
    WHEN its report is emailed, shown and downloaded
    THEN every open finding reads in the same words in all three, names its records and
    shows no bare id, no raw code and no ungrouped money; its links open the sandbox's own
    record pages, in the client's company."""
    client_a = two_firms.client_a
    client_a.assigned_staff.add(two_firms.accountant_a)
    book = reconciled(two_firms, sandbox, generate(40, seed=6), capsys)
    recon = Reconciliation.objects.filter(client=client_a).first()
    send_report(recon)
    email = mailoutbox[-1]
    text, html = email.body, sentences(email.alternatives[0][0])
    client.force_login(two_firms.accountant_a)
    page = client.get(reverse("reconciliation_report", args=[client_a.slug, recon.pk]))
    shown = sentences(page.content.decode())

    findings = report_data(recon)["findings"]
    assert len(findings) >= 5
    for f in findings[:25]:
        for line in (f.words.sentence, f.words.about):
            assert line in shown, line
            assert line in sentences(text), line
            assert line in html, line
    bare = ids_said_bare(findings)
    for said in (text, html, shown):
        assert not bare.search(said), bare.search(said)
        assert "duplicate_invoice" not in said and "balance_mismatch" not in said
        assert not RAW_MONEY.search(said), RAW_MONEY.search(said)
    names = {f.words.customer for f in findings if f.customer_id}
    assert names and not any("no longer in" in n for n in names), "every customer named"
    assert any(f.words.deal.startswith("“") for f in findings), "deals by name"

    rows = list(csv.reader(io.StringIO(email.attachments[0][1])))
    assert rows[0] == CSV_COLUMNS == [
        "Client", "Period", "Finding", "Customer", "Deal", "Invoice numbers", "Amount",
        "Currency", "First seen", "Months open", "Status", "Decided by", "Note",
    ]  # fmt: skip
    by_finding = {r[2]: r for r in rows[1:]}
    for f in findings:
        row = by_finding[f"{f.words.title}: {f.words.sentence}"]
        assert row[:2] == [client_a.name, "2026-11"]
        assert row[3:6] == [f.words.customer, f.words.deal, ", ".join(f.words.invoices)]
        assert row[6:8] == [f"{f.amount:.2f}", f.currency]
    assert not any(bare.search(" ".join(r)) for r in rows)

    realm = book["written"].realm_id
    duplicate = next(f for f in findings if f.code == "duplicate_invoice")
    link = duplicate.words.references[0]
    assert f"companyId={realm}" in link.url and link.url.startswith(sandbox)
    record = requests.get(link.url, timeout=10)
    number = duplicate.words.invoices[0]
    assert record.status_code == 200 and f"Invoice {number}" in record.text
    assert duplicate.words.customer in record.text
    deal_link = next(r for r in duplicate.words.references if "HubSpot" in r.label)
    deal_page = requests.get(deal_link.url, timeout=10)
    assert deal_page.status_code == 200
    assert f"Deal {duplicate.words.deal.strip('“”')}" in unescape(deal_page.text)


@sandbox_db
def test_a_record_page_of_another_company_is_not_found(two_firms, sandbox, capsys):
    reconciled(two_firms, sandbox, generate(12, seed=3), capsys)
    f = Finding.objects.filter(client=two_firms.client_a).exclude(invoice_ids=[]).first()
    url = quickbooks_record_url("999999", "invoice", f.invoice_ids[0])
    assert requests.get(url, timeout=10).status_code == 404
