"""Writes a generated book (`sandbox.generator`) into a new Xero organisation through
xero-python's batch calls, as `sandbox/seed_book.py` does for QuickBooks and HubSpot.

Contacts, items, AUTHORISED sales invoices (the book's numbers, the deal in `Reference`),
payments (one per invoice paid) and credit notes (left unallocated, as QuickBooks credit
memos are written). Returns the ids Xero assigned, keyed by the generator's keys.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import requests
from django.conf import settings
from xero_python.accounting import (
    Account,
    AccountingApi,
    Address,
    Contact,
    Contacts,
    CreditNote,
    CreditNotes,
    Invoice,
    Invoices,
    Item,
    Items,
    LineAmountTypes,
    LineItem,
    Payment,
    Payments,
    Phone,
    Purchase,
)
from xero_python.api_client import ApiClient, Configuration
from xero_python.api_client.oauth2 import OAuth2Token

from sandbox.generator import Book, Line

BATCH = 50  # Xero's recommended batch size (api-facts C8)
BANK_ACCOUNT = "090"


@dataclass
class XeroWritten:
    tenant_id: str
    tokens: dict
    ids: dict[str, str] = field(default_factory=dict)  # generator key → Xero id
    # The planted findings in Xero ids (the CRM side stays in generator keys: the deals
    # live in whichever CRM the book was also written to).
    answer_key: list[dict] = field(default_factory=list)


def _chunks[T](items: list[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _control(base: str, method: str, path: str, body: dict) -> dict:
    answer = requests.request(method, f"{base}/sandbox/control/{path}", json=body, timeout=60)
    answer.raise_for_status()
    return answer.json()


def xero_api(base: str, tokens: dict) -> AccountingApi:
    """An unmodified xero-python AccountingApi on the sandbox, with fixed tokens."""
    token = OAuth2Token(
        client_id=settings.XERO_CLIENT_ID, client_secret=settings.XERO_CLIENT_SECRET
    )
    client = ApiClient(Configuration(oauth2_token=token), pool_threads=1)
    current = {
        "access_token": tokens["access_token"],
        "refresh_token": tokens.get("refresh_token"),
        "scope": tokens.get("scopes", []),
        "expires_in": 1800,
        "token_type": "Bearer",
    }
    client.oauth2_token_getter(lambda: current)
    client.oauth2_token_saver(current.update)
    return AccountingApi(client, base_url=f"{base}/sandbox/xero/api.xro/2.0")


def _ok(results: list, what: str) -> list:
    failed = [r for r in results if r.status_attribute_string == "ERROR"]
    if failed:
        messages = [e.message for r in failed for e in r.validation_errors]
        raise RuntimeError(f"writing {what} to Xero failed: {messages[:3]}")
    return results


def _lines(lines: list[Line], products: dict) -> list[LineItem]:
    return [
        LineItem(
            description=products[ln.product_key].name,
            item_code=products[ln.product_key].sku,
            quantity=ln.quantity,
            unit_amount=ln.unit_price,
            tax_type="NONE",
        )
        for ln in lines
    ]


def write_xero_book(
    book: Book,
    base: str,
    name: str = "Sandbox books",
    reference: Callable[[str], str] | None = None,
) -> XeroWritten:
    """Create a Xero organisation and fill it with `book`. `reference`: what an invoice's
    or credit note's `Reference` says of its deal (default: the generator's deal key; a
    book also written to a CRM names the CRM's deal, as sync does)."""
    refer = reference or (lambda deal_key: deal_key)
    org = _control(base, "POST", "xero/organisations", {"name": name, "rate_limits": False})
    tenant, api = org["tenant_id"], xero_api(base, org)
    written = XeroWritten(tenant, org)
    ids, products = written.ids, {p.key: p for p in book.products}
    try:
        for chunk in _chunks(book.products, BATCH):
            items = [
                Item(code=p.sku, name=p.name[:50], sales_details=Purchase(unit_price=p.price))
                for p in chunk
            ]
            _ok(api.create_items(tenant, Items(items=items), summarize_errors=False).items, "items")
        for chunk in _chunks(book.people, BATCH):
            # The fields the QuickBooks book holds too: people's given and family names,
            # and the billing (POBOX) address's postal code and country.
            contacts = [
                Contact(
                    name=p.name,
                    first_name=None if p.is_company else p.name.partition(" ")[0],
                    last_name=None if p.is_company else p.name.partition(" ")[2],
                    email_address=p.email or None,
                    phones=[Phone(phone_type="DEFAULT", phone_number=p.phone)],
                    addresses=[
                        Address(address_type="POBOX", postal_code=p.postal_code, country="US")
                    ],
                )
                for p in chunk
            ]
            made = api.create_contacts(tenant, Contacts(contacts=contacts), summarize_errors=False)
            for person, contact in zip(chunk, _ok(made.contacts, "contacts"), strict=True):
                ids[f"xero:{person.key}"] = str(contact.contact_id)
        for chunk in _chunks(book.invoices, BATCH):
            invoices = [
                Invoice(
                    type="ACCREC",
                    contact=Contact(contact_id=ids[f"xero:{i.customer_key}"]),
                    invoice_number=i.doc_number,
                    reference=refer(i.deal_key) if i.deal_key else None,
                    date=i.txn_date,
                    due_date=i.txn_date + timedelta(days=30),
                    status="AUTHORISED",
                    line_amount_types=LineAmountTypes.NOTAX,
                    line_items=_lines(i.lines, products),
                )
                for i in chunk
            ]
            made = api.create_invoices(tenant, Invoices(invoices=invoices), summarize_errors=False)
            for invoice, saved in zip(chunk, _ok(made.invoices, "invoices"), strict=True):
                ids[invoice.key] = str(saved.invoice_id)
        applied = [(p, key, amount) for p in book.payments for key, amount in p.applied]
        for chunk in _chunks(applied, BATCH):
            payments = [
                Payment(
                    invoice=Invoice(invoice_id=ids[key]),
                    account=Account(code=BANK_ACCOUNT),
                    date=p.txn_date,
                    amount=amount,
                )
                for p, key, amount in chunk
            ]
            made = api.create_payments(tenant, Payments(payments=payments), summarize_errors=False)
            for (p, _, _), saved in zip(chunk, _ok(made.payments, "payments"), strict=True):
                ids.setdefault(p.key, str(saved.payment_id))
        for chunk in _chunks(book.credit_memos, BATCH):
            notes = [
                CreditNote(
                    type="ACCRECCREDIT",
                    contact=Contact(contact_id=ids[f"xero:{c.customer_key}"]),
                    reference=refer(c.deal_key) if c.deal_key else None,
                    date=c.txn_date,
                    status="AUTHORISED",
                    line_amount_types=LineAmountTypes.NOTAX,
                    line_items=[
                        LineItem(
                            description=products[c.product_key].name,
                            quantity=1,
                            unit_amount=c.amount,
                            tax_type="NONE",
                        )
                    ],
                )
                for c in chunk
            ]
            made = api.create_credit_notes(
                tenant, CreditNotes(credit_notes=notes), summarize_errors=False
            )
            for memo, saved in zip(chunk, _ok(made.credit_notes, "credit notes"), strict=True):
                ids[memo.key] = str(saved.credit_note_id)
    finally:
        _control(base, "PATCH", f"xero/organisations/{tenant}", {"rate_limits": True})
    written.answer_key = [
        {
            "code": p.code,
            "amount": str(p.amount),
            "deal_key": p.deal_key or "",
            "invoice_ids": [ids[k] for k in p.invoice_keys if k in ids],
            "contact_id": ids.get(f"xero:{p.customer_key}", ""),
            "record_id": ids.get(p.record_key or "", ""),
        }
        for p in book.answer_key
    ]
    return written
