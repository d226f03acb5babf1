"""Checks between reconciliations, on every sync: the books' invoices changed since the last
sync are compared with their customers' other open invoices by the duplicate detector, so a
duplicate keyed by hand is flagged the day it is keyed, not at month end.

A problem found here is the same finding the month's reconciliation would open (the same
code and records give the same key, `ledger.problem_key`): that run carries it forward
instead of opening a second one. The client's staff are emailed once per new finding.
"""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse

from clients.models import Client
from clients.names import header_safe
from connections.records import Invoice
from sync.models import InvoiceLink, SyncSettings

from . import detectors, ledger, totals
from .models import Finding

log = logging.getLogger(__name__)
MOST_CUSTOMERS = 25  # customers whose open invoices one sync reads (a bulk import waits)


def duplicates_in_changes(
    sender, client: Client, invoices: list[Invoice], accounting, **kwargs
) -> int:
    """`sync.signals.books_invoices_changed`: how many new findings it opened."""
    # Imported here: connected at start-up, this module must not load the provider clients.
    from .run import snap_invoice

    fresh = [i for i in invoices if not i.voided and i.txn_date and i.customer_id]
    customers = sorted({i.customer_id for i in fresh})
    if not fresh or len(customers) > MOST_CUSTOMERS:
        return 0  # nothing new, or an import: the month's reconciliation reads it all
    pool = {i.external_id: i for i in fresh}
    for customer_id in customers:
        open_invoices, _, _ = accounting.open_transactions(customer_id)
        pool.update({i.external_id: i for i in open_invoices if i.txn_date})
    sync_settings = SyncSettings.for_client(client)
    links = dict(
        InvoiceLink.objects.filter(client=client, accounting_id__in=list(pool)).values_list(
            "accounting_id", "deal_id"
        )
    )
    pattern, currency = sync_settings.invoice_number_pattern, sync_settings.books_currency
    snaps = [snap_invoice(i, links, pattern, currency) for i in pool.values()]
    changed = {i.external_id for i in fresh}
    found = [f for f in detectors.duplicate_invoices(snaps) if set(f.invoice_ids) & changed]
    opened = [made for f in found if (made := _open(client, f)) is not None]
    if opened:
        totals.refresh([client.pk])
        _tell(client, opened)
    return len(opened)


def _open(client: Client, found: detectors.Finding) -> Finding | None:
    from .run import local_today

    key = ledger.problem_key(found)
    if Finding.objects.filter(client=client, key=key).exists():
        return None  # known already: the ledger's rules (dismissed stays dismissed) hold
    month = local_today(client).replace(day=1)
    return Finding.objects.create(
        client=client,
        key=key,
        code=found.code,
        severity=found.severity,
        amount=found.amount,
        currency=found.currency,
        direction=found.direction,
        reason=found.reason,
        deal_id=found.deal_id,
        invoice_ids=list(found.invoice_ids),
        customer_id=found.customer_id,
        record_ids=list(found.record_ids),
        evidence={**found.evidence, "found_by": "sync"},
        fix=found.fix,
        fingerprint=ledger.fingerprint(found),
        first_period=month,
        last_period=month,
        change_note="Found by a sync, between monthly reconciliations.",
    )


def _tell(client: Client, opened: list[Finding]) -> None:
    from connections.actions import alert_recipients  # loads the provider clients

    page = settings.PUBLIC_BASE_URL.rstrip("/") + reverse("review_findings")
    lines = [f"- {f.code_label}: {f.reason}" for f in opened]
    send_mail(
        subject=header_safe(f"{client.name}: possible duplicate invoice in the books"),
        message="A sync of the books found:\n"
        + "\n".join(lines)
        + f"\n\nReview it before month end: {page}?client={client.slug}\n",
        from_email=None,
        recipient_list=alert_recipients(client),
    )
