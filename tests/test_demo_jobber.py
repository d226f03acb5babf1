"""The demo's Jobber client, end to end: a contractor whose own Jobber integration posts its
invoices into QuickBooks, with the generator's problems planted once each on the books'
side. Connected through the real consent flows, the import sees Jobber's invoices in the
books and makes the client audit only (nothing written); November's reconciliation finds
exactly the planted problems (paid in Jobber and open in the books, a job whose revenue
the books recognise less of, ...) and nothing else. Switched to "syncfirm posts", the next
sync posts the one invoice the integration never did, once, keeping its Jobber number."""

import json

from django.core.management import call_command

from connections.adapters import accounting_adapter
from reconciliation.models import Finding
from reconciliation.names import book_names
from reconciliation.wording import describe
from sandbox.demo_books import write_jobber_audit_book
from sync.customers import run_customer_sync
from sync.models import InvoiceLink, InvoiceState, Posting, RunKind, SyncSettings

from .sandbox.conftest import sandbox_db
from .test_reconciliation import scores

pytestmark = sandbox_db


def test_a_jobber_client_audited_then_posted_by_syncfirm(two_firms, sandbox, capsys):
    client = two_firms.client_a
    book, written = write_jobber_audit_book(6, sandbox, "Cascade (sandbox)")
    call_command(
        "connect_sandbox", client.slug, realm_id=written.realm_id,
        jobber_account=written.portal_id,
    )  # fmt: skip
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

    # syncfirm takes over the posting: the one invoice never posted goes in, once.
    (missing,) = [k for k in written.answer_key if k["code"] == "missing_invoice"]
    settings = SyncSettings.for_client(client)
    settings.posting, settings.invoice_baseline_at = Posting.SYNCFIRM, None
    settings.save()
    for _ in range(2):
        run_customer_sync(client, kind=RunKind.SCHEDULED)
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
