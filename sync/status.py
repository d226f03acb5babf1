"""Clients at a glance: what the dashboard and the client page show of each."""

from connections.models import Status

BROKEN = (Status.NEEDS_REAUTH, Status.ERROR)  # a connection that stopped working


def with_run_totals(runs: list) -> list:
    """Runs with customers and deals held or failed added together, as the tables show them."""
    for run in runs:
        counts = run.counts or {}
        run.held_total = counts.get("held", 0) + counts.get("invoices_held", 0)
        run.failed_total = counts.get("failed", 0) + counts.get("invoices_failed", 0)
    return runs
