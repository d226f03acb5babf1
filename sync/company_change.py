"""What the sync engine sets aside when a client's company changes (connections/set_aside.py):
links and cursors tied to the old pair of companies, the old books' mirror, the person's
answers about records of the old pair, and the weights learnt from them."""

from clients.models import Client
from connections.set_aside import Change

from .models import (
    ConflictKind,
    ConflictStatus,
    CustomerLink,
    InvoiceLink,
    LearntMatching,
    MirroredCustomer,
    PaymentLink,
    SyncConflict,
    SyncCursor,
    SyncSettings,
)

SET_ASIDE = "set aside"  # a decided match's resolution once its companies were changed


def _mirrors(client: Client, books_changed: bool):
    mirrors = MirroredCustomer.objects.filter(client=client)
    return mirrors if books_changed else mirrors.none()  # same books: their mirror holds


class SyncSetAside:
    def counts(self, client: Client, books_changed: bool) -> dict[str, int]:
        return {
            "customer_links": CustomerLink.objects.filter(client=client).count(),
            "mirrored_customers": _mirrors(client, books_changed).count(),
            "invoice_links": InvoiceLink.objects.filter(client=client).count(),
            "payment_links": PaymentLink.objects.filter(client=client).count(),
            "open_conflicts": SyncConflict.objects.filter(
                client=client, status=ConflictStatus.OPEN
            ).count(),
        }

    def set_aside(self, change: Change) -> dict[str, list]:
        """Links and the mirror leave the live tables (archived first): the next sync matches
        against the new company from scratch instead of calling old links "unchanged".
        Automatic sync waits for a new historical-import preview (decision 0006): nothing is
        created in the new books behind the accountant's back."""
        client = change.client
        links = CustomerLink.objects.filter(client=client)
        invoices = InvoiceLink.objects.filter(client=client)
        # Payments carried between the old pair name invoices and payments of the old pair.
        payments = PaymentLink.objects.filter(client=client)
        cursors = SyncCursor.objects.filter(client=client)
        mirrors = _mirrors(client, change.books_changed)
        # A person's "link them", "create it" or "leave it unsynced" was about a record and a
        # customer id of the old pair: acted on again, it would link the CRM record to
        # whichever new customer carries that id. The record is matched afresh.
        decided = SyncConflict.objects.filter(
            client=client,
            kind__in=[ConflictKind.NEAR_MATCH, ConflictKind.NAME_CLASH],
            status__in=[ConflictStatus.RESOLVED, ConflictStatus.DISMISSED],
            resolution__in=["link", "create", "dismiss"],
        )
        learnt = LearntMatching.objects.filter(client=client)  # weights of the old records
        still_open = SyncConflict.objects.filter(client=client, status=ConflictStatus.OPEN)
        archive = {
            "customer_links": list(links.values()),
            "invoice_links": list(invoices.values()),
            "payment_links": list(payments.values()),
            "sync_cursors": list(cursors.values("system", "group", "value")),
            "mirrored_customers": list(mirrors.values("external_id", "display_name", "version")),
            "decided_matches": list(decided.values_list("pk", "resolution")),
            "learnt_matching": list(
                learnt.values("partner_share", "books_records", "crm_records", "learnt_at")
            ),
            "open_conflicts": list(still_open.values_list("pk", flat=True)),
        }
        links.delete()
        invoices.delete()
        payments.delete()
        cursors.delete()
        mirrors.delete()
        decided.update(resolution=SET_ASIDE)
        learnt.delete()
        still_open.update(
            status=ConflictStatus.DISMISSED,
            resolved_at=change.at,
            resolved_by=change.actor,
            note=change.note,
        )
        SyncSettings.objects.filter(client=client).update(
            import_done_at=None, invoice_baseline_at=None
        )
        return archive
