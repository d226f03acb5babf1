"""Keeping `OpenTotals` equal to the findings: recomputed for a client whenever one of its
findings is saved (a signal, so no decision path can forget it), and after the bulk writes
that send no signals (a reconciliation's ledger update, a company change). Findings are only
deleted with their client, whose totals go with it: no delete signal, so deleting a client
with 100,000 findings is one statement, not one recount per finding."""

from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.db.models.signals import post_save
from django.dispatch import receiver

from .models import Finding, FindingStatus, OpenTotals

CENT = Decimal("0.01")  # SQLite sums without the scale


def refresh(client_ids, create: bool = True) -> None:
    """Recount the open findings of these clients, from the findings themselves. With
    `create` off, only clients that have totals already are updated (a client being deleted
    must not get a new row)."""
    found: dict[int, dict] = {pk: {} for pk in set(client_ids)}
    rows = (
        Finding.objects.filter(client_id__in=found, status=FindingStatus.OPEN)
        .order_by()
        .values("client_id", "currency")
        .annotate(
            count=Count("*"), amount=Sum("amount"), high=Count("pk", filter=Q(severity="high"))
        )
    )
    high: dict[int, int] = dict.fromkeys(found, 0)
    for row in rows:
        found[row["client_id"]][row["currency"]] = [row["count"], str(row["amount"].quantize(CENT))]
        high[row["client_id"]] += row["high"]
    for client_id, by_currency in found.items():
        values = {
            "count": sum(n for n, _ in by_currency.values()),
            "high": high[client_id],
            "amount": sum((Decimal(a) for _, a in by_currency.values()), Decimal("0.00")),
            "by_currency": by_currency,
        }
        if create:
            OpenTotals.objects.update_or_create(client_id=client_id, defaults=values)
        else:  # saved, not updated in bulk, so the dashboard hears of it
            for kept in OpenTotals.objects.filter(client_id=client_id):
                for name, value in values.items():
                    setattr(kept, name, value)
                kept.save()


@receiver(post_save, sender=Finding)
def _finding_saved(sender, instance: Finding, raw: bool = False, **kwargs) -> None:
    if not raw:  # not while fixtures load
        refresh([instance.client_id])
