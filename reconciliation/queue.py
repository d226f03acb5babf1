"""What the findings queue needs beyond the findings themselves, in a bounded number of
queries whatever the page size: both systems' records from each finding's snapshot, and the
open totals the page header shows."""

from datetime import date
from decimal import Decimal

from django.db.models import Count, Sum

from clients import firm_cache

from .compare import compare, compare_parties
from .models import Finding, FindingMonth, FindingStatus, OpenTotals, Reconciliation, ReconStatus
from .names import book_names
from .records import deal_from_row, invoice_from_row
from .wording import BookNames, describe


def attach_comparisons(findings: list[Finding]) -> None:
    """Set `words` (`wording.describe`) and `comparison` on each finding: its deal beside its
    invoices, as the reconciliation that last changed it saw them, records by their names
    (looked up for the whole page at once)."""
    names = book_names(findings)
    for f in findings:
        named = names.get(f.client_id, BookNames())
        f.words = describe(f, named)
        kept = f.records or {}
        deal = deal_from_row(kept["deal"]) if kept.get("deal") else None
        invoices = [invoice_from_row(row) for row in kept.get("invoices", [])]
        f.comparison = (
            compare_parties(kept["parties"])
            if kept.get("parties")
            else compare(deal, invoices, named)
        )


def queue_totals(firm, findings, chosen: dict) -> dict:
    """The queue's open totals: from the totals kept per client when the queue shows every
    client or one (no adding up of thousands of findings), counted afresh under any other
    filter."""
    if set(chosen) - {"client"}:
        return open_totals(findings)

    def summed() -> dict:
        kept = OpenTotals.objects.for_firm(firm)
        if "client" in chosen:
            kept = kept.filter(client__slug=chosen["client"])
        return _summed(kept.values_list("by_currency", flat=True))

    # Kept with the dashboard's figures: every change to a client's totals forgets them.
    return firm_cache.kept_for_firm(f"queue-totals:{chosen.get('client', '')}", firm, summed)


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


def month_totals(recons) -> None:
    """Set `found` and `at_stake` on each finished run: the ledger's view of its month (open
    at the month's end, each problem once), in one query for the whole list. A run that did
    not finish has none: it must never read as a clean month."""
    wanted = {(r.client_id, r.period) for r in recons}
    rows = (
        FindingMonth.objects.filter(
            client_id__in={c for c, _ in wanted}, period__in={p for _, p in wanted}, dismissed=False
        )
        .values("client_id", "period")
        .annotate(found=Count("*"), at_stake=Sum("amount"))
    )
    by_month = {(r["client_id"], r["period"]): r for r in rows}
    latest = latest_finished_runs(wanted)
    for recon in recons:
        seen = by_month.get((recon.client_id, recon.period), {})
        finished = recon.status in (ReconStatus.DONE, ReconStatus.PARTIAL)
        # A month's view is its latest run's: an earlier run of it shows no figures of its own
        # (they would be the later run's), only that it was replaced.
        newer = latest.get((recon.client_id, recon.period))
        recon.replaced_by = newer if finished and newer and newer[0] != recon.pk else None
        shown = finished and recon.replaced_by is None
        recon.found = seen.get("found", 0) if shown else None
        recon.at_stake = seen.get("at_stake") or Decimal("0.00") if shown else None


def latest_finished_runs(months: set[tuple[int, date]]) -> dict[tuple, tuple[int, object]]:
    """{(client id, month): (id, started_at) of its latest finished run}, in one query."""
    if not months:
        return {}
    rows = (
        Reconciliation.objects.filter(
            client_id__in={c for c, _ in months},
            period__in={p for _, p in months},
            status__in=(ReconStatus.DONE, ReconStatus.PARTIAL),
        )
        .order_by("started_at", "pk")
        .values_list("client_id", "period", "pk", "started_at")
    )
    return {(c, p): (pk, at) for c, p, pk, at in rows}  # the last of each month wins
