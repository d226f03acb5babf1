"""Clients at a glance: what the dashboard and the client page show of each."""

from connections.models import Status

BROKEN = (Status.NEEDS_REAUTH, Status.ERROR)  # a connection that stopped working


def with_run_totals(runs: list) -> list:
    """Runs with customers, deals and payments held or failed added together, as the tables
    show them."""
    for run in runs:
        counts = run.counts or {}
        run.held_total = sum(counts.get(f"{k}held", 0) for k in ("", "invoices_", "payments_"))
        run.failed_total = sum(counts.get(f"{k}failed", 0) for k in ("", "invoices_", "payments_"))
    return runs
