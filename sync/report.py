"""A sync run told to a person or a program: the summary the `sync` and `import_history`
commands print, as text or JSON."""

from connections.providers import PROVIDERS, Kind, system_words

from .models import Outcome, SyncRun

ACCOUNTING = [system for system, p in PROVIDERS.items() if p.kind == Kind.ACCOUNTING]

WORDS = {
    Outcome.CREATED: "created",
    Outcome.LINKED: "linked to an existing customer",
    Outcome.UPDATED: "updated",
    Outcome.SKIPPED: "unchanged",
    Outcome.HELD: "held (see reasons)",
    Outcome.FAILED: "failed",
}


def run_summary(run: SyncRun) -> dict:
    return {
        "run": run.pk,
        "client": run.client.slug,
        "kind": run.kind,
        "status": run.status,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "error": run.error,
        "counts": run.counts,
        "outcomes": [
            {
                "outcome": o.outcome,
                "crm_type": o.crm_type,
                "crm_id": o.crm_id,
                "accounting_id": o.accounting_id,
                "name": o.name,
                "reason": o.reason,
            }
            for o in run.outcomes.all()
        ],
    }


def run_text(run: SyncRun, *, preview: bool = False, limit: int = 25) -> str:
    counts = run.counts or {}
    verb = "would be " if preview else ""
    lines = [f"{run.get_kind_display()} of {run.client.name}: {run.get_status_display()}"]
    if run.error:
        lines.append(f"  Error: {run.error}")
    for outcome, words in WORDS.items():
        if counts.get(outcome):
            lines.append(f"  {counts[outcome]:>6}  {verb}{words}")
    for reason, n in sorted((counts.get("reasons") or {}).items(), key=lambda kv: -kv[1]):
        lines.append(f"          {n:>6} x {reason}")
    books = run.client.connections.filter(system__in=ACCOUNTING).values_list("system", flat=True)
    books = next(iter(books), None)
    for side in ("accounting", "crm"):
        pairs = counts.get(f"duplicates_{side}") or []
        if pairs:
            label = system_words(books).books if side == "accounting" else "the CRM"
            lines.append(
                f"  {len(pairs):>6}  pairs of records in {label} that look like one customer"
            )
            lines.extend(f"            {a} ~ {b} ({why})" for a, b, why in pairs[:limit])
    shown = run.outcomes.exclude(outcome=Outcome.SKIPPED)[:limit]
    if shown:
        lines.append("  Records:")
        lines.extend(
            f"    {o.outcome:<8} {o.crm_type}/{o.crm_id} {o.name!r}: {o.reason}" for o in shown
        )
    return "\n".join(lines)
