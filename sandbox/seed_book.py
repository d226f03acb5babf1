"""Writes a generated book (`sandbox.generator`) into the emulators through their own HTTP
APIs with the official clients — hubspot-api-client batch calls (100 per call) and
python-quickbooks `batch_create` (30 per call) — and returns the ids assigned and the answer
key in external ids.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

import requests
from django.conf import settings
from hubspot import HubSpot
from hubspot.crm.properties import ApiException as PropertiesApiException
from intuitlib.client import AuthClient
from quickbooks import QuickBooks
from quickbooks.batch import batch_create
from quickbooks.objects.account import Account
from quickbooks.objects.creditmemo import CreditMemo
from quickbooks.objects.customer import Customer
from quickbooks.objects.detailline import SalesItemLine, SalesItemLineDetail
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.item import Item
from quickbooks.objects.payment import Payment, PaymentLine

from .generator import Book, Line

DEAL_TO_COMPANY, DEAL_TO_CONTACT, LINE_ITEM_TO_DEAL = 5, 3, 20
PAYMENT_PROPERTIES = [
    ("syncfirm_payment_status", "Payment status", "string", "text"),
    ("syncfirm_amount_paid", "Amount paid", "number", "number"),
]


@dataclass
class Written:
    realm_id: str  # the books' account: a QuickBooks realm, or a Xero tenant
    quickbooks_tokens: dict  # the books' tokens (Xero's too)
    portal_id: str
    hubspot_tokens: dict
    ids: dict[str, str] = field(default_factory=dict)  # generator key → external id
    answer_key: list[dict] = field(default_factory=list)
    books: str = "quickbooks"  # which books: "quickbooks" or "xero"


def _chunks[T](items: list[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _control(base: str, method: str, path: str, body: dict) -> dict:
    answer = requests.request(method, f"{base}/sandbox/control/{path}", json=body, timeout=60)
    answer.raise_for_status()
    return answer.json()


def quickbooks_client(base: str, realm_id: str, tokens: dict) -> QuickBooks:
    auth = AuthClient(
        settings.QUICKBOOKS_CLIENT_ID,
        settings.QUICKBOOKS_CLIENT_SECRET,
        f"{base}/oauth/quickbooks/callback/",
        environment=f"{base}/sandbox/intuit/.well-known/openid_configuration",
    )
    auth.access_token = tokens["access_token"]
    qb = QuickBooks(
        auth_client=auth,
        refresh_token=tokens["refresh_token"],
        company_id=realm_id,
        minorversion=75,
        use_decimal=True,
    )
    qb.api_url_v3 = f"{base}/sandbox/quickbooks/v3"
    return qb


def _saved(objects: list, qb: QuickBooks, what: str) -> list:
    result = batch_create(objects, qb=qb)
    if result.faults:
        errors = [f"{e.code} {e.Message}" for fault in result.faults for e in fault.Error]
        raise RuntimeError(f"writing {what} to QuickBooks failed: {errors[:3]}")
    return result.successes


def write_book(book: Book, base: str, name: str = "Sandbox books") -> Written:
    """Create a QuickBooks company and a HubSpot portal and fill both with `book`."""
    company = _control(base, "POST", "quickbooks/companies", {"name": name})
    portal = _control(base, "POST", "hubspot/portals", {"name": name})
    realm, portal_id = company["realm_id"], str(portal["portal_id"])
    # Bulk loading would trip the real per-minute limits; lift them while writing.
    _control(base, "PATCH", f"quickbooks/companies/{realm}", {"rate_limits": False})
    _control(base, "PATCH", f"hubspot/portals/{portal_id}", {"rate_limits": False})
    written = Written(realm, company, portal_id, portal)
    try:
        _write_hubspot(
            book,
            HubSpot(access_token=portal["access_token"], host=f"{base}/sandbox/hubspot"),
            written,
        )
        _write_quickbooks(book, quickbooks_client(base, realm, company), written)
    finally:
        _control(base, "PATCH", f"quickbooks/companies/{realm}", {"rate_limits": True})
        _control(base, "PATCH", f"hubspot/portals/{portal_id}", {"rate_limits": True})
    written.answer_key = _answer_key(book, written.ids, "qbo")
    return written


def write_book_on_xero(book: Book, base: str, name: str = "Sandbox books") -> Written:
    """A HubSpot portal and a Xero organisation filled with `book`: the CRM first, so each
    Xero invoice names its HubSpot deal as sync would ("HubSpot deal 1203")."""
    from sandbox.xero.seed_book import write_xero_book

    portal = _control(base, "POST", "hubspot/portals", {"name": name})
    portal_id = str(portal["portal_id"])
    _control(base, "PATCH", f"hubspot/portals/{portal_id}", {"rate_limits": False})
    written = Written("", {}, portal_id, portal, books="xero")
    try:
        _write_hubspot(
            book,
            HubSpot(access_token=portal["access_token"], host=f"{base}/sandbox/hubspot"),
            written,
        )
    finally:
        _control(base, "PATCH", f"hubspot/portals/{portal_id}", {"rate_limits": True})
    xero = write_xero_book(
        book, base, name, reference=lambda key: f"HubSpot deal {written.ids[key]}"
    )
    written.realm_id, written.quickbooks_tokens = xero.tenant_id, xero.tokens
    written.ids |= xero.ids
    written.answer_key = _answer_key(book, written.ids, "xero")
    return written


def _answer_key(book: Book, ids: dict[str, str], books: str) -> list[dict]:
    """The planted findings in the systems' ids (`books`: the prefix of the books' keys)."""
    return [
        {
            "code": p.code,
            "amount": str(p.amount),
            "currency": "USD",
            "deal_id": ids.get(p.deal_key or "", ""),
            "invoice_ids": [ids[k] for k in p.invoice_keys if k in ids],
            "customer_id": ids.get(f"{books}:{p.customer_key}", ""),
            "company_or_contact_id": ids.get(p.customer_key or "", ""),
            "record_id": ids.get(p.record_key or "", ""),
        }
        for p in book.answer_key
    ]


def _unless_exists(create) -> None:
    try:
        create()
    except PropertiesApiException as error:
        if error.status != 409:  # 409: made by an earlier run, which is fine
            raise


def _write_hubspot(book: Book, api: HubSpot, written: Written) -> None:
    ids = written.ids
    _unless_exists(
        lambda: api.crm.properties.groups_api.create(
            "deals", {"name": "syncfirm", "label": "syncfirm", "displayOrder": 1}
        )
    )
    for prop, label, kind, field_type in PAYMENT_PROPERTIES:
        definition = {
            "name": prop,
            "label": label,
            "type": kind,
            "fieldType": field_type,
            "groupName": "syncfirm",
        }
        _unless_exists(lambda d=definition: api.crm.properties.core_api.create("deals", d))
    for chunk in _chunks(book.products, 100):
        inputs = [
            {"properties": {"name": p.name, "price": str(p.price), "hs_sku": p.sku}} for p in chunk
        ]
        made = api.crm.products.batch_api.create({"inputs": inputs}).results
        by_name = {m.properties["name"]: m.id for m in made}
        ids.update({p.key: by_name[p.name] for p in chunk})
    companies = [p for p in book.people if p.is_company]
    homeowners = [p for p in book.people if not p.is_company]
    # The CRM side as the CRM spells it (`Person.name_in_crm`, `email_in_crm`).
    for chunk in _chunks(companies, 100):
        inputs = [
            {"properties": {"name": p.name_in_crm, "phone": p.phone, "zip": p.postal_code}}
            for p in chunk
        ]
        made = api.crm.companies.batch_api.create({"inputs": inputs}).results
        by_name = {m.properties["name"]: m.id for m in made}
        ids.update({p.key: by_name[p.name_in_crm] for p in chunk})
    for chunk in _chunks(homeowners, 100):
        inputs = []
        for p in chunk:
            first, _, last = p.name_in_crm.partition(" ")
            props = {"firstname": first, "lastname": last, "phone": p.phone, "zip": p.postal_code}
            if p.email_in_crm:
                props["email"] = p.email_in_crm
            inputs.append({"properties": props})
        made = api.crm.contacts.batch_api.create({"inputs": inputs}).results
        # By name: a contact may have no email (the generator's names are unique).
        by_name = {(m.properties["firstname"], m.properties["lastname"]): m.id for m in made}
        ids.update({p.key: by_name[tuple(p.name_in_crm.partition(" ")[::2])] for p in chunk})
    people = {p.key: p for p in book.people}
    for chunk in _chunks(book.deals, 100):
        inputs = []
        for deal in chunk:
            person = people[deal.customer_key]
            kind = DEAL_TO_COMPANY if person.is_company else DEAL_TO_CONTACT
            inputs.append(
                {
                    "properties": {
                        "dealname": deal.name,
                        "amount": str(deal.amount),
                        "dealstage": deal.stage,
                        "pipeline": "default",
                        "closedate": f"{deal.close_date.isoformat()}T12:00:00.000Z",
                        "syncfirm_payment_status": deal.payment_status,
                        "syncfirm_amount_paid": str(deal.amount_paid),
                    },
                    "associations": [
                        {
                            "to": {"id": ids[deal.customer_key]},
                            "types": [
                                {
                                    "associationCategory": "HUBSPOT_DEFINED",
                                    "associationTypeId": kind,
                                }
                            ],
                        }
                    ],
                }
            )
        made = api.crm.deals.batch_api.create({"inputs": inputs}).results
        by_name = {m.properties["dealname"]: m.id for m in made}
        ids.update({d.key: by_name[d.name] for d in chunk})
    products = {p.key: p for p in book.products}
    line_items = [(deal, line) for deal in book.deals for line in deal.lines]
    for chunk in _chunks(line_items, 100):
        inputs = [
            {
                "properties": {
                    "name": products[line.product_key].name,
                    "hs_sku": products[line.product_key].sku,
                    "hs_product_id": ids[line.product_key],
                    "quantity": str(line.quantity),
                    "price": str(line.unit_price),
                },
                "associations": [
                    {
                        "to": {"id": ids[deal.key]},
                        "types": [
                            {
                                "associationCategory": "HUBSPOT_DEFINED",
                                "associationTypeId": LINE_ITEM_TO_DEAL,
                            }
                        ],
                    }
                ],
            }
            for deal, line in chunk
        ]
        api.crm.line_items.batch_api.create({"inputs": inputs})


def _qbo_line(line: Line, item_ids: dict[str, str]) -> SalesItemLine:
    sales = SalesItemLine()
    sales.Amount = line.amount
    sales.SalesItemLineDetail = SalesItemLineDetail()
    sales.SalesItemLineDetail.ItemRef = {"value": item_ids[line.product_key]}
    sales.SalesItemLineDetail.Qty = line.quantity
    sales.SalesItemLineDetail.UnitPrice = line.unit_price
    return sales


def _write_quickbooks(
    book: Book, qb: QuickBooks, written: Written, reference: Callable[[str], str] | None = None
) -> None:
    """`reference`: a deal's key → the note its invoice and credits carry (by default the
    one sync writes, naming the HubSpot deal)."""
    ids = written.ids
    reference = reference or (lambda key: f"HubSpot deal {ids[key]}")
    # The company opened with the standard chart of accounts: products go in "Services"
    # (the income account sync settings name by default).
    income = Account.filter(Name="Services", qb=qb)[0]
    items = []
    for product in book.products:
        item = Item()
        item.Name, item.Sku, item.Type = product.name, product.sku, "Service"
        item.UnitPrice = product.price
        item.IncomeAccountRef = income.to_ref()
        items.append(item)
    item_ids = {p.key: s.Id for p, s in zip(book.products, _saved(items, qb, "items"), strict=True)}
    customers = []
    for person in book.people:
        c = Customer()
        c.DisplayName = person.name
        if person.is_company:
            c.CompanyName = person.name
        else:
            c.GivenName, _, c.FamilyName = person.name.partition(" ")
        c.PrimaryEmailAddr = {"Address": person.email}
        c.PrimaryPhone = {"FreeFormNumber": person.phone}
        c.BillAddr = {"PostalCode": person.postal_code, "Country": "US"}
        customers.append(c)
    saved = _saved(customers, qb, "customers")
    ids.update({f"qbo:{p.key}": s.Id for p, s in zip(book.people, saved, strict=True)})
    invoices = []
    for inv in book.invoices:
        invoice = Invoice()
        invoice.CustomerRef = {"value": ids[f"qbo:{inv.customer_key}"]}
        invoice.DocNumber = inv.doc_number
        invoice.TxnDate = inv.txn_date.isoformat()
        invoice.Line = [_qbo_line(line, item_ids) for line in inv.lines]
        if inv.deal_key:
            invoice.PrivateNote = reference(inv.deal_key)
        invoices.append(invoice)
    saved = _saved(invoices, qb, "invoices")
    ids.update({i.key: s.Id for i, s in zip(book.invoices, saved, strict=True)})
    payments = []
    for pay in book.payments:
        payment = Payment()
        payment.CustomerRef = {"value": ids[f"qbo:{pay.customer_key}"]}
        payment.TotalAmt = pay.amount
        payment.TxnDate = pay.txn_date.isoformat()
        payment.Line = []
        for invoice_key, amount in pay.applied:
            line = PaymentLine()
            line.Amount = amount
            line.LinkedTxn = [{"TxnId": ids[invoice_key], "TxnType": "Invoice"}]
            payment.Line.append(line)
        payments.append(payment)
    saved = _saved(payments, qb, "payments")
    ids.update({p.key: s.Id for p, s in zip(book.payments, saved, strict=True)})
    memos = []
    for credit in book.credit_memos:
        memo = CreditMemo()
        memo.CustomerRef = {"value": ids[f"qbo:{credit.customer_key}"]}
        memo.TxnDate = credit.txn_date.isoformat()
        memo.Line = [_qbo_line(Line(credit.product_key, Decimal(1), credit.amount), item_ids)]
        if credit.deal_key:
            memo.PrivateNote = reference(credit.deal_key)
        memos.append(memo)
    saved = _saved(memos, qb, "credit memos")
    ids.update({c.key: s.Id for c, s in zip(book.credit_memos, saved, strict=True)})
