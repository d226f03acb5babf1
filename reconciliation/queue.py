"""What the findings queue needs beyond the findings themselves, in a bounded number of
queries whatever the page size: both systems' records from each finding's snapshot, and the
open totals the page header shows."""

from decimal import Decimal

from django.db.models import Count, Sum

from .compare import compare
from .models import Finding, FindingStatus, OpenTotals, SnapshotDeal, SnapshotInvoice
from .run import DEAL_FIELDS, INVOICE_FIELDS, deal_record, invoice_record


def attach_comparisons(findings: list[Finding]) -> None:
    """Set `comparison` on each finding: its deal beside its invoices, as the reconciliation
    saw them (two queries for the whole page)."""
    recon_ids = {f.reconciliation_id for f in findings}
    deal_ids = {f.deal_id for f in findings if f.deal_id}
    invoice_ids = {i for f in findings for i in f.invoice_ids}
    deals, invoices = {}, {}
    if deal_ids:
        rows = SnapshotDeal.objects.filter(
            reconciliation_id__in=recon_ids, external_id__in=deal_ids
        ).values_list("reconciliation_id", *DEAL_FIELDS)
        deals = {(r[0], r[1]): deal_record(r[1:]) for r in rows}
    if invoice_ids:
        rows = SnapshotInvoice.objects.filter(
            reconciliation_id__in=recon_ids, external_id__in=invoice_ids
        ).values_list("reconciliation_id", *INVOICE_FIELDS)
        invoices = {(r[0], r[1]): invoice_record(r[1:]) for r in rows}
    for f in findings:
        deal = deals.get((f.reconciliation_id, f.deal_id))
        found = [invoices.get((f.reconciliation_id, i)) for i in f.invoice_ids]
        f.comparison = compare(deal, [i for i in found if i is not None])


def queue_totals(firm, findings, chosen: dict) -> dict:
    """The queue's open totals: from the totals kept per client when the queue shows every
    client or one (no adding up of thousands of findings), counted afresh under any other
    filter."""
    if set(chosen) - {"client"}:
        return open_totals(findings)
    from connections.sync.health import kept_for_firm

    def summed() -> dict:
        kept = OpenTotals.objects.for_firm(firm)
        if "client" in chosen:
            kept = kept.filter(client__slug=chosen["client"])
        return _summed(kept.values_list("by_currency", flat=True))

    # Kept with the dashboard's figures: every change to a client's totals forgets them.
    return kept_for_firm(f"queue-totals:{chosen.get('client', '')}", firm, summed)


def _summed(per_client) -> dict:
    counts: dict[str, list] = {}
    for by_currency in per_client:
        for currency, (count, amount) in by_currency.items():
            seen = counts.setdefault(currency, [0, Decimal("0.00")])
            seen[0] += count
            seen[1] += Decimal(amount)
    return {
        "count": sum(n for n, _ in counts.values()),
        "amounts": [(amount, currency) for currency, (_, amount) in sorted(counts.items())],
    }


def open_totals(findings) -> dict:
    """Open findings of a queryset: how many, and the amount at stake in each currency."""
    rows = list(
        findings.filter(status=FindingStatus.OPEN)
        .order_by("currency")
        .values("currency")
        .annotate(count=Count("*"), amount=Sum("amount"))
    )
    return {
        "count": sum(r["count"] for r in rows),
        "amounts": [(r["amount"], r["currency"]) for r in rows],
    }
