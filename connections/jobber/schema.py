"""Jobber's GraphQL names: the one module that spells them.

Every type, field, argument, enum value and webhook topic syncfirm sends to or reads from
Jobber is here: the query documents, and the functions that turn their answers into
syncfirm's records. The names are from Jobber's 2022 schema (api-facts-wave2.md E4-E6);
when the current schema says otherwise, correct them here and nowhere else.

Query cost (E3): Jobber prices a query at 1 per field, connections multiplied by their
page size. Page sizes below keep one call well under the 10,000-point bucket (a page of
invoices with 20 lines each is about 3,000 points).
"""

from dataclasses import dataclass
from datetime import UTC, datetime, time
from decimal import Decimal

from ..numbers import BadValue, clean_text, jobber_number, shown
from ..reading import as_object
from ..records import (
    CRM_JOB_TITLES_PROPERTY,
    CRM_JOBS_PROPERTY,
    CRM_NUMBER_PROPERTY,
    Address,
    CrmInvoice,
    CrmJob,
    CrmPayment,
    CrmRecord,
    Deal,
    DealLine,
    InvoiceLine,
    Money,
)

# The API version every call asks for (X-JOBBER-GRAPHQL-VERSION); Jobber serves a removed
# one as its oldest supported, with a warning the client logs.
VERSION = "2025-04-16"
VERSION_HEADER = "X-JOBBER-GRAPHQL-VERSION"
THROTTLED = "THROTTLED"

# Invoices that were issued to the client: what is posted to the books. A draft is not, nor
# bad debt (written off in Jobber: no receivable to post; the audit skips it too); Jobber's
# 2022 enum has no void (a voided invoice may come as another status: re-check).
ISSUED_STATUSES = frozenset({"awaiting_payment", "paid", "past_due"})

CLIENT_FIELDS = """
fragment ClientFields on Client {
  id name title firstName lastName companyName isCompany isArchived isLead
  emails { address description primary }
  phones { number description primary }
  billingAddress { street1 street2 city province postalCode country }
  balance updatedAt
}
"""
LINE_FIELDS = "nodes { id name description quantity unitPrice totalPrice } "
PAGE_INFO = "pageInfo { hasNextPage endCursor }"
LINES_PER_INVOICE = 20
INVOICE_FIELDS = f"""
fragment InvoiceFields on Invoice {{
  id invoiceNumber invoiceStatus subject issuedDate dueDate updatedAt
  amounts {{ subtotal total invoiceBalance paymentsTotal }}
  client {{ id isCompany }}
  jobIds jobs(first: 5) {{ nodes {{ jobNumber title }} }}
  lineItems(first: {LINES_PER_INVOICE}) {{ {LINE_FIELDS} {PAGE_INFO} }}
}}
"""


@dataclass(frozen=True)
class Listing:
    """A Relay connection at the root of the query: its document (taking `$first` and
    `$after`, and `$filter` where it filters) and the field that holds the page."""

    root: str
    document: str
    page_size: int


CLIENTS = Listing(
    "clients",
    "query Clients($first: Int!, $after: String, $filter: ClientFilterAttributes) {"
    " clients(first: $first, after: $after, filter: $filter) {"
    f" nodes {{ ...ClientFields }} {PAGE_INFO} }} }}" + CLIENT_FIELDS,
    50,
)
INVOICES = Listing(
    "invoices",
    "query Invoices($first: Int!, $after: String, $filter: InvoiceFilterAttributes) {"
    " invoices(first: $first, after: $after, filter: $filter) {"
    f" nodes {{ ...InvoiceFields }} {PAGE_INFO} }} }}" + INVOICE_FIELDS,
    20,
)
JOB_INVOICES = 25
JOBS = Listing(
    "jobs",
    "query Jobs($first: Int!, $after: String) { jobs(first: $first, after: $after) {"
    " nodes { id jobNumber title jobStatus total client { id }"
    f" invoices(first: {JOB_INVOICES}) {{ nodes {{ id }} }} }} {PAGE_INFO} }} }}",
    20,
)
ACCOUNT = "query Account { account { id name } }"
MORE_LINES = (
    "query Lines($id: EncodedId!, $after: String) { invoice(id: $id) {"
    f" lineItems(first: 50, after: $after) {{ {LINE_FIELDS} {PAGE_INFO} }} }} }}"
)
# An invoice's payment records (E4: PaymentRecord). More than this many on one invoice is
# named unreadable rather than half read.
PAYMENTS_PER_INVOICE = 50
INVOICE_PAYMENTS = f"""
fragment InvoicePayments on Invoice {{
  id paymentRecords(first: {PAYMENTS_PER_INVOICE}) {{
    nodes {{ id amount entryDate adjustmentType details }} {PAGE_INFO} }}
}}
"""
# Records read by id, several to a call under aliases (Jobber has no batch read): the root
# field, the fragment and its text.
BY_ID = {
    "client": ("client", "ClientFields", CLIENT_FIELDS),
    "invoice": ("invoice", "InvoiceFields", INVOICE_FIELDS),
    "invoice_payments": ("invoice", "InvoicePayments", INVOICE_PAYMENTS),
}
BY_ID_BATCH = 20
# The adjustment types that are money received for the invoice; a refund is carried by no
# one (a person records it), nor corrections, bad debt or opening balances.
RECEIVED = frozenset({"payment", "deposit"})  # `CrmPayment.kind`

# Recording a payment on an invoice. UNCERTAIN: the mutation's name and input are not in
# the 2022 facts (E4 names PaymentRecord's fields, E5 the userErrors shape); correct here.
RECORD_PAYMENT = (
    "mutation RecordPayment($input: PaymentRecordCreateInput!) {"
    " paymentRecordCreate(input: $input) { paymentRecord { id } userErrors { message path } } }"
)
RECORD_PAYMENT_ROOT = "paymentRecordCreate"


def by_ids(kind: str, count: int) -> str:
    """A document reading `count` records of `kind` ("client", "invoice",
    "invoice_payments") as n0, n1, … from the variables id0, id1, …"""
    root, fragment, text = BY_ID[kind]
    variables = ", ".join(f"$id{n}: EncodedId!" for n in range(count))
    fields = " ".join(f"n{n}: {root}(id: $id{n}) {{ ...{fragment} }}" for n in range(count))
    return f"query ById({variables}) {{ {fields} }}" + text


def payment_input(invoice_id: str, amount: Decimal, paid_on: str, details: str) -> dict:
    # Jobber types money as Float: a two-place amount is sent and read back exactly.
    return {
        "input": {
            "invoiceId": invoice_id,
            "amount": float(amount),
            "entryDate": f"{paid_on}T00:00:00Z",
            "paymentType": "OTHER",
            "details": details[:255],
        }
    }


def invoice_payments(node: dict, currency: str) -> tuple[list[CrmPayment], bool]:
    """An invoice's payment records as payments, and whether there were more than a page
    (the caller says so instead of reading half). BadValue on an amount that is no number."""
    nodes, more = page_of(node, "paymentRecords")
    invoice_id = _id(node.get("id"), "invoice id")
    found = []
    for p in nodes:
        kind = _text(p, "adjustmentType") or "PAYMENT"
        amount = jobber_number(p.get("amount"), "payment amount", default=Decimal(0))
        amount = amount.quantize(Decimal("0.01"))  # Jobber's Float: "180.0" is 180.00
        found.append(
            CrmPayment(
                external_id=_id(p.get("id"), "payment id"),
                invoice_id=invoice_id,
                amount=Money(-amount if kind == "REFUND" else amount, currency),
                paid_on=_day(p.get("entryDate")),
                kind=kind.lower().replace("_", " "),
                details=_text(p, "details"),
            )
        )
    return found, more is not None


def created_payment(data: dict) -> tuple[str, dict]:
    """The id of the payment record a mutation created ("" when refused), and its payload."""
    payload = data.get(RECORD_PAYMENT_ROOT) or {}
    record = payload.get("paymentRecord") or {}
    return str(record.get("id") or ""), payload


def updated_after(since: datetime, **more) -> dict:
    """A filter for records changed after `since` (Jobber's updatedAt range)."""
    # To the microsecond: cut to whole seconds, the filter would take in what changed in
    # the second before `since`.
    return {"updatedAt": {"after": since.astimezone(UTC).isoformat()}, **more}


def company_filter(crm_type: str) -> dict:
    return {"isCompany": crm_type == "companies"}


def page_of(data: dict, root: str) -> tuple[list[dict], str | None]:
    """A connection's nodes and the cursor after them (None on the last page); BadValue
    when it is not shaped as one (never half read)."""
    info = as_object(as_object(data.get(root), root).get("pageInfo"), f"{root} pageInfo")
    cursor = info.get("endCursor") if info.get("hasNextPage") else None
    if info.get("hasNextPage") and not (isinstance(cursor, str) and cursor):
        raise BadValue(f"{root} pageInfo", "", "says there is more but gives no cursor")
    return _nodes(data, root), cursor


def _nodes(data: dict, root: str) -> list[dict]:
    """A connection's nodes, each an object; BadValue when the connection is no object or
    its nodes no list of objects."""
    nodes = as_object(data.get(root), root).get("nodes")
    if nodes is None:
        return []
    if not isinstance(nodes, list):
        raise BadValue(f"{root} nodes", shown(nodes), "is not a list")
    return [as_object(n, f"a node of {root}") for n in nodes]


def account_of(data: dict) -> tuple[str, str]:
    account = data["account"]
    return str(account["id"]), clean_text(account.get("name"))


def throttle_wait(extensions: dict) -> float | None:
    """Seconds until the cost bucket holds what the refused query asked for, from
    `extensions.cost` (None when Jobber did not say)."""
    cost = (extensions or {}).get("cost") or {}
    status = cost.get("throttleStatus") or {}
    try:
        wanted = Decimal(str(cost.get("requestedQueryCost", 0)))
        have = Decimal(str(status["currentlyAvailable"]))
        rate = Decimal(str(status["restoreRate"]))
    except (KeyError, ArithmeticError, ValueError):
        return None
    if rate <= 0:
        return None
    return float(max(Decimal("0.1"), (wanted - have) / rate))


def error_code(error: dict) -> str:
    return str(((error or {}).get("extensions") or {}).get("code") or "")


def user_errors(payload: dict | None) -> list[str]:
    """A mutation's `userErrors` in words ("message (at input.emails.0)")."""
    found = []
    for error in (payload or {}).get("userErrors") or []:
        path = ".".join(str(p) for p in error.get("path") or [])
        found.append(f"{error.get('message', '')}" + (f" (at {path})" if path else ""))
    return found


def lines_page(data: dict) -> tuple[list[dict], str | None]:
    return page_of(as_object(data.get("invoice"), "invoice"), "lineItems")


# --- answers → records --------------------------------------------------------------------
# Reads are strict (BadValue, and the caller holds the record) except a listing's records
# (`client_record`, `invoice_record`), which sync keeps whole like HubSpot's: what is not
# of its type is read as absent, and their ids as storable text; the invoice is read
# strictly again before it is posted (`invoice_deal`).


def _id(value: object, field: str, *, required: bool = True) -> str:
    """An id (an EncodedId, or a number such as a job's) as text PostgreSQL can store, like
    any text; BadValue for anything else, or when missing and `required`."""
    if value is None or value == "":
        if required:
            raise BadValue(field, "", "is missing")
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise BadValue(field, shown(value), "is not an id")
    if isinstance(value, int) and not -(10**64) < value < 10**64:
        raise BadValue(field, "", "is a number too long to be an id")
    return clean_text(value)


def _ids(value: object, field: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise BadValue(field, shown(value), "is not a list")
    return tuple(_id(v, field) for v in value)


def _part(value: object) -> dict:
    """An object of a listing's record; anything else is read as absent."""
    return value if isinstance(value, dict) else {}


def _parts(value: object) -> list[dict]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _text(node: dict, name: str) -> str:
    return clean_text(node.get(name)).strip() if node.get(name) is not None else ""


def _when(value) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _day(value) -> str:
    """Jobber types dates as ISO 8601 date-times at midnight UTC: the date is what counts."""
    found = _when(value)
    return found.date().isoformat() if found else ""


def _primary(items: list[dict], key: str) -> str:
    """The primary email or phone, else the first."""
    chosen = next((i for i in items if i.get("primary")), items[0] if items else {})
    return clean_text(chosen.get(key)).strip() if chosen.get(key) else ""


def client_record(node: dict) -> CrmRecord:
    """A Jobber client as sync reads it: a company client is a company, a person a contact
    (with no company: Jobber's people are homeowners), with the property names the default
    field maps read (name / firstname, lastname, email, phone, address, city, state, zip,
    country) beside Jobber's own."""
    is_company = bool(node.get("isCompany"))
    address = _part(node.get("billingAddress"))
    emails, phones = _parts(node.get("emails")), _parts(node.get("phones"))
    mobile = next((p for p in phones if "mobile" in _text(p, "description").casefold()), {})
    properties = {
        "name": _text(node, "name"),
        "companyName": _text(node, "companyName"),
        "firstname": _text(node, "firstName"),
        "lastname": _text(node, "lastName"),
        "title": _text(node, "title"),
        "email": _primary(emails, "address"),
        "phone": _primary(phones, "number"),
        "mobilephone": _text(mobile, "number"),
        "address": _text(address, "street1"),
        "address2": _text(address, "street2"),
        "city": _text(address, "city"),
        "state": _text(address, "province"),
        "zip": _text(address, "postalCode"),
        "country": _text(address, "country"),
        "isArchived": "true" if node.get("isArchived") else "false",
        "isLead": "true" if node.get("isLead") else "false",
        "balance": clean_text(node.get("balance")) if node.get("balance") is not None else "",
        "updatedAt": _text(node, "updatedAt"),
    }
    properties = {k: v for k, v in properties.items() if v != ""}
    crm_type = "companies" if is_company else "contacts"
    return CrmRecord(crm_type, node_id(node), properties, (), _when(node.get("updatedAt")))


def node_id(node: dict) -> str:
    """A node's id as a listing's record and an unreadable note name it: storable text."""
    return clean_text(node.get("id"))


# The properties a field map may read from clients, with their labels.
CLIENT_PROPERTIES = {
    "companies": [
        ("name", "Name"), ("companyName", "Company name"), ("email", "Email (primary)"),
        ("phone", "Phone (primary)"), ("address", "Billing street 1"),
        ("address2", "Billing street 2"), ("city", "Billing city"),
        ("state", "Billing province/state"), ("zip", "Billing postal code"),
        ("country", "Billing country"),
    ],
    "contacts": [
        ("firstname", "First name"), ("lastname", "Last name"), ("name", "Name"),
        ("title", "Title"), ("email", "Email (primary)"), ("phone", "Phone (primary)"),
        ("mobilephone", "Mobile phone"), ("address", "Billing street 1"),
        ("address2", "Billing street 2"), ("city", "Billing city"),
        ("state", "Billing province/state"), ("zip", "Billing postal code"),
        ("country", "Billing country"),
    ],
}  # fmt: skip


def client_balance(node: dict, currency: str) -> tuple[str, Money]:
    """A client's id and balance, or BadValue."""
    balance = jobber_number(node.get("balance"), "balance", default=Decimal(0))
    return _id(node.get("id"), "client id"), Money(balance, currency)


def invoice_record(node: dict) -> CrmRecord:
    """A Jobber invoice as a "deal" record: the stage is its status (issued ones are
    "won"), the name "Invoice #<number>"; the engine reads `dealstage` and `dealname`."""
    number = _text(node, "invoiceNumber")
    status = _text(node, "invoiceStatus")
    client = _part(node.get("client"))
    jobs = _parts(_part(node.get("jobs")).get("nodes"))
    job_ids = node.get("jobIds") if isinstance(node.get("jobIds"), list) else []
    properties = {
        "dealname": f"Invoice #{number}" if number else "Invoice",
        "dealstage": status,
        CRM_NUMBER_PROPERTY: number,
        "subject": _text(node, "subject"),
        "issued_date": _day(node.get("issuedDate")),
        "total": _text(_part(node.get("amounts")), "total"),
        "due_date": _day(node.get("dueDate")),
        "client_id": _text(client, "id"),
        "client_is_company": "true" if client.get("isCompany") else "false",
        "job_ids": ",".join(clean_text(j) for j in job_ids),
        CRM_JOBS_PROPERTY: ",".join(_text(j, "jobNumber") for j in jobs if _text(j, "jobNumber")),
        CRM_JOB_TITLES_PROPERTY: "\n".join(" ".join(_text(j, "title").split()) for j in jobs),
    }
    return CrmRecord("deals", node_id(node), properties, (), _when(node.get("updatedAt")))


@dataclass(frozen=True)
class _Billed:
    """What an invoice bills, read strictly: its id, client and jobs."""

    id: str
    client_id: str
    is_company: bool
    job_ids: tuple[str, ...]
    job_numbers: tuple[str, ...]
    amounts: dict


def _billed(node: dict) -> _Billed:
    """BadValue when an id is no id, or an object or list is not one."""
    client = as_object(node.get("client"), "client")
    return _Billed(
        id=_id(node.get("id"), "id"),
        client_id=_id(client.get("id"), "client id", required=False),
        is_company=bool(client.get("isCompany")),
        job_ids=_ids(node.get("jobIds"), "jobIds"),
        job_numbers=tuple(_id(j.get("jobNumber"), "job number") for j in _nodes(node, "jobs")),
        amounts=as_object(node.get("amounts"), "amounts"),
    )


def _line_numbers(node: dict) -> tuple[Decimal, Decimal, Decimal]:
    quantity = jobber_number(node.get("quantity"), "quantity", default=Decimal(1))
    price = jobber_number(node.get("unitPrice"), "unit price", default=Decimal(0))
    total = jobber_number(node.get("totalPrice"), "total price", default=quantity * price)
    return quantity, price, total


def deal_line(node: dict) -> DealLine:
    """A line item as invoicing reads it, or BadValue (the invoice is then held)."""
    quantity, price, _ = _line_numbers(node)
    return DealLine(
        external_id=_id(node.get("id"), "line item id", required=False),
        name=_text(node, "name"),
        quantity=quantity,
        unit_price=price,
        description=_text(node, "description"),
    )


def _issued_at(value) -> datetime | None:
    """The issue date as the deal's close date: noon UTC of that day, which is the same day
    from UTC-11 to UTC+11, so the invoice is dated the day Jobber shows in the client's
    timezone (midnight UTC would be the day before in the Americas)."""
    day = _when(value)
    return datetime.combine(day.date(), time(12), tzinfo=UTC) if day else None


def invoice_deal(node: dict, lines: list[dict], currency: str, *, unread: str = "") -> Deal:
    """A Jobber invoice as the deal invoicing posts: its lines, its client (a company or a
    contact), issued date as close date, and the Jobber number that the books invoice's
    number is made from. A value that is no number, or an id or list that is not one, is
    named in `problems` (held), as is `unread`: why its lines could not be read."""
    record = invoice_record(node)
    problems, read = [unread] if unread else [], []
    for line in lines:
        try:
            read.append(deal_line(line))
        except BadValue as error:
            problems.append(f"line item {_text(line, 'id')}: {error}")
    amount, client_id, is_company = None, "", False
    try:
        billed = _billed(node)
        client_id, is_company = billed.client_id, billed.is_company
        total = jobber_number(billed.amounts.get("total"), "total", default=Decimal(0))
        amount = Money(total, currency)
    except BadValue as error:
        problems.insert(0, str(error))
    return Deal(
        external_id=record.external_id,
        name=record.properties["dealname"],
        stage=record.properties["dealstage"],
        amount=amount,
        currency=currency,
        close_date=_issued_at(node.get("issuedDate")),
        lines=tuple(read),
        company_ids=(client_id,) if client_id and is_company else (),
        contact_ids=(client_id,) if client_id and not is_company else (),
        properties=record.properties,
        updated_at=record.updated_at,
        problems=tuple(problems),
        number=record.properties[CRM_NUMBER_PROPERTY],
    )


def crm_invoice(node: dict, lines: list[dict], currency: str) -> CrmInvoice:
    """A Jobber invoice for an audit, or BadValue when a number, an id or a list in it
    cannot be read."""
    billed = _billed(node)
    amounts = billed.amounts
    read = []
    for line in lines:
        quantity, price, total = _line_numbers(line)
        read.append(
            InvoiceLine(
                item_id="",
                quantity=quantity,
                unit_price=price,
                amount=total,
                description=_text(line, "name") or _text(line, "description"),
            )
        )
    total = jobber_number(amounts.get("total"), "total", default=Decimal(0))
    balance = jobber_number(amounts.get("invoiceBalance"), "balance", default=Decimal(0))
    return CrmInvoice(
        external_id=billed.id,
        number=_text(node, "invoiceNumber"),
        customer_id=billed.client_id,
        total=Money(total, currency),
        balance=Money(balance, currency),
        issued=_day(node.get("issuedDate")),
        due=_day(node.get("dueDate")),
        lines=tuple(read),
        status=_text(node, "invoiceStatus"),
        job_ids=billed.job_ids,
        subject=_text(node, "subject"),
        updated_at=_when(node.get("updatedAt")),
    )


def crm_job(node: dict, currency: str) -> CrmJob:
    """A job for an audit, or BadValue."""
    total = node.get("total")
    client = as_object(node.get("client"), "client")
    return CrmJob(
        external_id=_id(node.get("id"), "job id"),
        number=_id(node.get("jobNumber"), "job number", required=False),
        title=_text(node, "title"),
        customer_id=_id(client.get("id"), "client id", required=False),
        total=Money(jobber_number(total, "job total"), currency) if total is not None else None,
        status=_text(node, "jobStatus"),
        invoice_ids=tuple(_id(i.get("id"), "invoice id") for i in _nodes(node, "invoices")),
    )


def address_of(record: CrmRecord) -> Address:
    p = record.properties
    return Address(
        line1=p.get("address", ""),
        line2=p.get("address2", ""),
        city=p.get("city", ""),
        region=p.get("state", ""),
        postal_code=p.get("zip", ""),
        country=p.get("country", ""),
    )


# --- webhooks ----------------------------------------------------------------------------

WEBHOOK_SIGNATURE_HEADER = "X-Jobber-Hmac-SHA256"
APP_DISCONNECT = "APP_DISCONNECT"  # the contractor removed the app in Jobber
# Topic object → what sync reads: clients are companies or contacts (which, only a read
# says: the topic does not), invoices are the "deals" that are posted, a job's change is
# its invoices' (read when the invoices are).
TOPIC_OBJECTS = {"CLIENT": "clients", "INVOICE": "deals", "JOB": "jobs"}


def webhook_event(payload: dict) -> dict:
    """The event of a delivery: topic, accountId, itemId, occurredAt (or the schema's own
    spelling, occuredAt)."""
    event = payload["data"]["webHookEvent"]
    return {
        "topic": str(event["topic"]),
        "account_id": str(event["accountId"]),
        "item_id": str(event["itemId"]),
        "occurred_at": str(event.get("occurredAt") or event.get("occuredAt") or ""),
        "app_id": str(event.get("appId") or ""),
    }
