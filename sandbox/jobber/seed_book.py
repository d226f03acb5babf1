"""Writes a generated book (`sandbox.generator`) into a new Jobber account: the contractor's
own CRM, as they keep it in Jobber.

Jobber is the CRM side, so it holds what the contractor did, not what reached the books:
a client per person (as the CRM spells them) with a service property, a converted quote
and a completed job per won deal with its invoice (every line the job had, even when the
books lost one), the payments the CRM recorded, and a quote for each deal not won. The
planted findings of the generator's answer key live on the books' side.

`audit_document`/`write_audit_on_jobber` do the same for the CRM side of a simulated
third-party sync (`sandbox.third_party_sync`), whose books side holds its planted faults.

Jobber's public API cannot write invoices or payments (api-facts E4), so the book goes in
through the control API (`control.book`), one document per account.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

import requests

from sandbox.generator import PLACES, TRADES, Book, Deal, Line, Person
from sandbox.third_party_sync import Audit

QUOTE_STATUS = {"contractsent": "awaiting_response", "closedlost": "archived"}
DUE_DAYS = 30
INVOICE_NUMBER_BASE = 1000  # the generator numbers deal D<n>'s invoice SF-<1001+n>


@dataclass
class JobberWritten:
    account_id: int
    tokens: dict
    ids: dict[str, str] = field(default_factory=dict)  # generator key → Jobber encoded id


def _client(person: Person) -> dict:
    name = person.name_in_crm
    if person.is_company:
        names = {"company_name": name, "is_company": True}
    else:
        first, _, last = name.partition(" ")
        names = {"first_name": first, "last_name": last, "is_company": False}
    email = person.email_in_crm
    return {
        "key": person.key,
        **names,
        "emails": [{"address": email, "description": "MAIN", "primary": True}] if email else [],
        "phones": [{"number": person.phone, "description": "MAIN", "primary": True}],
        "postal_code": person.postal_code,
        "country": "United States",
        "properties": [
            {
                "key": f"{person.key}/property",
                "street1": f"{100 + int(person.key[1:] or 0)} Main St",
                "city": "Austin",
                "province": "TX",
                "postal_code": person.postal_code,
                "country": "United States",
                "is_billing_address": True,
            }
        ],
    }


def _lines(lines: list[Line], names: dict[str, str], day=None) -> list[dict]:
    return [
        {
            "name": names[line.product_key],
            "quantity": str(line.quantity),
            "unit_price": str(line.unit_price),
            "total_price": str(line.amount),
            **({"date": day.isoformat()} if day else {}),
        }
        for line in lines
    ]


def job_number(deal: Deal) -> int:
    """The Jobber job number of a won deal's job."""
    return int(deal.key[1:]) + 1


def _invoice_number(deal: Deal, numbers: dict[str, str]) -> str:
    """The books' number without its prefix where the books have the invoice; else the
    number Jobber gave it (the same sequence)."""
    known = numbers.get(deal.key)
    if known:
        return "".join(c for c in known if c.isdigit())
    return str(INVOICE_NUMBER_BASE + 1 + int(deal.key[1:]))


def jobber_document(book: Book) -> dict:
    """The control-API document for a book (pure: no HTTP)."""
    names = {p.key: p.name for p in book.products}
    numbers = {i.deal_key: i.doc_number for i in book.invoices if i.deal_key}
    paid_on = {}
    for payment in book.payments:
        for invoice_key, _ in payment.applied:
            paid_on[invoice_key] = payment.txn_date
    invoice_of = {i.deal_key: i.key for i in book.invoices if i.deal_key}
    doc: dict[str, list] = {
        "clients": [_client(p) for p in book.people],
        "quotes": [],
        "jobs": [],
        "visits": [],
        "invoices": [],
        "payments": [],
    }
    for deal in book.deals:
        won = deal.stage == "closedwon"
        doc["quotes"].append(
            {
                "key": f"{deal.key}/quote",
                "client": deal.customer_key,
                "property": f"{deal.customer_key}/property",
                "title": deal.name,
                "quote_status": "converted" if won else QUOTE_STATUS.get(deal.stage, "draft"),
                "lines": _lines(deal.lines, names),
            }
        )
        if not won:
            continue
        closed = deal.close_date
        doc["jobs"].append(
            {
                "key": deal.key,
                "client": deal.customer_key,
                "property": f"{deal.customer_key}/property",
                "quote": f"{deal.key}/quote",
                "job_number": job_number(deal),
                "title": deal.name,
                "job_status": "archived",
                "billing_type": "FIXED_PRICE",
                "total": str(deal.amount),
                "completed_at": f"{closed.isoformat()}T17:00:00Z",
                "lines": _lines(deal.lines, names, closed),
            }
        )
        paid = deal.amount_paid
        due = closed + timedelta(days=DUE_DAYS)
        if paid >= deal.amount and deal.amount > 0:
            status = "paid"
        else:
            status = "past_due" if due < book.today else "awaiting_payment"
        invoice_key = f"{deal.key}/invoice"
        doc["invoices"].append(
            {
                "key": invoice_key,
                "client": deal.customer_key,
                "jobs": [deal.key],
                "invoice_number": _invoice_number(deal, numbers),
                "subject": f"For Services Rendered: {deal.name}",
                "invoice_status": status,
                "issued_date": closed.isoformat(),
                "due_date": due.isoformat(),
                "lines": _lines(deal.lines, names, closed),
            }
        )
        doc["visits"].append(
            {
                "key": f"{deal.key}/visit",
                "job": deal.key,
                "invoice": invoice_key,
                "title": deal.name,
                "visit_status": "COMPLETED",
            }
        )
        if paid > Decimal("0"):
            when = paid_on.get(invoice_of.get(deal.key, ""), closed + timedelta(days=7))
            doc["payments"].append(
                {
                    "key": f"{deal.key}/payment",
                    "invoice": invoice_key,
                    "amount": str(paid),
                    "entry_date": min(when, book.today).isoformat(),
                    "adjustment_type": "PAYMENT",
                    "payment_type": "CHECK",
                }
            )
    return doc


def _control(base: str, method: str, path: str, body: dict) -> dict:
    answer = requests.request(method, f"{base}/sandbox/control/{path}", json=body, timeout=120)
    answer.raise_for_status()
    return answer.json()


def _write(base: str, name: str, doc: dict) -> JobberWritten:
    account = _control(base, "POST", "jobber/accounts", {"name": name})
    path = f"jobber/accounts/{account['account_id']}/book"
    ids = _control(base, "POST", path, doc | {"notify": False})["ids"]
    tokens = {"access_token": account["access_token"], "refresh_token": account["refresh_token"]}
    return JobberWritten(account["account_id"], tokens, ids)


def write_jobber_book(book: Book, base: str, name: str = "Sandbox contractor") -> JobberWritten:
    """A new connected Jobber account on the sandbox at `base`, holding the book's CRM side."""
    return _write(base, name, jobber_document(book))


def audit_document(audit: Audit) -> dict:
    """The control-API document for the CRM side of a simulated third-party sync
    (`sandbox.third_party_sync`): its clients, and per CRM invoice a job billed by it, the
    invoice under its CRM number, and a payment for whatever the CRM says was paid."""
    clients = sorted({invoice.customer_id for invoice in audit.crm}, key=lambda k: (len(k), k))
    doc: dict[str, list] = {
        "clients": [
            {
                "key": key,
                "company_name": f"{PLACES[n % len(PLACES)]} {TRADES[n % len(TRADES)]} {key}",
                "is_company": True,
            }
            for n, key in enumerate(clients)
        ],
        "jobs": [],
        "invoices": [],
        "payments": [],
    }
    for n, invoice in enumerate(audit.crm):
        total, balance = invoice.total.amount, invoice.balance.amount
        lines = [
            {
                "name": line.description or line.item_id,
                "quantity": str(line.quantity),
                "unit_price": str(line.unit_price),
                "total_price": str(line.amount),
            }
            for line in invoice.lines
        ]
        job = f"{invoice.external_id}/job"
        doc["jobs"].append(
            {
                "key": job,
                "client": invoice.customer_id,
                "job_number": n + 1,
                "title": f"Work billed on invoice {invoice.number}",
                "job_status": "archived",
                "total": str(total),
                "lines": lines,
            }
        )
        doc["invoices"].append(
            {
                "key": invoice.external_id,
                "client": invoice.customer_id,
                "jobs": [job],
                "invoice_number": invoice.number,
                "subject": invoice.subject or "For Services Rendered",
                "invoice_status": "paid" if invoice.paid else "awaiting_payment",
                "issued_date": invoice.issued or None,
                "due_date": invoice.due or None,
                "lines": lines,
            }
        )
        if total - balance > 0:
            doc["payments"].append(
                {
                    "key": f"{invoice.external_id}/payment",
                    "invoice": invoice.external_id,
                    "amount": str(total - balance),
                    "entry_date": invoice.issued or None,
                }
            )
    return doc


def write_audit_on_jobber(
    audit: Audit, base: str, name: str = "Sandbox contractor"
) -> JobberWritten:
    """A new connected Jobber account holding a simulated sync's CRM side; `ids` maps each
    CRM invoice's `external_id` (and client key) to its Jobber encoded id."""
    account = _control(base, "POST", "jobber/accounts", {"name": name})
    doc = audit_document(audit) | {"notify": False}
    ids = _control(base, "POST", f"jobber/accounts/{account['account_id']}/book", doc)["ids"]
    tokens = {"access_token": account["access_token"], "refresh_token": account["refresh_token"]}
    return JobberWritten(account["account_id"], tokens, ids)
