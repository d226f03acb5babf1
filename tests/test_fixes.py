"""Fixes that stay counted: a fix is shown exactly as it will be written before it is
written, confirmed twice above the firm's amount, stays open and counted (with the error
in words and a retry) when the provider fails, and can be undone when it created an
invoice. The HubSpot and QuickBooks emulators over HTTP, through the pages and the API."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from clients.models import AuditEntry
from connections import retries
from connections.contract import Refusal
from connections.providers import system_words
from connections.quickbooks.adapter import QuickBooksAdapter
from reconciliation.fixes import invoice_date, undo_refusal, words_for
from reconciliation.models import Finding, FindingStatus, OpenTotals, Reconciliation
from sync.customers import SyncUnavailable, run_customer_sync
from sync.models import RunKind

from .sandbox.conftest import sandbox_db
from .test_api import token_for

LINES = [
    ("Roof inspection", "RF-INSP", "1", "185.00"),
    ("Gutter install", "GT-INST", "40", "12.50"),
]  # 685.00
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def books(systems):
    """Imported and invoicing (the books' standard Services account takes new products): a
    customer in both systems, and a deal won since, whose invoice is missing: the finding
    the month's run opens."""
    company = systems.company(name="Cedar Roofing", zip="78701")
    run_customer_sync(systems.client, kind=RunKind.IMPORT, full=True)
    systems.deal_id = systems.deal("Roof job", LINES, company=company, stage="closedwon")
    recon = Reconciliation.objects.create(client=systems.client, period=date(2026, 11, 1))
    systems.finding = Finding.objects.create(
        client=systems.client, reconciliation=recon, key=f"missing_invoice:{systems.deal_id}",
        code="missing_invoice", severity="high", amount=Decimal("685.00"), currency="USD",
        direction="revenue understated", reason="the won deal has no invoice",
        deal_id=systems.deal_id, fingerprint="f", first_period=date(2026, 11, 1),
        last_period=date(2026, 11, 1),
        fix={"action": "create_invoice", "deal_id": systems.deal_id,
             "words": "Create the invoice from the deal."},
    )  # fmt: skip
    return systems


def invoices_of(books) -> list:
    return [i for i in books.invoices() if i.PrivateNote == f"HubSpot deal {books.deal_id}"]


def shown(client, finding) -> tuple[str, str]:
    """The fix panel as the queue shows it, and the digest its confirm button sends."""
    page = client.get(reverse("finding_fix", args=[finding.pk]), **HX)
    assert page.status_code == 200
    html = page.content.decode()
    found = re.search(r'name="seen" value="([0-9a-f]+)"', html)
    return html, found[1] if found else ""


def queue(client) -> str:
    return client.get(reverse("review_findings")).content.decode()


@sandbox_db
def test_a_failed_fix_stays_open_and_counted_with_its_error_in_words_then_retries(
    books, client, two_firms, monkeypatch
):
    """GIVEN QuickBooks failing on every call WHEN the missing invoice's fix is approved
    THEN the finding stays open and in every total, the queue marks it "Fix failed" with
    the reason in words and a retry; once QuickBooks is back, the retry creates the one
    invoice."""
    monkeypatch.setattr(retries, "_wait", lambda state: 0.01)
    client.force_login(two_firms.accountant_a)
    finding = books.finding
    _, seen = shown(client, finding)
    books.faults("quickbooks", error_rate=1.0)

    answer = client.post(reverse("finding_approve", args=[finding.pk]), {"seen": seen}, **HX)

    assert answer.status_code == 200
    finding.refresh_from_db()
    assert finding.status == FindingStatus.OPEN
    assert finding.fix_error.startswith("QuickBooks did not answer"), finding.fix_error
    assert "was not written" in finding.fix_error and "Traceback" not in finding.fix_error
    assert f'id="finding-{finding.pk}"' in answer.content.decode()
    totals = OpenTotals.objects.get(client=books.client)
    assert (totals.count, totals.amount) == (1, Decimal("685.00"))
    page = queue(client)  # the default view: open findings
    assert "Fix failed:</strong> QuickBooks did not answer" in page
    assert ">Retry fix<" in page and "<strong>1</strong> open finding" in page
    assert "685.00" in page.split('id="queue-summary"')[1].split("</p>")[0]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(two_firms.accountant_a)}")
    seen_by_api = api.get(f"/api/v1/findings/{finding.pk}/").json()
    assert seen_by_api["status"] == "open" and seen_by_api["fix_error"] == finding.fix_error

    books.faults("quickbooks")  # QuickBooks is back
    assert invoices_of(books) == []
    panel, seen = shown(client, finding)
    assert "Retry: Create invoice" in panel
    retried = client.post(reverse("finding_retry", args=[finding.pk]), {"seen": seen}, **HX)

    assert retried.status_code == 200
    finding.refresh_from_db()
    assert finding.status == FindingStatus.FIXED, finding.fix_error
    assert finding.fix_error == "" and len(invoices_of(books)) == 1
    assert OpenTotals.objects.get(client=books.client).count == 0


@sandbox_db
def test_approving_shows_the_invoice_and_dates_it_after_the_books_closing_date(
    books, client, two_firms
):
    """GIVEN a deal closed 20 Nov WHEN its fix is opened THEN it shows the invoice number,
    lines, total, customer and the close date; once the books are closed through 30 Nov
    (QuickBooks' preferences), what was shown no longer holds, the fix shows 1 Dec, and
    the invoice it creates is dated 1 Dec."""
    client.force_login(two_firms.accountant_a)
    finding = books.finding
    html, before_closing = shown(client, finding)
    assert f"Create invoice SF-{books.deal_id}" in html
    assert "Cedar Roofing" in html and "Roof inspection" in html and "Gutter install" in html
    assert "685.00" in html and "Dated 20 Nov 2026, the deal&#x27;s close date" in html

    books.quickbooks_settings(book_close_date="2026-11-30")
    adapter = QuickBooksAdapter(books.qbo_connection)
    assert adapter.books_closed_through() == date(2026, 11, 30)
    stale = client.post(
        reverse("finding_approve", args=[finding.pk]), {"seen": before_closing}, **HX
    )
    assert "changed since it was shown" in stale.content.decode()
    assert invoices_of(books) == []  # nothing written on an outdated preview

    page = client.get(reverse("finding_fix", args=[finding.pk])).content.decode()  # no htmx
    assert "<h1>Missing invoice" in page and "Dated 1 Dec 2026, the first open day" in page
    assert f'action="{reverse("finding_approve", args=[finding.pk])}"' in page
    html, seen = shown(client, finding)
    assert "Dated 1 Dec 2026, the first open day" in html
    assert "closed through 30 Nov 2026" in html
    client.post(reverse("finding_approve", args=[finding.pk]), {"seen": seen}, **HX)

    finding.refresh_from_db()
    assert finding.status == FindingStatus.FIXED, finding.fix_error
    (invoice,) = invoices_of(books)
    assert invoice.TxnDate == "2026-12-01" and invoice.DocNumber == f"SF-{books.deal_id}"
    assert "dated 1 Dec 2026" in finding.decision_note


@sandbox_db
def test_above_the_firms_amount_a_second_confirmation_is_needed_then_undo_voids_it(
    books, client, two_firms
):
    """GIVEN a firm that confirms fixes above 500.00 WHEN the 685.00 invoice is approved
    without the second confirmation, alone or ticked in bulk THEN nothing is written; with it
    the invoice is created, and undoing the fix voids that invoice in QuickBooks, opens the
    finding again saying so, and is audited."""
    firm = two_firms.firm_a
    firm.confirm_fixes_above = Decimal("500.00")
    firm.save()
    client.force_login(two_firms.accountant_a)
    finding = books.finding
    html, seen = shown(client, finding)
    assert "is more than your firm's 500.00 USD" in html and 'name="confirm_large"' in html

    once = client.post(reverse("finding_approve", args=[finding.pk]), {"seen": seen}, **HX)
    assert "above your firm" in once.content.decode()
    bulk = client.post(reverse("findings_bulk"), {"ids": [finding.pk], "action": "approve"}, **HX)
    assert "above your firm" in bulk.content.decode()
    finding.refresh_from_db()
    assert finding.status == FindingStatus.OPEN and invoices_of(books) == []

    client.post(
        reverse("finding_approve", args=[finding.pk]),
        {"seen": seen, "confirm_large": "yes"},
        **HX,
    )
    finding.refresh_from_db()
    assert finding.status == FindingStatus.FIXED, finding.fix_error
    (created,) = invoices_of(books)
    fixed_page = client.get(reverse("review_findings"), {"status": "fixed"}).content.decode()
    assert ">Undo fix<" in fixed_page

    undone = client.post(reverse("finding_undo_fix", args=[finding.pk]), **HX)

    assert undone.status_code == 200
    finding.refresh_from_db()
    assert finding.status == FindingStatus.OPEN
    assert finding.change_note.startswith("Fix undone by accountant@alpha.test")
    invoice = QuickBooksAdapter(books.qbo_connection).invoices_by_id([created.Id])[0]
    assert invoice.voided and invoice.total.amount == 0
    entry = AuditEntry.objects.get(action="finding.fix_undone", object_id=str(finding.pk))
    assert entry.actor == two_firms.accountant_a and entry.after["voided"] == created.Id
    assert OpenTotals.objects.get(client=books.client).count == 1
    again = client.post(reverse("finding_undo_fix", args=[finding.pk]), **HX)
    assert "Only an approved fix can be undone" in again.content.decode()
    html, seen = shown(client, finding)  # the void invoice's number is not taken for a new one
    assert "(void: the invoice of an undone fix)" in html and seen == ""


@sandbox_db
def test_another_firms_staff_get_404_on_the_fix_pages_and_api(books, client, two_firms):
    client.force_login(two_firms.owner_b)
    finding = books.finding
    assert client.get(reverse("finding_fix", args=[finding.pk])).status_code == 404
    for name in ("finding_approve", "finding_retry", "finding_undo_fix"):
        answer = client.post(reverse(name, args=[finding.pk]), {"confirm_large": "yes"})
        assert answer.status_code == 404, name
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(two_firms.owner_b)}")
    assert api.get(f"/api/v1/findings/{finding.pk}/preview/").status_code == 404
    for path in ("approve", "retry", "undo-fix"):
        answer = api.post(f"/api/v1/findings/{finding.pk}/{path}/", {}, format="json")
        assert answer.status_code == 404, path
    finding.refresh_from_db()
    assert finding.status == FindingStatus.OPEN and invoices_of(books) == []


@sandbox_db
def test_the_api_previews_approves_with_the_digest_and_retries(books, two_firms):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(two_firms.accountant_a)}")
    finding = books.finding
    shown = api.get(f"/api/v1/findings/{finding.pk}/preview/").json()
    assert shown["txn_date"] == "2026-11-20" and shown["total"] == "685.00"
    assert [line["item"] for line in shown["lines"]] == ["Roof inspection", "Gutter install"]
    nothing_failed = api.post(f"/api/v1/findings/{finding.pk}/retry/", {}, format="json")
    assert nothing_failed.status_code == 400
    done = api.post(
        f"/api/v1/findings/{finding.pk}/approve/", {"seen": shown["digest"]}, format="json"
    )
    assert done.status_code == 200 and done.json()["status"] == "fixed", done.json()
    assert len(invoices_of(books)) == 1


def test_a_providers_error_reads_as_a_sentence():
    quickbooks = system_words("quickbooks", "hubspot")
    inactive = retries.ProviderError(
        "QuickBooks refused: Object Not Found",
        code="610",
        detail="Object Not Found : Something you're trying to use has been made inactive.",
        refusal=Refusal.NOT_FOUND,
    )
    assert words_for(inactive, "create_invoice", quickbooks) == (
        "QuickBooks refused the invoice: something on it is inactive or deleted in QuickBooks "
        "(the customer or a product). Make it active, then retry."
    )
    stale = retries.Stale("QuickBooks refused: Stale Object Error", code="5010")
    assert "changed it in QuickBooks at the same moment" in words_for(
        stale, "void_invoice", quickbooks
    )
    in_xero = words_for(stale, "void_invoice", system_words("xero", "hubspot"))
    assert in_xero.startswith("Xero refused the void: someone changed it in Xero")
    down = retries.ProviderError("Reading a QuickBooks invoice: the provider kept failing (503).")
    assert words_for(down, "void_invoice", quickbooks).startswith("QuickBooks did not answer")
    held = retries.ProviderError("QuickBooks refused it: the customer has no email")
    assert words_for(held, "create_invoice", quickbooks) == (
        "QuickBooks refused the invoice: the customer has no email."
    )
    gone = SyncUnavailable("Cedar has no connected accounting system; connect it first.")
    assert words_for(gone, "create_invoice") == str(gone)
    throttled = retries.ProviderError("Listing: still rate-limited after 6 tries.")
    assert "limiting how often" in words_for(throttled, "update_crm_payment", quickbooks)
    assert words_for(throttled, "update_crm_payment", quickbooks).startswith("HubSpot")


def test_the_invoice_date_is_the_close_day_unless_the_books_are_closed_on_it():
    assert invoice_date(date(2026, 11, 20), None)[0] == date(2026, 11, 20)
    assert invoice_date(date(2026, 11, 20), date(2026, 10, 31))[0] == date(2026, 11, 20)
    assert invoice_date(date(2026, 11, 20), date(2026, 11, 20))[0] == date(2026, 11, 21)
    day, why = invoice_date(date(2026, 11, 20), date(2026, 12, 31))
    assert day == date(2027, 1, 1) and "closed through 31 Dec 2026" in why


def test_only_a_created_invoice_can_be_undone(db, two_firms):
    from datetime import timedelta

    from django.utils import timezone

    def fixed(action: str, **result) -> Finding:
        return Finding(
            client=two_firms.client_a, status=FindingStatus.FIXED, fix={"action": action},
            evidence={"fix_result": result}, decided_at=timezone.now(),
        )  # fmt: skip

    assert "cannot un-void" in undo_refusal(fixed("void_invoice"))
    # No books connected: the neutral words.
    assert "editing the invoice in the books" in undo_refusal(fixed("add_missing_lines"))
    assert undo_refusal(fixed("create_invoice", invoice_id="7")) == ""
    late = fixed("create_invoice", invoice_id="7")
    late.decided_at = timezone.now() - timedelta(days=31)
    assert "30 days" in undo_refusal(late)


def test_an_owner_sets_the_amount_above_which_fixes_are_confirmed_twice(db, client, two_firms):
    client.force_login(two_firms.owner_a)
    page = client.get(reverse("staff_list")).content.decode()
    assert "Ask a second confirmation for fixes above" in page and 'value="5000.00"' in page
    client.post(reverse("fix_confirmation_update"), {"confirm_fixes_above": "1200.50"})
    two_firms.firm_a.refresh_from_db()
    assert two_firms.firm_a.confirm_fixes_above == Decimal("1200.50")
    assert AuditEntry.objects.filter(action="firm.confirm_fixes_above").count() == 1
    client.post(reverse("fix_confirmation_update"), {"confirm_fixes_above": "-1"})
    two_firms.firm_a.refresh_from_db()
    assert two_firms.firm_a.confirm_fixes_above == Decimal("1200.50")
    # The materiality floor, on the same form: above zero, audited, kept when left out.
    said = client.post(
        reverse("fix_confirmation_update"),
        {"confirm_fixes_above": "1200.50", "materiality_floor": "0"},
        follow=True,
    ).content.decode()
    assert "A finding is high from: An amount of 0.01 or more." in said
    client.post(
        reverse("fix_confirmation_update"),
        {"confirm_fixes_above": "1200.50", "materiality_floor": "250.00"},
    )
    two_firms.firm_a.refresh_from_db()
    assert two_firms.firm_a.materiality_floor == Decimal("250.00")
    assert "250.00" in client.get(reverse("staff_list")).content.decode()

    client.force_login(two_firms.accountant_a)
    refused = client.post(reverse("fix_confirmation_update"), {"confirm_fixes_above": "1"})
    assert refused.status_code == 403
    two_firms.firm_b.refresh_from_db()
    assert two_firms.firm_b.confirm_fixes_above == Decimal("5000.00")
