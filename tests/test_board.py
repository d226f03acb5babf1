"""The dashboard's filters, orders and totals over each client's figures."""

from datetime import UTC, datetime
from decimal import Decimal

from dashboard.board import ordered, shown, totals


def row(name, at_stake="0", findings=0, conflicts=0, broken=0, synced=None, currency="USD"):
    return {
        "pk": name, "name": name, "slug": name.lower().replace(" ", "-"),
        "at_stake": Decimal(at_stake), "currency": currency, "open_findings": findings,
        "material_findings": findings, "open_conflicts": conflicts,
        "broken_connections": broken, "last_sync_status": None,
        "last_sync_at": synced, "last_recon_period": None, "last_recon_status": None,
        "stake_by_currency": None,
    }  # fmt: skip


ROWS = [
    row("Acme Roofing", "500.00", findings=2),
    row("Birch Electric", broken=1),
    row("cedar Plumbing", "9000.00", findings=1, conflicts=3,
        synced=datetime(2026, 11, 2, tzinfo=UTC)),
    row("Dune HVAC", synced=datetime(2026, 12, 1, tzinfo=UTC)),
    row("Elm Builders", "75.00", findings=1, currency="CAD"),
]  # fmt: skip


def names(rows):
    return [r["name"] for r in rows]


def test_worst_first_puts_a_broken_connection_before_money_at_stake():
    assert names(ordered(ROWS, "worst")) == [
        "Birch Electric", "cedar Plumbing", "Acme Roofing", "Elm Builders", "Dune HVAC",
    ]  # fmt: skip


def test_names_sort_without_regard_to_case_and_never_synced_comes_last():
    assert names(ordered(ROWS, "name"))[:3] == ["Acme Roofing", "Birch Electric", "cedar Plumbing"]
    assert names(ordered(ROWS, "last_sync"))[:2] == ["Dune HVAC", "cedar Plumbing"]


def test_filters_and_search_keep_only_what_they_say():
    assert names(shown(ROWS, "attention")) == [
        "Acme Roofing", "Birch Electric", "cedar Plumbing", "Elm Builders",
    ]  # fmt: skip
    assert names(shown(ROWS, "connections")) == ["Birch Electric"]
    late = [*ROWS, {**row("Fir Decks"), "integration": "degraded"}]
    assert names(shown(late, "connections")) == ["Birch Electric", "Fir Decks"]
    assert names(shown(ROWS, "all", "CEDAR")) == ["cedar Plumbing"]
    assert shown(ROWS, "conflicts", "acme") == []


def test_totals_keep_each_currency_apart():
    figures = totals(ROWS)
    assert figures["amounts"] == [(Decimal("75.00"), "CAD"), (Decimal("9500.00"), "USD")]
    assert (figures["count"], figures["conflicts"], figures["attention"]) == (4, 3, 4)
    assert figures["clients"] == 5


def test_worst_first_puts_a_broken_integration_with_the_broken_connections():
    """GIVEN a client whose syncs stopped (integration broken) with nothing at stake
    THEN it comes before money at stake, as a connection that stopped working does; a
    degraded one keeps its place by money."""
    stopped = {**row("Fir Drywall"), "integration": "broken"}
    slow = {**row("Gum Tree Glass"), "integration": "degraded"}
    assert names(ordered([*ROWS, stopped, slow], "worst"))[:3] == [
        "Birch Electric", "Fir Drywall", "cedar Plumbing",
    ]  # fmt: skip
