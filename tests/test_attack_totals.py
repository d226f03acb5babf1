"""Attacks on the totals: each open problem counted once, and money never added across
currencies."""

from datetime import date
from decimal import Decimal

from reconciliation.models import Finding, OpenTotals, Reconciliation


def open_finding(client, recon, key: str, amount: str, currency: str) -> Finding:
    return Finding.objects.create(
        client=client, reconciliation=recon, key=key, code="missing_invoice", severity="high",
        amount=Decimal(amount), currency=currency, direction="AR understated", reason="no invoice",
        fingerprint=key, first_period=recon.period, last_period=recon.period,
    )  # fmt: skip


def test_the_client_page_never_adds_dollars_to_another_currency(two_firms, client):
    """GIVEN a client with a missing invoice of 1,000.00 USD and one of 500.00 CAD WHEN its
    page and the dashboard are read THEN they show what is at stake in each currency, as the
    queue does, never '1,500.00 USD'."""
    acme = two_firms.client_a
    recon = Reconciliation.objects.create(client=acme, period=date(2026, 11, 1), status="done")
    open_finding(acme, recon, "a", "1000.00", "USD")
    open_finding(acme, recon, "b", "500.00", "CAD")
    assert OpenTotals.objects.get(client=acme).by_currency == {
        "CAD": [1, "500.00"], "USD": [1, "1000.00"],
    }  # fmt: skip

    client.force_login(two_firms.accountant_a)
    page = client.get(f"/clients/{acme.slug}/").content.decode()
    dashboard = client.get("/").content.decode()
    queue = client.get("/review/findings/").content.decode()
    assert "500.00 CAD" in queue and "1,000.00 USD" in queue  # the queue keeps them apart
    for shown in (page, dashboard):
        assert "1,500.00" not in shown
        assert "500.00 CAD" in shown
