"""The customer balances of a reconciliation's month, for the section of the report page
and email (`partials/balances_section.html`): read here so the report's own data need not
know of them."""

from decimal import Decimal

from django import template
from django.conf import settings
from django.urls import reverse

from reconciliation.models import CustomerBalance, Reconciliation

register = template.Library()
SHOWN = 10  # the customers with the largest unexplained differences; the page has them all
ZERO = Decimal("0.00")


@register.simple_tag
def balances_of(recon: Reconciliation) -> dict:
    rows = list(CustomerBalance.objects.filter(client=recon.client_id, period=recon.period))
    differing = sorted(
        (b for b in rows if b.difference),
        key=lambda b: (-abs(b.unexplained), -abs(b.difference), b.name),
    )
    month = f"{recon.period:%Y-%m}"
    page = reverse("customer_balances", args=[recon.client.slug, month])
    return {
        "count": len(rows),
        "differing": len(differing),
        "unexplained_count": sum(1 for b in rows if b.unexplained),
        "crm_owed": sum((b.crm_owed for b in rows), ZERO),
        "books_owed": sum((b.books_owed for b in rows), ZERO),
        "explained": sum((b.explained for b in rows), ZERO),
        # Either way: a customer the CRM overstates does not cancel one it understates.
        "unexplained": sum((abs(b.unexplained) for b in rows), ZERO),
        "currency": rows[0].currency if rows else "",
        "rows": differing[:SHOWN],
        "more": max(0, len(differing) - SHOWN),
        "page": page,
        "csv": reverse("customer_balances_csv", args=[recon.client.slug, month]),
        "page_absolute": settings.PUBLIC_BASE_URL.rstrip("/") + page,
    }
