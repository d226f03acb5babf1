"""The demo's Jobber client, end to end: a contractor whose own Jobber integration posts its
invoices into QuickBooks, with the generator's problems planted once each on the books'
side. Connected through the real consent flows, the import sees Jobber's invoices in the
books and makes the client audit only (nothing written); November's reconciliation finds
exactly the planted problems (paid in Jobber and open in the books, a job whose revenue
the books recognise less of, ...) and nothing else. Switched to "syncfirm posts", the next
sync posts the one invoice the integration never did, once, keeping its Jobber number."""

import csv
import io
import json
from datetime import date
from types import SimpleNamespace

import requests
from django.core.management import call_command

from connections import retries
from connections.adapters import accounting_adapter
from reconciliation.models import Finding, FindingStatus, Reconciliation, ReconStatus
from reconciliation.names import book_names
from reconciliation.queue import attach_comparisons
from reconciliation.report import compared_words
from reconciliation.wording import describe
from sandbox.demo_books import write_jobber_audit_book
from sync.customers import run_customer_sync
from sync.models import InvoiceLink, InvoiceState, Posting, RunKind, SyncSettings

from .sandbox.conftest import sandbox_db
from .test_ledger_months import each_planted_once
from .test_reconciliation import scores

pytestmark = sandbox_db
NOV, DEC = date(2026, 11, 1), date(2026, 12, 1)


def connected(client, sandbox):
    """Cascade's book written into the sandbox, and the client connected to both sides."""
    book, written = write_jobber_audit_book(6, sandbox, "Cascade (sandbox)")
    call_command(
        "connect_sandbox", client.slug, realm_id=written.realm_id,
        jobber_account=written.portal_id,
    )  # fmt: skip
    return book, written


def audited_client(client, sandbox):
    """Cascade connected, imported (audit only) and synced."""
    book, written = connected(client, sandbox)
    preview = run_customer_sync(client, kind=RunKind.IMPORT_PREVIEW, full=True, dry_run=True)
    assert preview.counts["posting"] == Posting.AUDIT, preview.counts
    run_customer_sync(client, kind=RunKind.IMPORT, full=True, approved_preview=preview)
    run_customer_sync(client, kind=RunKind.SCHEDULED)
    return book, written


def invoiced_in_jobber(sandbox, written, company: str, line: dict, invoices: dict) -> dict:
    """A new client of the demo's Jobber account and its invoices, as the contractor would
    write them (each with `line` unless it says its own lines): key → Jobber id."""
    doc = {
        "clients": [{"key": "client", "company_name": company, "is_company": True}],
        "invoices": [{"key": key, "client": "client", "lines": [line], **spec}
                     for key, spec in invoices.items()],
    }  # fmt: skip
    made = requests.post(
        f"{sandbox}/sandbox/control/jobber/accounts/{written.portal_id}/book", json=doc, timeout=10
    )
    made.raise_for_status()
    return made.json()["ids"]


def post_by_syncfirm(client) -> None:
    settings = SyncSettings.for_client(client)
    settings.posting, settings.invoice_baseline_at = Posting.SYNCFIRM, None
    settings.save()
    for _ in range(2):
        run_customer_sync(client, kind=RunKind.SCHEDULED)


def test_a_jobber_client_audited_then_posted_by_syncfirm(two_firms, sandbox, capsys):
    client = two_firms.client_a
    book, written = connected(client, sandbox)
    books = accounting_adapter(client.connections.get(system="quickbooks"))
    before = sorted(i.doc_number for i in books.all_invoices())
    customers = len(books.all_customers())

    preview = run_customer_sync(client, kind=RunKind.IMPORT_PREVIEW, full=True, dry_run=True)
    assert preview.counts["posting"] == Posting.AUDIT, preview.counts
    done = run_customer_sync(client, kind=RunKind.IMPORT, full=True, approved_preview=preview)
    assert SyncSettings.for_client(client).posting == Posting.AUDIT
    assert done.counts.get("linked", 0) >= len(book.people) - 1, done.counts
    run_customer_sync(client, kind=RunKind.SCHEDULED)
    # Audit only: not one record written to the books.
    assert sorted(i.doc_number for i in books.all_invoices()) == before
    assert len(books.all_customers()) == customers

    capsys.readouterr()
    call_command("reconcile", client.slug, "--period", "2026-11", "--json")
    report = json.loads(capsys.readouterr().out)
    got = scores(report["findings"], written.answer_key)
    assert {c: s for c, s in got.items() if s != (1.0, 1.0)} == {}, report["findings"]
    assert len(report["findings"]) == len(written.answer_key), report["findings"]
    paid_open = next(f for f in report["findings"] if f["code"] == "paid_but_open")
    assert "is paid in Jobber; invoice INV-" in paid_open["reason"]
    job = next(f for f in report["findings"] if f["code"] == "job_revenue_mismatch")
    assert job["reason"].startswith("Jobber has invoiced") and "of credits" in job["reason"]

    # Pages name the CRM's invoice, not a deal that does not exist.
    missing_finding = Finding.objects.get(client=client, code="missing_invoice")
    words = describe(missing_finding, book_names([missing_finding])[client.pk])
    assert "Jobber invoice: “#" in words.about and "deal" not in words.about.lower()
    assert any(r.label.startswith("Jobber invoice “#") for r in words.references)
    shown = list(Finding.objects.filter(client=client))
    attach_comparisons(shown)
    columns = [c for f in shown if f.comparison for c in f.comparison.columns]
    assert columns and not any("deal" in c.lower() for c in columns), columns
    assert "Jobber shows more owed than the books" in {f.direction for f in shown}
    said = [f.fix.get("words", "") for f in shown] + [f.reason for f in shown]
    assert not [w for w in said if "the CRM" in w], said

    # syncfirm takes over the posting: the one invoice never posted goes in, once.
    (missing,) = [k for k in written.answer_key if k["code"] == "missing_invoice"]
    post_by_syncfirm(client)
    after = sorted(i.doc_number for i in books.all_invoices())
    added = sorted(set(after) - set(before))
    assert len(after) == len(before) + 1 and len(added) == 1, added
    link = InvoiceLink.objects.get(client=client, deal_id=missing["deal_id"])
    assert link.state == InvoiceState.CREATED and link.doc_number == added[0]
    assert (
        not InvoiceLink.objects.filter(client=client, state=InvoiceState.CREATED)
        .exclude(pk=link.pk)
        .exists()
    )


def test_an_audited_client_over_months_a_rerun_a_jobber_outage_and_a_switch(
    two_firms, sandbox, monkeypatch
):
    """GIVEN the demo's Jobber client, audited
    WHEN November, December and November again are reconciled, then December while Jobber
    answers nothing but errors, then December again after syncfirm took over the posting
    THEN each planted problem is one finding open since November; the re-run writes nothing;
    the outage is a partial month that resolves nothing; after the switch only the invoice
    never posted is resolved, and the rest stay open."""
    client = two_firms.client_a
    _, written = audited_client(client, sandbox)
    key = written.answer_key

    def month(period: str) -> Reconciliation:
        call_command("reconcile", client.slug, "--period", period)
        return Reconciliation.objects.filter(client=client).order_by("started_at").last()

    runs = [month(p) for p in ("2026-11", "2026-12", "2026-11")]
    assert [r.status for r in runs] == [ReconStatus.DONE] * 3, [r.error for r in runs]
    assert runs[2].counts["ledger_rows_written"] == 0
    ledger = list(Finding.objects.filter(client=client))
    assert len(ledger) == len(key), [(f.code, f.reason) for f in ledger]
    each_planted_once(key, [(f.code, f.deal_id, f.invoice_ids) for f in ledger], "ledger")
    assert {(f.status, f.first_period, f.last_period, f.months_open) for f in ledger} == {
        (FindingStatus.OPEN, NOV, DEC, 2)
    }

    # Jobber down: December is partial, says Jobber was not read, and resolves nothing.
    monkeypatch.setattr(retries, "_backoff", lambda state: 0)
    faults = f"{sandbox}/sandbox/control/faults"
    plan = {"system": "jobber", "account": str(written.portal_id)}
    requests.put(faults, json={**plan, "error_rate": 1.0}, timeout=10).raise_for_status()
    outage = month("2026-12")
    assert outage.status == ReconStatus.PARTIAL, (outage.status, outage.error)
    (note,) = [n for n in outage.not_checked if n.startswith("the CRM side")]
    assert "(its invoices, jobs and client balances)" in note and "not audited" in note, note
    # Not the same problems again under other names from the books alone, nothing resolved.
    during = list(Finding.objects.filter(client=client))
    assert len(during) == len(key), [(f.code, f.reason) for f in during]
    assert {f.status for f in during} == {FindingStatus.OPEN}
    requests.delete(faults, json=plan, timeout=10).raise_for_status()

    # syncfirm posts from now on: the invoice the integration never posted goes in, and
    # December's run resolves that finding alone.
    post_by_syncfirm(client)
    again = month("2026-12")
    assert again.status == ReconStatus.DONE, again.error
    after = list(Finding.objects.filter(client=client))
    assert len(after) == len(key), [(f.code, f.reason) for f in after if f.first_period != NOV]
    status = {f.code: f.status for f in after}
    assert status.pop("missing_invoice") == FindingStatus.RESOLVED
    posted = next(f for f in after if f.code == "missing_invoice")
    assert posted.decision_note.startswith("Posted by syncfirm as invoice SF-"), posted
    assert set(status.values()) == {FindingStatus.OPEN}, status


def test_a_jobber_invoice_renumbered_after_posting_is_still_its_books_invoice(
    two_firms, sandbox, capsys
):
    """GIVEN the audited client, and a Jobber invoice the integration posted cleanly
    WHEN the contractor renumbers it in Jobber (7777) and the month is reconciled
    THEN its books invoice (same customer, date, amount and lines, no other like it) is still
    its pair: it is not "missing" with a fix that would post it a second time, and its
    books invoice is not taken for a copy or a balance nobody can explain."""
    client = two_firms.client_a
    book, written = audited_client(client, sandbox)
    planted = {k["deal_id"] for k in written.answer_key}
    november = [d.key for d in book.deals if (d.close_date.year, d.close_date.month) == (2026, 11)]
    clean = [written.ids[f"{k}/invoice"] for k in november if f"{k}/invoice" in written.ids]
    target = next(i for i in clean if i not in planted)
    requests.patch(
        f"{sandbox}/sandbox/control/jobber/accounts/{written.portal_id}/invoices/{target}",
        json={"invoice_number": "7777"},
        timeout=10,
    ).raise_for_status()
    capsys.readouterr()
    call_command("reconcile", client.slug, "--period", "2026-11", "--json")
    report = json.loads(capsys.readouterr().out)
    assert not [f for f in report["findings"] if f["deal_id"] == target], report["findings"]
    got = scores(report["findings"], written.answer_key)
    assert {c: s for c, s in got.items() if s != (1.0, 1.0)} == {}, report["findings"]
    # The report says what was compared from Jobber and how it paired.
    recon = Reconciliation.objects.filter(client=client).latest("started_at")
    (crm_words,) = [w for w in compared_words(recon) if "from Jobber" in w]
    month = recon.counts["crm_invoices"]
    assert crm_words.startswith(f"{month} Jobber invoices from Jobber ("), crm_words
    assert "paired with a books invoice" in crm_words and "1 not in the books" in crm_words
    assert recon.counts["paired"] + recon.counts["unsure"] + recon.counts["crm_only"] == month


def test_a_copy_is_never_voided_once_the_invoice_it_keeps_is_void(two_firms, sandbox, capsys):
    """GIVEN the audited client's duplicate finding (M-501 keyed again by hand; keep INV-1002)
    WHEN a bookkeeper voids INV-1002 in QuickBooks before anyone approves the fix
    THEN the fix's preview says the invoice it keeps is void, approving it (in bulk, with no
    preview) writes nothing and says why, and the next reconciliation pairs Jobber's invoice
    with the one live invoice left instead of calling it a copy."""
    from reconciliation.fixes import do_approve, preview

    client = two_firms.client_a
    audited_client(client, sandbox)
    call_command("reconcile", client.slug, "--period", "2026-11")
    finding = Finding.objects.get(client=client, code="duplicate_invoice")
    books = accounting_adapter(client.connections.get(system="quickbooks"))
    kept, copy = finding.evidence["keep"], finding.evidence["void"]
    books.void_invoice(kept)

    shown = preview(finding)
    assert any("the one this fix keeps, is void" in p for p in shown.problems), shown.problems
    # A decision of the month is in its file too, with who took it and why.
    from reconciliation.fixes import do_dismiss
    from reconciliation.report import findings_csv, month_rows, report_data

    stale = Finding.objects.get(client=client, code="stale_open_invoice")
    do_dismiss(two_firms.accountant_a, stale, "Customer pays in instalments, agreed.")
    recon = Reconciliation.objects.filter(client=client).latest("started_at")
    text = findings_csv(recon, month_rows(report_data(recon)))
    (row,) = [r for r in csv.DictReader(io.StringIO(text)) if r["Status"] == "Dismissed"]
    assert row["Note"] == "Customer pays in instalments, agreed." and row["Decided by"]
    done = do_approve(two_firms.accountant_a, finding)
    assert done.status == FindingStatus.OPEN
    assert "would leave the sale with no invoice" in done.fix_error
    assert not books.invoices_by_id([copy])[0].voided

    call_command("reconcile", client.slug, "--period", "2026-11")
    assert not Finding.objects.filter(
        client=client, code="duplicate_invoice", status=FindingStatus.OPEN
    ).exists()
    assert not Finding.objects.filter(
        client=client, code="missing_invoice", deal_id=finding.deal_id
    )


def test_switching_to_syncfirm_posts_never_posts_an_invoice_the_books_may_hold_unreadable(
    two_firms, sandbox
):
    """GIVEN the audited client whose integration never posted Jobber invoice #1037, and a
    books invoice numbered INV-1037 that syncfirm cannot read (an amount past QuickBooks'
    limit)
    WHEN the client switches to "syncfirm posts"
    THEN #1037 is not posted: it waits for a person, saying which books invoice it may be."""
    from sandbox.seed_book import quickbooks_client

    from .test_bad_numbers import plant_huge_invoice

    client = two_firms.client_a
    _, written = audited_client(client, sandbox)
    (missing,) = [k for k in written.answer_key if k["code"] == "missing_invoice"]
    qb = quickbooks_client(sandbox, written.realm_id, written.quickbooks_tokens)
    from quickbooks.objects.invoice import Invoice as QboInvoice

    like = QboInvoice.all(qb=qb)[0]
    plant_huge_invoice(SimpleNamespace(qb=qb), like, "INV-1037")
    books = accounting_adapter(client.connections.get(system="quickbooks"))
    before = sorted(i.doc_number for i in books.all_invoices())

    post_by_syncfirm(client)
    assert sorted(i.doc_number for i in books.all_invoices()) == before
    link = InvoiceLink.objects.get(client=client, deal_id=missing["deal_id"])
    assert "INV-1037, which cannot be read" in link.reason, link.reason
    # Waiting where a person sees it, and can release it ("post it"), not filed as history.
    assert link.state == InvoiceState.UNCERTAIN


def test_syncfirm_posts_only_what_jobber_bills_and_one_odd_invoice_stops_nothing(
    two_firms, sandbox
):
    """GIVEN the demo client switched to "syncfirm posts"
    WHEN Jobber issues an invoice with a discount on the whole invoice (its total is not its
    lines'), writes one off as bad debt, issues one dated 9999-12-31, and issues a plain one
    THEN the plain one is posted; the discounted one and the far-dated one wait for a person
    with the reason, never posted at another amount; bad debt is no receivable to post; and
    the runs finish."""
    client = two_firms.client_a
    _, written = audited_client(client, sandbox)
    post_by_syncfirm(client)
    line = {"name": "Furnace tune-up", "quantity": "1", "unit_price": "1000"}
    filters = {**line, "name": "Filter", "quantity": "2", "unit_price": "500"}
    ids = invoiced_in_jobber(sandbox, written, "Kim Park Dental", line, {
        "discounted": {"invoice_number": "2001", "issued_date": "2026-12-02",
                       "discount_amount": "200", "lines": [line, filters]},
        "written-off": {"invoice_number": "2050", "issued_date": "2026-12-02",
                        "invoice_status": "bad_debt"},
        "far": {"invoice_number": "2099", "issued_date": "9999-12-31"},
        "plain": {"invoice_number": "2100", "issued_date": "2026-12-03"},
    })  # fmt: skip
    runs = [run_customer_sync(client, kind=RunKind.SCHEDULED) for _ in range(2)]
    assert all(r.status != "failed" for r in runs), [r.error for r in runs]
    books = accounting_adapter(client.connections.get(system="quickbooks"))
    numbers = {i.doc_number for i in books.all_invoices()}
    assert "SF-2100" in numbers
    assert not {"SF-2001", "SF-2050", "SF-2099"} & numbers
    held = {
        link.deal_id: link
        for link in InvoiceLink.objects.filter(client=client, state=InvoiceState.HELD)
    }
    assert "total 1,800.00 USD is not what its lines add up to (2,000.00 USD)" in (
        held[ids["discounted"]].reason
    )
    assert "leaves no room for its due date" in held[ids["far"]].reason
    assert not InvoiceLink.objects.filter(client=client, deal_id=ids["written-off"]).exists()


def test_a_jobber_authorisation_lost_mid_renewal_is_a_partial_month_that_says_so(
    two_firms, sandbox, monkeypatch
):
    """GIVEN the audited client whose Jobber access token has expired
    WHEN its renewal's answer is lost (Jobber rotated the refresh token; syncfirm never heard)
    THEN the month is partial and says Jobber did not renew syncfirm's access, never
    "something went wrong in syncfirm"; and the month after, with the authorisation now
    unusable, says who must reconnect it."""
    from datetime import timedelta

    from django.utils import timezone

    client = two_firms.client_a
    _, written = audited_client(client, sandbox)
    monkeypatch.setattr(retries, "_backoff", lambda state: 0)
    jobber = client.connections.get(system="jobber")
    jobber.access_expires_at = timezone.now() - timedelta(minutes=5)
    jobber.save(update_fields=["access_expires_at"])
    faults = f"{sandbox}/sandbox/control/faults"
    plan = {"system": "jobber", "account": str(written.portal_id)}
    requests.put(faults, json={**plan, "drop_after_commit_rate": 1.0}, timeout=10)

    said = []
    for _ in range(2):
        call_command("reconcile", client.slug, "--period", "2026-11")
        recon = Reconciliation.objects.filter(client=client).latest("started_at")
        assert recon.status == ReconStatus.PARTIAL, (recon.status, recon.error)
        (note,) = [n for n in recon.not_checked if n.startswith("the CRM side")]
        assert "Something went wrong in syncfirm" not in note, note
        said.append(note)
        requests.delete(faults, json=plan, timeout=10)
    assert "did not renew syncfirm's access" in said[0], said[0]
    assert "needs connecting again" in said[1], said[1]


def test_at_the_switch_jobbers_paid_history_and_closed_years_are_not_posted(two_firms, sandbox):
    """GIVEN the audited client whose books are closed through 2025, and Jobber invoices the
    books never received: one paid in 2024, one unpaid from June 2025, one unpaid from this
    month
    WHEN the client switches to "syncfirm posts"
    THEN only this month's is posted; the paid one (it would read as owed) and the one in the
    closed year are kept back as history, each with its reason."""
    client = two_firms.client_a
    _, written = audited_client(client, sandbox)
    requests.patch(
        f"{sandbox}/sandbox/control/quickbooks/companies/{written.realm_id}",
        json={"book_close_date": "2025-12-31"},
        timeout=10,
    ).raise_for_status()
    line = {"name": "Duct cleaning", "quantity": "1", "unit_price": "250"}
    ids = invoiced_in_jobber(sandbox, written, "Lee Bakery", line, {
        "paid": {"invoice_number": "1901", "issued_date": "2024-03-01", "invoice_status": "paid"},
        "closed": {"invoice_number": "1902", "issued_date": "2025-06-01"},
        "now": {"invoice_number": "1903", "issued_date": "2026-12-01"},
    })  # fmt: skip
    post_by_syncfirm(client)
    books = accounting_adapter(client.connections.get(system="quickbooks"))
    numbers = {i.doc_number for i in books.all_invoices()}
    assert "SF-1903" in numbers and not {"SF-1901", "SF-1902"} & numbers
    links = {
        link.deal_id: link
        for link in InvoiceLink.objects.filter(client=client, deal_id__in=list(ids.values()))
    }
    assert links[ids["paid"]].state == InvoiceState.HISTORICAL
    assert "would read as owed" in links[ids["paid"]].reason
    assert "inside the books' closed period" in links[ids["closed"]].reason
