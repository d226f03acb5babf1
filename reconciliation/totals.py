"""Keeping `OpenTotals` equal to the findings: recomputed for a client whenever one of its
findings is saved or deleted (signals, so no write path can forget it), and after the bulk
writes that send no signals (a reconciliation's new findings)."""

from decimal import Decimal

from django.db.models import Count, Sum
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import Finding, FindingStatus, OpenTotals


def refresh(client_ids, create: bool = True) -> None:
    """Recount the open findings of these clients, from the findings themselves. With
    `create` off, only clients that have totals already are updated (a client being deleted
    must not get a new row)."""
    found: dict[int, dict] = {pk: {} for pk in set(client_ids)}
    rows = (
        Finding.objects.filter(client_id__in=found, status=FindingStatus.OPEN)
        .order_by()
        .values("client_id", "currency")
        .annotate(count=Count("*"), amount=Sum("amount"))
    )
    for row in rows:
        found[row["client_id"]][row["currency"]] = [row["count"], str(row["amount"])]
    for client_id, by_currency in found.items():
        values = {
            "count": sum(n for n, _ in by_currency.values()),
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


@receiver(post_delete, sender=Finding)
def _finding_deleted(sender, instance: Finding, **kwargs) -> None:
    refresh([instance.client_id], create=False)
