"""Xero through xero-python: contacts, invoices, payments and credit notes as neutral records.

Skeleton: the capabilities are declared; the operations are being written (issue 17)."""

from datetime import timedelta

from ..contract import Capabilities, ChangeFeed
from ..models import Connection
from ..records import Unreadable

CAPABILITIES = Capabilities(
    batch_size=50,  # Xero's recommendation; it enforces only 3.5 MB per request
    idempotency="Idempotency-Key",
    idempotency_window=timedelta(minutes=6),  # the first answer is replayed for 6 minutes
    idempotency_reliable=True,
    unique_invoice_numbers=True,  # ACCREC numbers, still taken after void or delete
    invoice_number_length=255,
    unique_customer_names=True,  # among active contacts
    change_feed=ChangeFeed.MODIFIED_SINCE,
    change_feed_limit=None,  # paged, 100 (up to 1,000) a page
    change_feed_reach=None,
    rate_limits="60 calls a minute, 5 at once and 5,000 a day per organisation",
    void="voided: only an AUTHORISED invoice with no payment or credit; a draft is deleted",
    invoice_statuses=("DRAFT", "SUBMITTED", "AUTHORISED", "PAID", "VOIDED", "DELETED"),
    field_limits={
        "display_name": 255,
        "given_name": 255,
        "family_name": 255,
        "email": 255,
        "phone": 50,
        "line1": 500,
        "city": 255,
        "postal_code": 50,
        "tax_id": 50,
    },
)


class XeroAdapter:
    capabilities = CAPABILITIES

    def __init__(self, connection: Connection):
        self.connection = connection
        self.unreadable: list[Unreadable] = []
