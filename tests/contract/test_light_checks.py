"""Checks between reconciliations (issue 19): a duplicate keyed by hand in the books is
flagged by the next sync, not at month end, for every accounting system; the month's
reconciliation then carries that same finding instead of opening a second one."""

from datetime import timedelta

from django.core.management import call_command

from reconciliation.models import Finding
from sync.customers import run_customer_sync
from sync.models import InvoiceLink, InvoiceState, RunKind, SyncSettings

from ..sandbox.conftest import sandbox_db
from .test_accounting_contract import LINES, imported_with_a_product

pytestmark = sandbox_db


def test_a_duplicate_keyed_by_hand_is_flagged_on_the_next_sync(world, mailoutbox):
    company = imported_with_a_product(world)
    # The import ran a while before anyone keyed anything: the books stamp whole seconds,
    # and an invoice changed in the import's own second is history, the month's to judge.
    baseline = SyncSettings.objects.filter(client=world.client)
    baseline.update(invoice_baseline_at=baseline.get().invoice_baseline_at - timedelta(seconds=5))
    deal = world.deal("Roof job", LINES, company=company)
    world.win(deal)
    run_customer_sync(world.client, kind=RunKind.SCHEDULED)
    link = InvoiceLink.objects.get(client=world.client, deal_id=deal)
    assert link.state == InvoiceState.CREATED
    sent = len(mailoutbox)

    copy = world.books.key_again(link.accounting_id, "HAND-7")
    run = run_customer_sync(world.client, kind=RunKind.SCHEDULED)

    found = Finding.objects.get(client=world.client, code="duplicate_invoice")
    assert found.status == "open" and found.reconciliation is None
    assert set(found.invoice_ids) == {link.accounting_id, copy}
    assert found.fix["invoice_id"] == copy  # the one keyed by hand goes, syncfirm's stays
    assert found.evidence["found_by"] == "sync"
    assert run.counts.get("flagged") == 1, run.counts
    told = mailoutbox[sent:]
    assert len(told) == 1 and "possible duplicate invoice" in told[0].subject
    assert "HAND-7" in told[0].body

    run_customer_sync(world.client, kind=RunKind.SCHEDULED)  # seen again: nothing new
    assert Finding.objects.filter(client=world.client, code="duplicate_invoice").count() == 1
    assert len(mailoutbox) == sent + 1

    period = found.first_period.strftime("%Y-%m")
    call_command("reconcile", world.client.slug, "--period", period)
    again = Finding.objects.filter(client=world.client, code="duplicate_invoice")
    assert again.count() == 1 and again.get().pk == found.pk
    assert again.get().reconciliation is not None  # the month's run carried it
