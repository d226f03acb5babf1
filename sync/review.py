"""What a person decides about sync: resolving a conflict from the review queue, starting a
sync or the historical import. Each decision is audited and acted on by the next run,
which is queued at once for the record concerned."""

from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from clients.actions import audit
from clients.models import Client, User

from .models import (
    ACCOUNTING,
    CRM,
    DECISIONS,
    ChangeState,
    ConflictKind,
    ConflictStatus,
    CustomerLink,
    InvoiceLink,
    InvoiceState,
    MirroredCustomer,
    RunKind,
    SyncConflict,
)

# The decisions each kind of conflict offers, in the words the page shows.


def do_retry_invoice(actor: User, link: InvoiceLink) -> None:
    """A person looked at an uncertain or held invoice write: the next run looks for the
    invoice by its number first, then writes it if it is not there."""
    if link.state not in (InvoiceState.UNCERTAIN, InvoiceState.HELD):
        raise DecisionRefused("This deal's invoice is not waiting for a decision.")
    before = {"state": link.state, "attempts": link.attempts}
    link.state = InvoiceState.WRITING if link.doc_number else InvoiceState.HELD
    link.attempts, link.reason = 0, f"retry asked by {actor.email}"
    link.save(update_fields=["state", "attempts", "reason", "updated_at"])
    audit(link.client.firm, actor, "sync.invoice_retry", link, before, {"state": link.state})
    queue_sync(link.client, {"deals": [link.deal_id]})


# A baseline value no real field holds: that side then counts as changed, and wins.
CHANGED = "\u2063syncfirm:decided\u2063"  # no JSON NUL: PostgreSQL refuses it


class DecisionRefused(ValueError):
    """The decision does not fit the conflict; the message says why."""


NOTE_MAX = 2000  # as a finding's dismissal reason: a paragraph or two


NO_CUSTOMER_YET = (
    "This card compares two CRM records: there is no customer in the books to link it to. "
    "Leave it unsynced and merge the two in the CRM, or create it as a different customer."
)


def decisions_for(conflict: SyncConflict) -> dict[str, str]:
    """The decisions the card offers. A possible match held because it looks like another
    CRM record of the same run has no customer id: "link them" would be recorded, then
    ignored by every run."""
    offered = DECISIONS.get(conflict.kind, {})
    if "link" in offered and not conflict.accounting_id:
        return {k: v for k, v in offered.items() if k != "link"}
    return offered


def do_resolve_conflict(actor: User, conflict: SyncConflict, decision: str, note: str = "") -> None:
    offered = decisions_for(conflict)
    if conflict.status != ConflictStatus.OPEN:
        raise DecisionRefused("This item was already decided.")
    if decision == "link" and decision not in offered and conflict.kind in DECISIONS:
        raise DecisionRefused(NO_CUSTOMER_YET)
    if decision not in offered:
        raise DecisionRefused(f"{decision!r} is not a decision for this item.")
    if decision == "dismiss" and not note.strip():
        raise DecisionRefused("Say why it is dismissed.")
    if len(note.strip()) > NOTE_MAX:
        raise DecisionRefused(
            f"Keep the note under {NOTE_MAX:,} characters ({len(note.strip()):,} now)."
        )
    with transaction.atomic():
        # Two tabs or a double click load the card while it is open: the row decides.
        locked = SyncConflict.objects.select_for_update().only("status").get(pk=conflict.pk)
        if locked.status != ConflictStatus.OPEN:
            raise DecisionRefused("This item was already decided.")
        if decision in ("link", "create"):
            _refuse_if_linked(conflict)
        if (
            decision == "link"
            and CustomerLink.objects.filter(
                client=conflict.client, accounting_id=conflict.accounting_id
            ).exists()
        ):
            raise DecisionRefused(
                "That accounting customer is already linked to another CRM record; "
                "resolve that one first."
            )
        if conflict.kind == ConflictKind.FIELD:
            _prefer(conflict, CRM if decision == "keep_crm" else ACCOUNTING)
        if conflict.kind == ConflictKind.DEAL_CHANGED and decision == "update":
            _approve_invoice_update(conflict)
        conflict.status = (
            ConflictStatus.DISMISSED if decision == "dismiss" else ConflictStatus.RESOLVED
        )
        conflict.resolution, conflict.note = decision, note.strip()
        conflict.resolved_by, conflict.resolved_at = actor, timezone.now()
        conflict.save()
        audit(
            conflict.client.firm,
            actor,
            "sync.conflict_resolved",
            conflict,
            {"status": ConflictStatus.OPEN},
            {"decision": decision, "note": conflict.note},
        )
    queue_sync(conflict.client, {conflict.crm_type: [conflict.crm_id]})


def _refuse_if_linked(conflict: SyncConflict) -> None:
    """A card about an unlinked record, decided after a run linked or created it (a page
    loaded before): the record has its customer."""
    link = CustomerLink.objects.filter(
        client=conflict.client, crm_type=conflict.crm_type, crm_id=conflict.crm_id
    ).first()
    if link is not None and conflict.kind in (ConflictKind.NEAR_MATCH, ConflictKind.NAME_CLASH):
        known = MirroredCustomer.objects.filter(
            client=conflict.client, external_id=link.accounting_id
        ).first()
        name = f"“{known.display_name}”" if known else f"(id {link.accounting_id})"
        raise DecisionRefused(
            f"A sync has since linked this record to the accounting customer {name}; "
            "nothing was changed. Reload the page."
        )


def _approve_invoice_update(conflict: SyncConflict) -> None:
    """The next run rewrites the invoice for the version of the deal the item shows (the
    one it was raised for, kept on the link; a deal changed again since is compared afresh)."""
    updated = (
        InvoiceLink.objects.filter(
            client=conflict.client,
            deal_id=conflict.crm_id,
            state__in=[InvoiceState.CREATED, InvoiceState.HISTORICAL],
            change_state=ChangeState.REVIEW,
        )
        .exclude(change_fingerprint="")
        .update(change_state=ChangeState.APPROVED)
    )
    if not updated:
        raise DecisionRefused("This deal's invoice is not known to syncfirm; fix it in the books.")


def _prefer(conflict: SyncConflict, side: str) -> None:
    """Make the chosen side's value look changed to the next merge, so it is written over."""
    link = CustomerLink.objects.select_for_update().get(
        client=conflict.client, crm_type=conflict.crm_type, crm_id=conflict.crm_id
    )
    baseline = {k: dict(v) for k, v in (link.synced_values or {}).items()}
    other = ACCOUNTING if side == CRM else CRM
    baseline.setdefault(side, {})[conflict.field] = CHANGED
    baseline.setdefault(other, {})[conflict.field] = (
        conflict.accounting_value if other == ACCOUNTING else conflict.crm_value
    ).get(conflict.field, "")
    link.synced_values = baseline
    link.save(update_fields=["synced_values"])


def queue_sync(client: Client, crm_ids: dict[str, list[str]] | None = None, **options) -> None:
    async_task("sync.tasks.sync_client", client.pk, RunKind.MANUAL, crm_ids=crm_ids, **options)


def do_start_sync(actor: User, client: Client, what: str) -> None:
    """`what`: "sync" (now), "preview" (the import's dry run) or "import" (approve it)."""
    kinds = {"sync": RunKind.MANUAL, "preview": RunKind.IMPORT_PREVIEW, "import": RunKind.IMPORT}
    if what not in kinds:
        raise DecisionRefused(f"Unknown action {what!r}.")
    audit(client.firm, actor, f"sync.{what}_started", client, None, None)
    async_task(
        "sync.tasks.sync_client",
        client.pk,
        kinds[what],
        full=what != "sync",
        dry_run=what == "preview",
        user_id=actor.pk,
    )
