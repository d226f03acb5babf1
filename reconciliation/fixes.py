"""Deciding a finding: approve its proposed fix (run through the adapter once, checked
afterwards, audited) or dismiss it with a reason (the same finding with the same data does
not come back)."""

from collections import Counter
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from clients.actions import audit
from clients.models import User
from connections import retries
from connections.adapters import accounting_adapter, crm_adapter
from connections.providers import Kind
from connections.sync import invoicing
from connections.sync.customers import (
    LEASE_BUSY,
    SyncUnavailable,
    active_connection,
    run_customer_sync,
)
from connections.sync.models import InvoiceLink, InvoiceState, RunKind

from .models import Finding, FindingStatus

AUTOMATIC = {
    "void_invoice",
    "create_invoice",
    "update_crm_payment",
    "add_missing_lines",
    "apply_credit",
}
PROVIDER_ERRORS = (retries.ProviderError, retries.Transient, retries.RateLimited)
# How long approving "create the missing invoice" waits for the client's sync lease. It runs
# in the page's request, holding the finding's row lock: a running sync or a dead worker's
# lease (lapsing within 30 s) must not hold the page, least of all a bulk approval.
FIX_LEASE_WAIT_SECONDS = 3


def before_open() -> dict:
    return {"status": FindingStatus.OPEN}


class FixRefused(ValueError):
    """The decision does not fit the finding; the message says why."""


def do_dismiss(actor: User, finding: Finding, reason: str) -> Finding:
    if not reason.strip():
        raise FixRefused("Say why it is dismissed.")
    with transaction.atomic():
        locked = Finding.objects.select_for_update().get(pk=finding.pk)
        if locked.status != FindingStatus.OPEN:
            raise FixRefused("This finding was already decided.")
        locked.status, locked.decision_note = FindingStatus.DISMISSED, reason.strip()
        locked.decided_by, locked.decided_at = actor, timezone.now()
        locked.save()
        after = {"status": locked.status, "reason": reason}
        audit(locked.client.firm, actor, "finding.dismissed", locked, before_open(), after)
    return locked


def do_undo_dismiss(actor: User, finding: Finding) -> Finding:
    """Take a dismissal back: the finding is open again, and comes back next month."""
    with transaction.atomic():
        locked = Finding.objects.select_for_update().get(pk=finding.pk)
        if locked.status != FindingStatus.DISMISSED:
            raise FixRefused("Only a dismissed finding can be taken back.")
        before = {"status": locked.status, "reason": locked.decision_note}
        locked.status, locked.decision_note = FindingStatus.OPEN, ""
        locked.decided_by, locked.decided_at = None, None
        locked.save()
        audit(locked.client.firm, actor, "finding.dismissal_undone", locked, before, before_open())
    return locked


def do_approve(actor: User, finding: Finding) -> Finding:
    """Run the proposed fix once. The row is locked while it runs, so a double click or a
    second accountant cannot run it twice; a failure stays visible on the finding."""
    with transaction.atomic():
        locked = Finding.objects.select_for_update().get(pk=finding.pk)
        if locked.status != FindingStatus.OPEN:
            raise FixRefused("This finding was already decided.")
        action = locked.fix.get("action", "review")
        if action not in AUTOMATIC:
            raise FixRefused(
                "No safe automatic fix: correct it by hand, then dismiss it saying so."
            )
        before = {"status": locked.status}
        try:
            result = FIXES[action](locked)
        except (*PROVIDER_ERRORS, SyncUnavailable) as error:
            # Still open and counted: the problem is still there; the error says why.
            locked.fix_error, locked.fix_failed_at = str(error), timezone.now()
            result = {"error": str(error)}
        else:
            locked.status, locked.decision_note = FindingStatus.FIXED, result.get("words", "")
            locked.decided_by, locked.decided_at = actor, timezone.now()
            locked.fix_error, locked.fix_failed_at = "", None
        locked.evidence = {**locked.evidence, "fix_result": result}
        locked.save()
        after = {"status": locked.status, "action": action, "result": result}
        audit(locked.client.firm, actor, "finding.fix_approved", locked, before, after)
    return locked


def _void(finding: Finding) -> dict:
    books = accounting_adapter(active_connection(finding.client, Kind.ACCOUNTING))
    invoice_id = finding.fix["invoice_id"]
    before = books.receivable()
    voided = books.void_invoice(invoice_id)
    after = books.receivable()
    if not voided.voided:
        raise retries.ProviderError(f"invoice {invoice_id} is not void after the fix")
    return {
        "words": f"Invoice {voided.doc_number or invoice_id} voided; "
        f"receivable {before:,.2f} → {after:,.2f} {voided.total.currency}.",
        "receivable_before": str(before),
        "receivable_after": str(after),
    }


def _create(finding: Finding) -> dict:
    """The missing invoice, made by invoice sync's exactly-once path for this one deal."""
    client, deal_id = finding.client, finding.fix["deal_id"]
    InvoiceLink.objects.update_or_create(
        client=client,
        deal_id=deal_id,
        defaults={"state": InvoiceState.HELD, "reason": "approved from a reconciliation finding"},
    )
    run = run_customer_sync(
        client,
        kind=RunKind.MANUAL,
        crm_ids={"deals": [deal_id]},
        wait_seconds=FIX_LEASE_WAIT_SECONDS,
    )
    if run.error == LEASE_BUSY:
        raise retries.ProviderError(
            "a sync of this client is running (or a stopped worker's hold on it has not "
            "lapsed yet, at most 30 s), so nothing was written. Approve it again in a minute."
        )
    link = InvoiceLink.objects.get(client=client, deal_id=deal_id)
    if link.state != InvoiceState.CREATED:
        raise retries.ProviderError(f"the invoice was not created: {link.reason or run.error}")
    words = f"Invoice {link.doc_number} created from deal {deal_id}."
    return {"words": words, "invoice_id": link.accounting_id}


def _update_crm(finding: Finding) -> dict:
    client = finding.client
    books = accounting_adapter(active_connection(client, Kind.ACCOUNTING))
    crm = crm_adapter(active_connection(client, Kind.CRM))
    invoice = _read_invoice(books, finding.fix["invoice_id"])
    paid = invoice.total.amount - invoice.balance.amount
    status = "paid" if invoice.balance.amount <= 0 else "partially_paid" if paid > 0 else "unpaid"
    results = crm.update_records(
        "deals",
        {
            finding.fix["deal_id"]: {
                "syncfirm_payment_status": status,
                "syncfirm_amount_paid": str(paid),
                "syncfirm_balance": str(invoice.balance.amount),
            }
        },
    )
    if not results or not results[0].ok:
        raise retries.ProviderError("HubSpot did not take the update")
    InvoiceLink.objects.filter(client=client, deal_id=finding.fix["deal_id"]).update(
        payment_status=status, amount_paid=paid, balance=invoice.balance.amount
    )
    return {
        "words": f"Deal now shows {status.replace('_', ' ')}: {paid:,.2f} paid, "
        f"{invoice.balance} due."
    }


def _add_lines(finding: Finding) -> dict:
    """The deal's lines the invoice lacks, appended to it; its own lines stay."""
    client = finding.client
    books = accounting_adapter(active_connection(client, Kind.ACCOUNTING))
    crm = crm_adapter(active_connection(client, Kind.CRM))
    deal = crm.deals(crm.read_records("deals", [finding.fix["deal_id"]]))[0]
    if deal.problems:
        raise FixRefused(f"the deal could not be read: {'; '.join(deal.problems)}")
    invoice = _read_invoice(books, finding.fix["invoice_id"])
    index = invoicing.item_index(books.items())
    have = Counter((line.item_id, line.quantity) for line in invoice.lines)
    missing = []
    for line in deal.lines:
        item = invoicing.find_item(index, line.sku, line.name)
        if item is None:
            raise FixRefused(f"the books have no product {line.sku or line.name!r}")
        if have[(item.external_id, line.quantity)]:
            have[(item.external_id, line.quantity)] -= 1
            continue
        net = line.unit_price - line.discount
        missing.append(
            invoicing.DraftLine(item.external_id, line.name, line.quantity, net,
                                invoicing.cents(line.quantity * net), line.description or line.name)
        )  # fmt: skip
    if not missing:
        return {"words": "The invoice already has every line of the deal."}
    after = books.add_invoice_lines(invoice.external_id, missing)
    wanted = sum(
        (invoicing.cents(d.quantity * (d.unit_price - d.discount)) for d in deal.lines), Decimal(0)
    )
    lines_total = sum((line.amount for line in after.lines), Decimal(0))
    if lines_total != wanted:
        raise retries.ProviderError(
            f"the invoice's lines add up to {lines_total}, the deal's to {wanted}"
        )
    return {
        "words": f"{len(missing)} line(s) added to invoice {after.doc_number}; it matches the deal."
    }


def _apply_credit(finding: Finding) -> dict:
    """Apply a payment's unapplied money, or a credit memo, to the open invoice. Both are
    read first: money already used or an invoice already paid is refused, not applied
    twice; the invoice is read again afterwards to check its balance fell by the amount."""
    fix = finding.fix
    books = accounting_adapter(active_connection(finding.client, Kind.ACCOUNTING))
    amount = Decimal(fix["amount"])
    invoice = _read_invoice(books, fix["invoice_id"])
    doc = invoice.doc_number or invoice.external_id
    if "payment_id" in fix:
        what = f"payment {fix['payment_id']}"
        found = books.payments_by_id([fix["payment_id"]])
        left = found[0].unapplied if found else None
    else:
        what = f"credit memo {fix['credit_id']}"
        found = books.credit_memos_by_id([fix["credit_id"]])
        left = found[0].remaining if found else None
    if left is None:
        raise retries.ProviderError(f"QuickBooks has no {what}")
    if left < amount:
        raise FixRefused(
            f"{what.capitalize()} has {left:,.2f} left unapplied, less than {amount:,.2f}: "
            "it was used meanwhile. Reconcile again to see what is still open."
        )
    if invoice.balance.amount < amount:
        raise FixRefused(
            f"Invoice {doc} is open for {invoice.balance.amount:,.2f} only, less than "
            f"{amount:,.2f}: it was paid meanwhile. Reconcile again to see what is still open."
        )
    if "payment_id" in fix:
        books.apply_payment(fix["payment_id"], invoice.external_id, amount)
    else:
        books.apply_credit_memo(fix["credit_id"], invoice.external_id, amount)
    after = _read_invoice(books, invoice.external_id)
    if after.balance.amount != invoice.balance.amount - amount:
        raise retries.ProviderError(
            f"invoice {doc} is open for {after.balance.amount:,.2f} after the fix, "
            f"not {invoice.balance.amount - amount:,.2f}"
        )
    return {
        "words": f"{what.capitalize()} ({amount:,.2f} {invoice.balance.currency}) applied to "
        f"invoice {doc}; it is open for {after.balance.amount:,.2f} now.",
        "balance_before": str(invoice.balance.amount),
        "balance_after": str(after.balance.amount),
    }


def _read_invoice(books, invoice_id: str):
    """The invoice a fix acts on; one the books hold but syncfirm cannot read is refused
    with the reason, never acted on half-read."""
    found = books.invoices_by_id([invoice_id])
    if not found:
        why = (
            "; ".join(str(u) for u in books.unreadable) or f"QuickBooks has no invoice {invoice_id}"
        )
        raise retries.ProviderError(why)
    return found[0]


FIXES = {
    "void_invoice": _void,
    "create_invoice": _create,
    "update_crm_payment": _update_crm,
    "add_missing_lines": _add_lines,
    "apply_credit": _apply_credit,
}
