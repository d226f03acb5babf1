"""A generated book written into the sandbox's books (QuickBooks or Xero) and HubSpot through
the official clients, and a client connected to both through the consent flow."""

from django.core.management import call_command

from sandbox.seed_book import write_book, write_book_on_xero
from sync.models import SyncSettings


def write_and_connect(client, sandbox, book, name: str, books: str = "quickbooks"):
    """Returns what the writer wrote (ids, answer key)."""
    if books == "xero":
        written = write_book_on_xero(book, sandbox, name)
        call_command(
            "connect_sandbox", client.slug, tenant_id=written.realm_id, portal_id=written.portal_id
        )
        # Xero has no default revenue account to post invoice lines to: the client names one.
        SyncSettings.objects.filter(pk=SyncSettings.for_client(client).pk).update(
            income_account="Sales"
        )
        return written
    written = write_book(book, sandbox, name)
    call_command(
        "connect_sandbox", client.slug, realm_id=written.realm_id, portal_id=written.portal_id
    )
    return written
