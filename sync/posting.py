"""Who posts a billing CRM's invoices to the books, when nobody has said: syncfirm, unless
the books already hold the CRM's invoices (another integration posts them, and a second
poster would put every invoice in twice). Then syncfirm only audits.

Pure: records in, the choice and its reason in words out; the sync stores it at the import.
"""

from collections.abc import Mapping

from connections.records import CrmInvoice, Invoice

from .invoice_pairing import books_side, crm_side, pair
from .models import Posting

UNISSUED = frozenset({"draft", "void", "voided"})


def default_posting(
    crm_invoices: list[CrmInvoice],
    books_invoices: list[Invoice],
    customer_of: Mapping[str, str],
    crm_name: str = "the CRM",
) -> tuple[str, str]:
    """(Posting, why). `customer_of`: CRM client id → the books customer it is linked to."""
    issued = [i for i in crm_invoices if i.issued and i.status.lower() not in UNISSUED]
    if not issued:
        return Posting.SYNCFIRM, f"{crm_name} has issued no invoice yet"
    pairing = pair(
        [crm_side(i, customer_of) for i in issued],
        [books_side(i) for i in books_invoices if i.txn_date and not i.voided],
    )
    there = len(pairing.sure) + len(pairing.near)
    if there:
        return Posting.AUDIT, (
            f"{there} of the {len(issued)} invoices {crm_name} issued are in the books "
            "already: another integration posts them, so syncfirm audits and writes nothing"
        )
    return Posting.SYNCFIRM, (
        f"none of the {len(issued)} invoices {crm_name} issued is in the books: syncfirm posts them"
    )
