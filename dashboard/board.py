"""The firm dashboard's choices as plain functions over each client's health figures (one
dict per client, as `with_health(...).values(...)` gives them): which clients a filter
shows, in which order, and the firm's totals. The page reads every client's figures in one
query and works on them here, instead of asking the database again for the count, the
page and each total (each of which would recompute every client's subqueries)."""

from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal

HEALTH_FIELDS = (
    "pk", "name", "slug", "timezone", "at_stake", "currency", "open_findings",
    "material_findings", "open_conflicts", "broken_connections", "last_sync_status",
    "last_sync_at", "last_recon_period", "last_recon_status", "stake_by_currency", "last_recon_id",
    "integration", "integration_words",
)  # fmt: skip

SHOWS = {
    "all": "Every client",
    "attention": "Needing attention",
    "connections": "A connection or integration in trouble",
    "findings": "Open findings",
    "conflicts": "Sync decisions waiting",
}
SORTS = ("worst", "name", "at_stake", "findings", "conflicts", "last_sync", "last_recon")
_EARLIEST = datetime.min.replace(tzinfo=None)


def needs_attention(row: dict) -> bool:
    """A broken connection or integration, a decision waiting, a material finding (one that
    is "high" for this client: a few cents astray is not attention), or a month that failed
    to reconcile."""
    return bool(
        row["broken_connections"]
        or row.get("integration")
        or row["material_findings"]
        or row["open_conflicts"]
        or row["last_recon_status"] == "failed"
    )


def _shows(row: dict, show: str) -> bool:
    return {
        "all": True,
        "attention": needs_attention(row),
        "connections": row["broken_connections"] > 0 or bool(row.get("integration")),
        "findings": row["open_findings"] > 0,
        "conflicts": row["open_conflicts"] > 0,
    }[show]


def shown(rows: list[dict], show: str, query: str = "") -> list[dict]:
    """The clients a filter and a search (name or slug, any case) keep."""
    needle = query.casefold()
    return [
        r
        for r in rows
        if _shows(r, show) and (needle in r["name"].casefold() or needle in r["slug"])
    ]


def _moment(value) -> tuple:
    """Dates and times comparable, a missing one before every other."""
    if value is None:
        return (0, _EARLIEST)
    if isinstance(value, datetime):
        return (1, value.replace(tzinfo=None))
    return (1, datetime(value.year, value.month, value.day)) if isinstance(value, date) else value


def ordered(rows: list[dict], sort: str) -> list[dict]:
    """Worst first by default: a connection that stopped working (or a broken integration:
    changes no longer arrive, as one connection stopped), then money at stake, then waiting
    decisions; the others biggest or latest first; ties by name."""
    rows = sorted(rows, key=lambda r: r["name"].casefold())
    keys = {
        "worst": lambda r: (
            r["broken_connections"] or int(r.get("integration") == "broken"),
            r["at_stake"],
            r["open_conflicts"],
        ),
        "at_stake": lambda r: r["at_stake"],
        "findings": lambda r: r["open_findings"],
        "conflicts": lambda r: r["open_conflicts"],
        "last_sync": lambda r: _moment(r["last_sync_at"]),
        "last_recon": lambda r: _moment(r["last_recon_period"]),
    }
    if sort in keys:
        rows.sort(key=keys[sort], reverse=True)  # stable: names stay in order within a tie
    return rows


def stakes(by_currency: dict | None, amount: Decimal, currency: str) -> list[tuple[Decimal, str]]:
    """What is at stake in each currency (amount, currency), never one currency's figure
    added to another's; `amount` in `currency` when the kept totals say nothing else."""
    if by_currency:
        return sorted((Decimal(a), c) for c, (_, a) in by_currency.items())
    return [(amount, currency)] if amount else []


def totals(rows: list[dict]) -> dict:
    """The firm's figures: money at stake in each currency, findings, waiting decisions,
    clients needing attention."""
    at_stake: dict[str, Decimal] = defaultdict(Decimal)
    for r in rows:
        if r["open_findings"]:
            for amount, currency in stakes(r["stake_by_currency"], r["at_stake"], r["currency"]):
                at_stake[currency] += amount
    return {
        "amounts": sorted((amount, currency) for currency, amount in at_stake.items()),
        "count": sum(r["open_findings"] for r in rows),
        "conflicts": sum(r["open_conflicts"] for r in rows),
        "attention": sum(1 for r in rows if needs_attention(r)),
        "clients": len(rows),
    }
