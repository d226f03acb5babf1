"""One reconciliation: snapshot both systems through the adapters into local tables, run the
detectors over the snapshot, store the findings. A dismissed finding whose data has not
changed is not raised again."""

import hashlib
import json
import logging
from dataclasses import replace
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from clients.models import Client
from connections import retries
from connections.adapters import accounting_adapter, crm_adapter
from connections.numbers import BadValue, hubspot_number
from connections.providers import Kind
from connections.sync.customers import SyncUnavailable, active_connection
from connections.sync.invoicing import doc_number, referenced_deal
from connections.sync.models import CustomerLink, InvoiceLink, SyncSettings

from . import balances, detectors, totals
from .models import (
    Finding,
    FindingStatus,
    Reconciliation,
    ReconStatus,
    SnapshotCredit,
    SnapshotDeal,
    SnapshotInvoice,
)
from .periods import PeriodRefused, check_period
from .stored_balances import store_balances

log = logging.getLogger(__name__)
BULK = 2000
ZERO = Decimal("0.00")


def local_today(client: Client) -> date:
    return timezone.now().astimezone(client.tzinfo).date()


def client_period(client: Client, text: str | date) -> date:
    """The month `text` names, when it is in the client's history (else PeriodRefused)."""
    return check_period(text, local_today(client))


def reconcile(
    client: Client,
    period: date,
    *,
    user=None,
    stale_after_days: int | None = None,
    recon: Reconciliation | None = None,
) -> Reconciliation:
    """Run and store a reconciliation of `client` for the month starting `period` (into
    `recon` when one was queued). It always ends: whatever goes wrong is recorded on the run
    as failed with the reason, never raised past here and never left "running"."""
    if recon is None:
        recon = Reconciliation.objects.create(
            client=client, period=period.replace(day=1), started_by=user
        )
    try:
        client_period(client, period)
        if stale_after_days is None:
            stale_after_days = SyncSettings.for_client(client).stale_after_days
        recon.stage = "Reading both systems"
        recon.save(update_fields=["stage"])
        snapshot = take_snapshot(client, recon)
        recon.stage = "Looking for discrepancies"
        recon.save(update_fields=["stage"])
        found = detectors.detect(
            invoices=snapshot["invoices"],
            credits=snapshot["credits"],
            deals=snapshot["deals"],
            today=_period_end(period, client),
            stale_after_days=stale_after_days,
            payments=snapshot["payments"],
        )
        rows = None
        if snapshot["crm_read"]:  # without the CRM's side there is nothing to set beside
            rows, unexplained = balances.customer_balances(
                snapshot["deals"],
                snapshot["receivables"],
                found,
                compared=snapshot["compared"],
                doc_numbers={i.id: i.doc_number for i in snapshot["invoices"]},
            )
            found += unexplained
        store_findings(client, recon, found)
        if rows is not None:
            stored = store_balances(client, period, rows)
            recon.counts = {**recon.counts, "balances": stored}
        recon.status = ReconStatus.PARTIAL if recon.not_checked else ReconStatus.DONE
    except (SyncUnavailable, PeriodRefused) as error:
        recon.status, recon.error = ReconStatus.FAILED, str(error)
    except (retries.ProviderError, retries.Transient, retries.RateLimited) as error:
        recon.status, recon.error = ReconStatus.FAILED, f"A system stopped answering: {error}"
    except Exception as error:  # a run always ends: recorded, logged, never left running
        log.exception("reconciliation %s of %s failed", recon.pk, client)
        recon.status = ReconStatus.FAILED
        recon.error = f"Unexpected error: {type(error).__name__}: {error}"
    recon.finished_at, recon.stage = timezone.now(), "Finished"
    recon.save()
    return recon


def _period_end(period: date, client: Client) -> date:
    """The day the month is judged on: its last day, or today for the current month."""
    first = period.replace(day=1)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return min(local_today(client), date.fromordinal(following.toordinal() - 1))


def take_snapshot(client: Client, recon: Reconciliation) -> dict:
    accounting = accounting_adapter(active_connection(client, Kind.ACCOUNTING))
    settings = SyncSettings.for_client(client)
    invoices = accounting.all_invoices()
    credits = accounting.credit_memos()
    payments = accounting.payments()
    customers = accounting.all_customers()
    deals, crm_read = [], False
    try:
        crm = crm_adapter(active_connection(client, Kind.CRM))
        won = set(settings.won_stages) or crm.won_stages()
        records, cursor = [], None
        while True:
            page = crm.records("deals", cursor)
            records.extend(page.records)
            if not (cursor := page.next_cursor):
                break
        deals = crm.deals([r for r in records if r.properties.get("dealstage") in won])
        crm_read = True
    except (
        SyncUnavailable,
        retries.ProviderError,
        retries.Transient,
        retries.RateLimited,
    ) as error:
        # The books alone still show duplicates and stale invoices; say what was not compared.
        recon.not_checked.append(f"the CRM side (deals, payment status): {error}")
    links = dict(
        InvoiceLink.objects.filter(client=client)
        .exclude(accounting_id="")
        .values_list("accounting_id", "deal_id")
    )
    customer_of = {
        (link.crm_type, link.crm_id): link.accounting_id
        for link in CustomerLink.objects.filter(client=client)
    }
    pattern = settings.invoice_number_pattern
    unreadable = [str(u) for u in accounting.unreadable]
    # A deal whose invoice could not be read is not compared either: it would read as
    # missing its invoice, and the fix for that would write a second one.
    unread_invoice_of = {links[u.external_id]: u for u in accounting.unreadable
                         if u.kind == "invoice" and u.external_id in links}  # fmt: skip
    unread_invoice_of |= {
        _deal_from_number(pattern, u.number): u
        for u in accounting.unreadable
        if u.kind == "invoice" and u.number
    }
    snap_invoices = []
    for invoice in invoices:
        if not invoice.txn_date:  # a month's books are judged by date: undated is unread
            unreadable.append(f"invoice {invoice.doc_number or invoice.external_id} has no date")
            continue
        deal_id = links.get(invoice.external_id) or referenced_deal(invoice.private_note) or ""
        if not deal_id and invoice.doc_number.startswith(pattern.split("{")[0] or "\x00"):
            deal_id = _deal_from_number(pattern, invoice.doc_number)
        if not invoice.customer_id:
            name = invoice.doc_number or invoice.external_id
            recon.not_checked.append(f"invoice {name}: no customer to compare with")
        snap_invoices.append(
            detectors.SnapInvoice(
                id=invoice.external_id,
                doc_number=invoice.doc_number,
                customer_id=invoice.customer_id,
                txn_date=date.fromisoformat(invoice.txn_date),
                total=invoice.total.amount,
                balance=invoice.balance.amount,
                currency=invoice.total.currency or settings.books_currency,
                deal_id=deal_id,
                lines=tuple((line.item_id, line.quantity, line.amount) for line in invoice.lines),
                due_date=date.fromisoformat(invoice.due_date) if invoice.due_date else None,
                voided=invoice.voided,
            )
        )
    snap_credits = []
    for c in credits:
        if not c.txn_date:
            unreadable.append(f"credit memo {c.external_id} has no date")
            continue
        snap_credits.append(
            detectors.SnapCredit(
                c.external_id,
                c.customer_id,
                date.fromisoformat(c.txn_date),
                c.total,
                c.deal_id,
                c.remaining,
            )
        )
    snap_payments = []
    for p in payments:
        if not p.txn_date:
            unreadable.append(f"payment {p.external_id} has no date")
            continue
        snap_payments.append(
            detectors.SnapPayment(
                p.external_id,
                p.customer_id,
                date.fromisoformat(p.txn_date),
                p.total.amount,
                p.unapplied,
                p.total.currency or settings.books_currency,
            )
        )
    receivables = [
        balances.Receivable(
            c.external_id,
            c.display_name,
            c.balance.amount,
            c.balance.currency or settings.books_currency,
        )
        for c in customers
        if c.balance is not None
    ]
    snap_deals = []
    for deal in deals:
        props = deal.properties
        try:
            paid = hubspot_number(props.get("syncfirm_amount_paid"), "amount paid", default=ZERO)
        except BadValue as error:
            deal = replace(deal, problems=(*deal.problems, str(error)))
        if deal.problems:
            unreadable.append(f"deal {deal.external_id} ({deal.name}) could not be read: "
                              + "; ".join(deal.problems))  # fmt: skip
            continue
        if deal.external_id in unread_invoice_of:
            unread = unread_invoice_of[deal.external_id]
            name = unread.number or unread.external_id
            unreadable.append(f"deal {deal.external_id} ({deal.name}): its invoice {name} "
                              "could not be read")  # fmt: skip
            continue
        customer = _customer_for(deal, customer_of)
        lines = tuple(
            (
                line.sku or line.name,
                line.quantity,
                _cents(line.quantity * (line.unit_price - line.discount)),
            )
            for line in deal.lines
        )
        snap_deals.append(
            detectors.SnapDeal(
                id=deal.external_id,
                name=deal.name,
                won=True,
                amount=deal.amount.amount if deal.amount else Decimal("0.00"),
                payment_status=props.get("syncfirm_payment_status", "") or "",
                amount_paid=paid,
                customer_id=customer,
                lines=lines,
                close_date=deal.close_date.date() if deal.close_date else None,
                currency=deal.currency or settings.books_currency,
            )
        )
    _store_snapshot(recon, snap_invoices, snap_credits, snap_deals)
    if unreadable:
        # Left out of the comparison, and said: a run that skipped records never reads clean.
        recon.not_checked.append(
            f"{len(unreadable)} record(s) could not be read and were left out: "
            + "; ".join(unreadable)
        )
    currencies = {i.currency for i in snap_invoices}
    if len(currencies) > 1:
        listed = ", ".join(sorted(currencies))
        recon.not_checked.append(f"invoices in several currencies ({listed}): compared as is")
    # Customer balances are compared only when both whole sides were read, and only for
    # customers the CRM knows: a record left out would read as a difference.
    compared = set(customer_of.values()) if crm_read and not unreadable else set()
    compared -= {c.external_id for c in customers if c.balance is None}
    if crm_read and unreadable:
        recon.not_checked.append("customer balances: not compared, records were left out")
    recon.counts = {
        "invoices": len(snap_invoices),
        "credits": len(snap_credits),
        "payments": len(snap_payments),
        "customers": len(receivables),
        "won_deals": len(snap_deals),
        "unreadable": len(unreadable),
    }
    return {
        "invoices": snap_invoices,
        "credits": snap_credits,
        "deals": snap_deals,
        "payments": snap_payments,
        "receivables": receivables,
        "customer_names": {c.external_id: c.display_name for c in customers},
        "compared": compared,
        "crm_read": crm_read,
    }


def _customer_for(deal, customer_of: dict) -> str:
    """The accounting customer of a deal: its company's link, else its contact's."""
    for crm_type, ids in (("companies", deal.company_ids), ("contacts", deal.contact_ids)):
        for crm_id in ids:
            if (crm_type, crm_id) in customer_of:
                return customer_of[(crm_type, crm_id)]
    return ""


def _cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


def _deal_from_number(pattern: str, number: str) -> str:
    head, _, tail = pattern.partition("{deal_id}")
    if number.startswith(head) and number.endswith(tail):
        middle = number[len(head) : len(number) - len(tail) if tail else None]
        if middle.isdigit() and doc_number(pattern, middle) == number:
            return middle
    return ""


def _store_snapshot(recon, invoices, credits, deals) -> None:
    with transaction.atomic():
        SnapshotInvoice.objects.bulk_create(
            (
                SnapshotInvoice(
                    reconciliation=recon, external_id=i.id, doc_number=i.doc_number[:40],
                    customer_id=i.customer_id, txn_date=i.txn_date, due_date=i.due_date,
                    total=i.total, balance=i.balance, currency=i.currency[:3], deal_id=i.deal_id,
                    lines=[[a, str(q), str(m)] for a, q, m in i.lines], voided=i.voided,
                )
                for i in invoices
            ),
            batch_size=BULK,
        )  # fmt: skip
        SnapshotCredit.objects.bulk_create(
            (
                SnapshotCredit(reconciliation=recon, external_id=c.id, customer_id=c.customer_id,
                               txn_date=c.txn_date, amount=c.amount, deal_id=c.deal_id)
                for c in credits
            ),
            batch_size=BULK,
        )  # fmt: skip
        SnapshotDeal.objects.bulk_create(
            (
                SnapshotDeal(
                    reconciliation=recon, external_id=d.id, name=d.name[:300], won=d.won,
                    amount=d.amount, currency=d.currency[:3], payment_status=d.payment_status[:20],
                    amount_paid=d.amount_paid, customer_id=d.customer_id, close_date=d.close_date,
                    lines=[[a, str(q), str(m)] for a, q, m in d.lines],
                )
                for d in deals
            ),
            batch_size=BULK,
        )  # fmt: skip


INVOICE_FIELDS = (
    "external_id", "doc_number", "customer_id", "txn_date", "total", "balance", "currency",
    "deal_id", "lines", "due_date", "voided",
)  # fmt: skip
DEAL_FIELDS = (
    "external_id", "name", "won", "amount", "payment_status", "amount_paid", "customer_id",
    "lines", "close_date", "currency",
)  # fmt: skip


def _lines(rows) -> tuple:
    return tuple((a, Decimal(q), Decimal(m)) for a, q, m in rows)


def invoice_record(row: tuple) -> detectors.SnapInvoice:
    """A snapshot invoice row (values of INVOICE_FIELDS) as the detectors' record."""
    i, d, c, t, tot, bal, cur, deal, ls, due, v = row
    return detectors.SnapInvoice(i, d, c, t, tot, bal, cur, deal, _lines(ls), due, v)


def deal_record(row: tuple) -> detectors.SnapDeal:
    """A snapshot deal row (values of DEAL_FIELDS) as the detectors' record."""
    i, n, w, a, ps, paid, c, ls, close, cur = row
    return detectors.SnapDeal(i, n, w, a, ps, paid, c, _lines(ls), close, cur)


def load_snapshot(recon: Reconciliation) -> dict:
    """The stored snapshot as the detectors' records (one query per table)."""
    invoices = [invoice_record(r) for r in recon.invoices.values_list(*INVOICE_FIELDS)]
    credits = [
        detectors.SnapCredit(*row)
        for row in recon.credits.values_list(
            "external_id", "customer_id", "txn_date", "amount", "deal_id"
        )
    ]
    deals = [deal_record(r) for r in recon.deals.values_list(*DEAL_FIELDS)]
    return {"invoices": invoices, "credits": credits, "deals": deals}


def reconcile_snapshot(
    recon: Reconciliation, today: date, stale_after_days: int = 90
) -> list[detectors.Finding]:
    """From the stored snapshot to stored findings."""
    snapshot = load_snapshot(recon)
    found = detectors.detect(**snapshot, today=today, stale_after_days=stale_after_days)
    store_findings(recon.client, recon, found)
    return found


def fingerprint(found: detectors.Finding) -> str:
    """The finding and the data it rests on: the same problem with the same numbers."""
    key = [found.code, found.deal_id, sorted(found.invoice_ids), str(found.amount), found.evidence]
    return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()


def record_links(portal: str, found: detectors.Finding) -> dict:
    """Where an accountant opens the records of a finding in each system."""
    links = {}
    if found.deal_id and portal:
        links["deal"] = f"https://app.hubspot.com/contacts/{portal}/record/0-3/{found.deal_id}"
    for invoice_id in found.invoice_ids:
        links[f"invoice {invoice_id}"] = (
            f"https://app.qbo.intuit.com/app/invoice?txnId={invoice_id}"
        )
    return links


def store_findings(client: Client, recon: Reconciliation, found: list[detectors.Finding]) -> None:
    dismissed = set(
        Finding.objects.filter(client=client, status=FindingStatus.DISMISSED).values_list(
            "fingerprint", flat=True
        )
    )
    portal = (
        client.connections.filter(system="hubspot").values_list("external_id", flat=True).first()
        or ""
    )
    rows = []
    for f in found:
        print_ = fingerprint(f)
        if print_ in dismissed:
            continue
        rows.append(
            Finding(
                client=client, reconciliation=recon, code=f.code, severity=f.severity,
                amount=f.amount, currency=f.currency, direction=f.direction, reason=f.reason,
                deal_id=f.deal_id, invoice_ids=list(f.invoice_ids), customer_id=f.customer_id,
                evidence={**f.evidence, "links": record_links(portal, f)}, fix=f.fix,
                fingerprint=print_,
            )
        )  # fmt: skip
    with transaction.atomic():  # all of a run's findings or none of them
        Finding.objects.bulk_create(rows, batch_size=BULK)
        totals.refresh([client.pk])  # bulk_create sends no signals
    by_code: dict[str, int] = {}
    for row in rows:
        by_code[row.code] = by_code.get(row.code, 0) + 1
    recon.counts = {**recon.counts, "findings": len(rows), "by_code": by_code,
                    "skipped_as_dismissed": len(found) - len(rows)}  # fmt: skip
