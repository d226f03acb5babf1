"""Every adapter's parsing of provider payloads, fed odd values in each numeric and text
field (NaN, infinities, -0, 1e309, 1e-400, comma decimals, thousands separators, blanks,
None, booleans, huge integers, lone surrogates, very long strings, nested objects): the
answer is a record whose numbers are finite Decimals the books can hold and whose text
PostgreSQL can store, or a `BadValue` with a reason; never another exception. Pure
functions, many examples; the sandbox tests in test_bad_numbers.py show the runs going on."""

import copy
import re
from dataclasses import fields, is_dataclass
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from quickbooks.objects.customer import Customer as QboCustomer

from connections.hubspot import adapter as hubspot
from connections.jobber import schema as jobber
from connections.jobber.adapter import JobberAdapter
from connections.numbers import LIMIT, BadValue, hubspot_number, quickbooks_number
from connections.quickbooks import adapter as quickbooks
from connections.records import CrmRecord, Deal, Item, Money, Unreadable
from connections.xero import adapter as xero
from sync import invoicing

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

NAMED = [
    float("nan"), float("inf"), float("-inf"), -0.0, 1e308,
    "NaN", "nan", "-NaN", "sNaN", "Infinity", "-inf", "-0", "+0.000",
    "1e309", "-1e309", "1E+99999999999", Decimal("1E+309"), Decimal("NaN"), Decimal("-sNaN"),
    "1e-400", Decimal("1E-400"), "12,50", "1,234.50", "1.234,50", "1 234.50", "12.5.1",
    "", " ", None, True, False, 10**30, -(10**30), 2**64, 10**5000,
    "\ud800", "12\udc00", "\x00", "1\x002", "٣", "½", "x" * 10_000, "9" * 5000,
    {"a": 1}, [1, 2], {}, [], {"value": {"value": "1"}},
    "9999999999.99", "-9999999999.999999", "0.000001", "1e3", ".5", "5.",
]  # fmt: skip
ODD = st.one_of(
    st.sampled_from(NAMED),
    st.text(alphabet="0123456789.,eE+- _'", max_size=14),
    st.text(max_size=30),
    st.integers(),
    st.floats(),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.lists(st.integers(), max_size=2),
)


def sound(value, path: str = "record") -> None:
    """Finite Decimals within the books' limits, text PostgreSQL can store, all the way
    down a record."""
    if isinstance(value, Decimal):
        assert value.is_finite() and abs(value) < LIMIT, (path, value)
    elif isinstance(value, str):
        assert "\x00" not in value, path
        value.encode("utf-8")  # a lone surrogate raises here
    elif isinstance(value, float):
        raise AssertionError(f"{path} is a float: {value!r}")
    elif is_dataclass(value):
        for f in fields(value):
            sound(getattr(value, f.name), f"{path}.{f.name}")
    elif isinstance(value, tuple | list):
        for n, item in enumerate(value):
            sound(item, f"{path}[{n}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            sound(key, f"{path} key")
            sound(item, f"{path}[{key!r}]")


def planted(base: dict, path: tuple, value) -> dict:
    """`base` with the value at `path` (keys and list indexes) replaced."""
    row = copy.deepcopy(base)
    where = row
    for step in path[:-1]:
        where = where[step]
    where[path[-1]] = value
    return row


# -- the parser itself ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("parse", "value", "field", "reason"),
    [
        (hubspot_number, "NaN", "quantity", "quantity 'NaN' is not a number"),
        (hubspot_number, "1e309", "amount", "amount '1e309' is too large"),
        (hubspot_number, "12,50", "price",
         "price '12,50' uses a comma; HubSpot numbers use a point"),
        (hubspot_number, "1,234.50", "price",
         "price '1,234.50' has thousands separators; HubSpot numbers have none"),
        (hubspot_number, True, "quantity", "quantity True is a yes/no value, not a number"),
        (quickbooks_number, Decimal("1E+309"), "total", "total 1E+309 is too large"),
        (quickbooks_number, float("nan"), "balance", "balance nan is not a number"),
        (quickbooks_number, {"value": 1}, "total", "total (a dict) is not a number"),
        (quickbooks_number, None, "total", "total is missing"),
    ],
)  # fmt: skip
def test_it_refuses_with_a_reason_a_person_can_read(parse, value, field, reason):
    with pytest.raises(BadValue) as refused:
        parse(value, field)
    assert str(refused.value) == reason


@pytest.mark.parametrize(
    ("value", "read"),
    [
        ("12.50", Decimal("12.50")),
        (" 40 ", Decimal("40")),
        ("-0", Decimal("0")),
        ("1e-400", Decimal("0.00000")),  # below QuickBooks' five places: zero
        ("1.234567", Decimal("1.23457")),
        ("9999999999.99", Decimal("9999999999.99")),  # the largest amount the books hold
        (Decimal("150.0"), Decimal("150.0")),
        (150, Decimal("150")),
        (0.1, Decimal("0.1")),  # the JSON text, not 0.1000000000000000055511151231257827
    ],
)
def test_it_reads_numbers_exactly(value, read):
    got = quickbooks_number(value, "amount")
    assert got == read and str(got) == str(read)


def test_missing_is_the_default_when_there_is_one():
    assert hubspot_number("", "quantity", default=Decimal(1)) == 1
    assert hubspot_number(None, "discount", default=Decimal(0)) == 0


@FUZZ
@given(value=ODD)
def test_any_value_is_a_sound_number_or_a_reason(value):
    for parse in (hubspot_number, quickbooks_number):
        try:
            got = parse(value, "amount")
        except BadValue as error:
            sound(str(error))
        else:
            sound(got)


# -- HubSpot -----------------------------------------------------------------------
DEAL = {
    "dealname": "Roof job", "dealstage": "closedwon", "pipeline": "default", "amount": "685",
    "closedate": "2026-11-20T15:00:00.000Z", "deal_currency_code": "USD",
    "syncfirm_payment_status": "unpaid", "syncfirm_amount_paid": "0",
}  # fmt: skip
LINE = {"name": "Gutter install", "hs_sku": "GT-INST", "quantity": "40", "price": "12.50",
        "discount": "0", "description": "Forty feet", "hs_product_id": "7"}  # fmt: skip
ITEMS = invoicing.item_index([Item("1", "Gutter install", "GT-INST"), Item("2", "Roof inspection")])


def _result(object_id, properties):
    """A record as HubSpot's JSON holds it (the adapter reads the JSON, not the models)."""
    return {"id": object_id, "properties": properties, "updatedAt": None}


def _deals_of(deal_properties: dict, line_properties: list[dict]) -> list[Deal]:
    """HubSpotAdapter.deals over records as HubSpot sends them, with no HTTP: its
    association and line-item reads answered from the given properties."""
    crm = hubspot.HubSpotAdapter(connection=None)
    line_ids = [str(100 + n) for n in range(len(line_properties))]
    crm._associated = lambda _from, to, ids: {"9001": line_ids} if to == "line_items" else {}
    crm.read_records = lambda crm_type, ids, properties=None: [
        hubspot._record("line_items", _result(i, p))
        for i, p in zip(line_ids, line_properties, strict=True)
    ]
    return crm.deals([hubspot._record("deals", _result("9001", deal_properties))])


@FUZZ
@given(
    field=st.sampled_from([*sorted(DEAL), "hs_object_id"]),
    line_field=st.sampled_from(sorted(LINE)),
    value=ODD,
    where=st.sampled_from(["deal", "line", "both"]),
)
def test_a_hubspot_deal_is_read_sound_or_held_with_its_reasons(field, line_field, value, where):
    deal_properties = planted(DEAL, (field,), value) if where != "line" else dict(DEAL)
    line = planted(LINE, (line_field,), value) if where != "deal" else dict(LINE)

    [deal] = _deals_of(deal_properties, [line, dict(LINE)])

    sound(deal)
    built = invoicing.build_invoice(
        deal, customer_id="58", items=ITEMS, company_currency="USD", timezone="America/Chicago",
        terms_days=30, pattern="SF-{deal_id}", books=invoicing.Books("QuickBooks", 21, "HubSpot"),
    )  # fmt: skip
    if deal.problems:  # held, saying why, and nothing is built
        assert isinstance(built, list) and all(r.startswith("could not be read: ") for r in built)
    if isinstance(built, list):
        assert built and all(isinstance(r, str) for r in built)
        sound(built)
    else:
        sound(built)
        assert built.total == sum((line.amount for line in built.lines), Decimal("0.00"))


@FUZZ
@given(field=st.sampled_from(sorted(hubspot.COMPANY_PROPERTIES)), value=ODD)
def test_hubspot_companies_and_contacts_are_read_as_storable_text(field, value):
    properties = {"name": "Cedar Roofing", "zip": "78701", field: value}
    sound(hubspot._company("5", properties, None))
    sound(hubspot._record("contacts", _result(6, properties)))


# -- QuickBooks --------------------------------------------------------------------
INVOICE = {
    "Id": "239", "SyncToken": "0", "DocNumber": "SF-9001", "TxnDate": "2026-11-20",
    "DueDate": "2026-12-20", "CustomerRef": {"value": "58", "name": "Cedar Roofing"},
    "CurrencyRef": {"value": "USD"}, "PrivateNote": "HubSpot deal 9001",
    "TotalAmt": Decimal("685.00"), "Balance": Decimal("185.00"),
    "MetaData": {"LastUpdatedTime": "2026-11-20T10:35:08-07:00"},
    "Line": [
        {"Id": "1", "Amount": Decimal("500.00"), "Description": "Gutters",
         "DetailType": "SalesItemLineDetail",
         "SalesItemLineDetail": {"ItemRef": {"value": "1"}, "Qty": 40,
                                 "UnitPrice": Decimal("12.5")}},
        {"Amount": Decimal("500.00"), "DetailType": "SubTotalLineDetail",
         "SubTotalLineDetail": {}},
    ],
}  # fmt: skip
INVOICE_PATHS = [
    ("Id",), ("SyncToken",), ("DocNumber",), ("TxnDate",), ("DueDate",), ("CustomerRef",),
    ("CustomerRef", "value"), ("CurrencyRef",), ("CurrencyRef", "value"), ("PrivateNote",),
    ("TotalAmt",), ("Balance",), ("MetaData",), ("MetaData", "LastUpdatedTime"), ("Line",),
    ("Line", 0), ("Line", 0, "Amount"), ("Line", 0, "Description"),
    ("Line", 0, "SalesItemLineDetail"), ("Line", 0, "SalesItemLineDetail", "Qty"),
    ("Line", 0, "SalesItemLineDetail", "UnitPrice"), ("Line", 0, "SalesItemLineDetail", "ItemRef"),
    ("Line", 0, "SalesItemLineDetail", "ItemRef", "value"),
]  # fmt: skip
PAYMENT = {
    "Id": "77", "TxnDate": "2026-11-21", "TotalAmt": Decimal("185.00"),
    "CustomerRef": {"value": "58"}, "PrivateNote": "HubSpot deal 9001",
    "MetaData": {"LastUpdatedTime": "2026-11-21T10:00:00-07:00"},
    "Line": [{"Amount": Decimal("185.00"), "LinkedTxn": [{"TxnId": "239", "TxnType": "Invoice"}]}],
}  # fmt: skip
PAYMENT_PATHS = [
    ("Id",), ("TxnDate",), ("TotalAmt",), ("CustomerRef",), ("CustomerRef", "value"),
    ("PrivateNote",), ("MetaData",), ("Line",), ("Line", 0), ("Line", 0, "Amount"),
    ("Line", 0, "LinkedTxn"), ("Line", 0, "LinkedTxn", 0), ("Line", 0, "LinkedTxn", 0, "TxnId"),
]  # fmt: skip
CUSTOMER = {
    "Id": "58", "SyncToken": "3", "DisplayName": "Cedar Roofing", "CompanyName": "Cedar Roofing",
    "GivenName": "Ann", "FamilyName": "Lee", "Notes": "", "Balance": Decimal("185.00"),
    "PrimaryTaxIdentifier": "XXXXX6789", "Active": True, "CurrencyRef": {"value": "USD"},
    "PrimaryEmailAddr": {"Address": "ann@cedar.test"}, "PrimaryPhone": {"FreeFormNumber": "555"},
    "BillAddr": {"Line1": "1 Main St", "City": "Austin", "PostalCode": "78701"},
    "MetaData": {"LastUpdatedTime": "2026-11-20T10:35:08-07:00"},
}  # fmt: skip
CUSTOMER_PATHS = [
    ("Id",), ("SyncToken",), ("DisplayName",), ("CompanyName",), ("GivenName",), ("FamilyName",),
    ("Notes",), ("Balance",), ("PrimaryTaxIdentifier",), ("CurrencyRef", "value"),
    ("PrimaryEmailAddr", "Address"), ("PrimaryPhone", "FreeFormNumber"), ("BillAddr", "Line1"),
    ("BillAddr", "PostalCode"), ("MetaData",), ("MetaData", "LastUpdatedTime"),
]  # fmt: skip


def _books(adapter=quickbooks.QuickBooksAdapter):
    books = adapter.__new__(adapter)
    books.unreadable = []
    return books


def _read_or_held(parse, rows: list, kind: str, adapter=quickbooks.QuickBooksAdapter) -> list:
    """The adapter's list read over rows: the readable ones, each sound; every other one
    kept in `unreadable` with a reason. Never an exception."""
    books = _books(adapter)
    read = books._each(rows, parse, kind)
    sound(read)
    sound(books.unreadable)
    assert len(read) + len(books.unreadable) == len(rows)
    assert all(isinstance(u, Unreadable) and u.reason for u in books.unreadable)
    return read


@FUZZ
@given(path=st.sampled_from(INVOICE_PATHS), value=ODD)
def test_a_quickbooks_invoice_is_read_sound_or_held(path, value):
    read = _read_or_held(quickbooks._invoice, [planted(INVOICE, path, value), INVOICE], "invoice")
    assert read[-1].total == Money(Decimal("685.00"), "USD")  # the good one is still read
    for invoice in read:  # what invoicing and reconciliation then do with it
        sound(invoicing.payment_state(invoice, [], date(2026, 12, 4)))
        assert invoice.txn_date == "" or date.fromisoformat(invoice.txn_date)


@FUZZ
@given(path=st.sampled_from(PAYMENT_PATHS), value=ODD)
def test_quickbooks_payments_and_credit_memos_are_read_sound_or_held(path, value):
    rows = [planted(PAYMENT, path, value), PAYMENT]
    _read_or_held(quickbooks._payment, rows, "payment")
    _read_or_held(quickbooks._credit_applied, rows, "credit memo")
    memos = _read_or_held(quickbooks._credit_memo, rows, "credit memo")
    assert memos[-1].total == Decimal("185.00") and memos[-1].deal_id == "9001"


@FUZZ
@given(path=st.sampled_from(CUSTOMER_PATHS), value=ODD)
def test_a_quickbooks_customer_is_read_sound_or_held(path, value):
    rows = [QboCustomer.from_json(planted(CUSTOMER, path, value)), QboCustomer.from_json(CUSTOMER)]
    read = _read_or_held(quickbooks._customer, rows, "customer")
    assert read[-1].display_name == "Cedar Roofing"
    if path == ("Balance",) and len(read) == 2:  # the balance alone never hides a customer
        assert read[0].balance is None or read[0].balance.amount.is_finite()


@FUZZ
@given(field=st.sampled_from(["Id", "Name", "Sku", "Active", "Taxable"]), value=ODD)
def test_a_quickbooks_item_is_always_read_as_text(field, value):
    item = quickbooks._item({"Id": "1", "Name": "Gutter install", "Sku": "GT", field: value})
    sound(item)
    invoicing.item_index([item])


# -- Xero ----------------------------------------------------------------------------
# Rows as the adapter reads Xero's JSON: numbers as Decimal, dates in Xero's own form.
XERO_CONTACT = {
    "ContactID": "c-58", "Name": "Cedar Roofing", "FirstName": "", "LastName": "",
    "EmailAddress": "ann@cedar.test", "TaxNumber": "12-3456789", "DefaultCurrency": "USD",
    "ContactStatus": "ACTIVE", "UpdatedDateUTC": "/Date(1732060800000+0000)/",
    "Addresses": [{"AddressType": "POBOX", "AddressLine1": "1 Main St", "City": "Austin",
                   "Region": "TX", "PostalCode": "78701", "Country": "US"}],
    "Phones": [{"PhoneType": "DEFAULT", "PhoneCountryCode": "1", "PhoneAreaCode": "512",
                "PhoneNumber": "5550123"}],
    "Balances": {"AccountsReceivable": {"Outstanding": Decimal("185.00")}},
}  # fmt: skip
XERO_CONTACT_PATHS = [
    ("ContactID",), ("Name",), ("FirstName",), ("LastName",), ("EmailAddress",),
    ("TaxNumber",), ("DefaultCurrency",), ("ContactStatus",), ("UpdatedDateUTC",),
    ("Addresses",), ("Addresses", 0), ("Addresses", 0, "AddressType"),
    ("Addresses", 0, "AddressLine1"), ("Addresses", 0, "PostalCode"), ("Phones",), ("Phones", 0),
    ("Phones", 0, "PhoneType"), ("Phones", 0, "PhoneNumber"), ("Phones", 0, "PhoneAreaCode"),
    ("Balances",), ("Balances", "AccountsReceivable"),
    ("Balances", "AccountsReceivable", "Outstanding"),
]  # fmt: skip
XERO_INVOICE = {
    "InvoiceID": "i-239", "Type": "ACCREC", "InvoiceNumber": "SF-9001",
    "Contact": {"ContactID": "c-58"}, "CurrencyCode": "USD", "Status": "AUTHORISED",
    "Total": Decimal("685.00"), "AmountDue": Decimal("185.00"), "Date": "/Date(1732060800000)/",
    "DueDate": "2026-12-20T00:00:00", "Reference": "HubSpot deal 9001",
    "UpdatedDateUTC": "/Date(1732060800000+0000)/",
    "LineItems": [{"ItemCode": "GT-INST", "Quantity": Decimal(40), "UnitAmount": Decimal("12.5"),
                   "LineAmount": Decimal("500.00"), "Description": "Gutters"}],
}  # fmt: skip
XERO_INVOICE_PATHS = [
    ("InvoiceID",), ("InvoiceNumber",), ("Contact",), ("Contact", "ContactID"),
    ("CurrencyCode",), ("Status",), ("Total",), ("AmountDue",), ("Date",), ("DueDate",),
    ("Reference",), ("UpdatedDateUTC",), ("LineItems",), ("LineItems", 0),
    ("LineItems", 0, "ItemCode"), ("LineItems", 0, "Quantity"), ("LineItems", 0, "UnitAmount"),
    ("LineItems", 0, "LineAmount"), ("LineItems", 0, "Description"),
]  # fmt: skip
XERO_PAYMENT = {
    "PaymentID": "p-77", "Date": "/Date(1732147200000+0000)/", "Amount": Decimal("185.00"),
    "Reference": "HubSpot deal 9001", "CurrencyCode": "USD", "Status": "AUTHORISED",
    "UpdatedDateUTC": "/Date(1732147200000+0000)/",
    "Invoice": {"InvoiceID": "i-239", "CurrencyCode": "USD", "Contact": {"ContactID": "c-58"}},
}  # fmt: skip
XERO_PAYMENT_PATHS = [
    ("PaymentID",), ("Date",), ("Amount",), ("Reference",), ("CurrencyCode",), ("Status",),
    ("UpdatedDateUTC",), ("Invoice",), ("Invoice", "InvoiceID"), ("Invoice", "CurrencyCode"),
    ("Invoice", "Contact"), ("Invoice", "Contact", "ContactID"),
]  # fmt: skip
XERO_CREDIT = {
    "CreditNoteID": "n-5", "Contact": {"ContactID": "c-58"}, "Date": "/Date(1732147200000)/",
    "Total": Decimal("185.00"), "RemainingCredit": Decimal("85.00"),
    "Reference": "HubSpot deal 9001", "UpdatedDateUTC": "/Date(1732147200000+0000)/",
    "Allocations": [{"Invoice": {"InvoiceID": "i-239"}, "Amount": Decimal("100.00")}],
}  # fmt: skip
XERO_CREDIT_PATHS = [
    ("CreditNoteID",), ("Contact",), ("Contact", "ContactID"), ("Date",), ("Total",),
    ("RemainingCredit",), ("Reference",), ("UpdatedDateUTC",), ("Allocations",),
    ("Allocations", 0), ("Allocations", 0, "Invoice"), ("Allocations", 0, "Invoice", "InvoiceID"),
    ("Allocations", 0, "Amount"),
]  # fmt: skip


def _xero_read_or_held(parse, base: dict, path: tuple, value, kind: str) -> list:
    """Xero's list read over the planted row and the good one; the good one is read."""
    read = _read_or_held(parse, [planted(base, path, value), base], kind, xero.XeroAdapter)
    assert read[-1] == parse(base)
    return read


@FUZZ
@given(path=st.sampled_from(XERO_CONTACT_PATHS), value=ODD)
def test_a_xero_contact_is_read_sound_or_held(path, value):
    _xero_read_or_held(xero._customer, XERO_CONTACT, path, value, "contact")


@FUZZ
@given(path=st.sampled_from(XERO_INVOICE_PATHS), value=ODD)
def test_a_xero_invoice_is_read_sound_or_held(path, value):
    read = _xero_read_or_held(xero._invoice, XERO_INVOICE, path, value, "invoice")
    for invoice in read:
        sound(invoicing.payment_state(invoice, [], date(2026, 12, 4)))
        assert invoice.txn_date == "" or date.fromisoformat(invoice.txn_date)


@FUZZ
@given(path=st.sampled_from(XERO_PAYMENT_PATHS), value=ODD)
def test_xero_payments_are_read_sound_or_held(path, value):
    _xero_read_or_held(xero._received, XERO_PAYMENT, path, value, "payment")
    _xero_read_or_held(xero._payment, XERO_PAYMENT, path, value, "payment")


@FUZZ
@given(path=st.sampled_from(XERO_CREDIT_PATHS), value=ODD)
def test_xero_credit_notes_are_read_sound_or_held(path, value):
    _xero_read_or_held(xero._credit_memo, XERO_CREDIT, path, value, "credit note")
    _xero_read_or_held(xero._credit_applied, XERO_CREDIT, path, value, "credit note")


@FUZZ
@given(field=st.sampled_from(["Code", "Name", "Type", "Class", "Status"]), value=ODD)
def test_xero_items_and_accounts_are_read_sound_or_held(field, value):
    row = {"Code": "200", "Name": "Sales", "Type": "REVENUE", "Class": "REVENUE", field: value}
    _read_or_held(xero._ledger_account, [row], "account", xero.XeroAdapter)
    _read_or_held(xero._item, [row], "item", xero.XeroAdapter)


# -- Jobber --------------------------------------------------------------------------
# Nodes as Jobber's GraphQL client hands them: Floats read as Decimal, ids encoded.
JOBBER_LINE = {"id": "TGluZS8x", "name": "Gutter install", "description": "Forty feet",
               "quantity": Decimal(40), "unitPrice": Decimal("12.5"),
               "totalPrice": Decimal("500.0")}  # fmt: skip
JOBBER_INVOICE = {
    "id": "SW52b2ljZS8x", "invoiceNumber": "1042", "invoiceStatus": "awaiting_payment",
    "subject": "Gutters", "issuedDate": "2026-11-20T00:00:00Z", "dueDate": "2026-12-20T00:00:00Z",
    "updatedAt": "2026-11-20T15:00:00Z",
    "amounts": {"subtotal": Decimal("500.0"), "total": Decimal("500.0"),
                "invoiceBalance": Decimal("185.0"), "paymentsTotal": Decimal("315.0")},
    "client": {"id": "Q2xpZW50LzE=", "isCompany": True},
    "jobIds": ["Sm9iLzc="], "jobs": {"nodes": [{"jobNumber": 7}]},
    "lineItems": {"nodes": [JOBBER_LINE, {**JOBBER_LINE, "id": "TGluZS8y"}],
                  "pageInfo": {"hasNextPage": False, "endCursor": None}},
    "paymentRecords": {
        "nodes": [{"id": "UGF5LzE=", "amount": Decimal("315.0"), "adjustmentType": "PAYMENT",
                   "entryDate": "2026-11-21T00:00:00Z", "details": "Cheque 301"}],
        "pageInfo": {"hasNextPage": False, "endCursor": None},
    },
}  # fmt: skip
JOBBER_INVOICE_PATHS = [
    ("id",), ("invoiceNumber",), ("invoiceStatus",), ("subject",), ("issuedDate",), ("dueDate",),
    ("updatedAt",), ("amounts",), ("amounts", "total"), ("amounts", "invoiceBalance"),
    ("client",), ("client", "id"), ("client", "isCompany"), ("jobIds",), ("jobIds", 0), ("jobs",),
    ("jobs", "nodes"), ("jobs", "nodes", 0), ("jobs", "nodes", 0, "jobNumber"), ("lineItems",),
    ("lineItems", "nodes"), ("lineItems", "nodes", 0), ("lineItems", "pageInfo"),
    *[("lineItems", "nodes", 0, field) for field in JOBBER_LINE],
    ("paymentRecords",), ("paymentRecords", "nodes"), ("paymentRecords", "nodes", 0),
    *[("paymentRecords", "nodes", 0, field)
      for field in ("id", "amount", "adjustmentType", "entryDate", "details")],
]  # fmt: skip
JOBBER_CLIENT = {
    "id": "Q2xpZW50LzE=", "name": "Cedar Roofing", "title": "", "firstName": "Ann",
    "lastName": "Lee", "companyName": "Cedar Roofing", "isCompany": True, "isArchived": False,
    "isLead": False, "emails": [{"address": "ann@cedar.test", "description": "MAIN",
                                 "primary": True}],
    "phones": [{"number": "555-0123", "description": "Mobile", "primary": True}],
    "billingAddress": {"street1": "1 Main St", "street2": "", "city": "Austin",
                       "province": "TX", "postalCode": "78701", "country": "US"},
    "balance": Decimal("185.0"), "updatedAt": "2026-11-20T15:00:00Z",
}  # fmt: skip
JOBBER_CLIENT_PATHS = [
    *[(field,) for field in JOBBER_CLIENT], ("emails", 0), ("emails", 0, "address"),
    ("emails", 0, "primary"), ("phones", 0), ("phones", 0, "number"),
    ("phones", 0, "description"), *[("billingAddress", field) for field in ("street1", "city")],
]  # fmt: skip
JOBBER_JOB = {"id": "Sm9iLzc=", "jobNumber": 7, "title": "Gutters", "jobStatus": "active",
              "total": Decimal("500.0"), "client": {"id": "Q2xpZW50LzE="},
              "invoices": {"nodes": [{"id": "SW52b2ljZS8x"}]}}  # fmt: skip
JOBBER_JOB_PATHS = [
    *[(field,) for field in JOBBER_JOB], ("client", "id"), ("invoices", "nodes"),
    ("invoices", "nodes", 0), ("invoices", "nodes", 0, "id"),
]  # fmt: skip


def _jobber(nodes: list[dict]) -> JobberAdapter:
    """JobberAdapter over nodes as its listing and by-id reads answer them, with no HTTP."""
    crm = JobberAdapter.__new__(JobberAdapter)
    crm.unreadable = []
    crm._every = lambda listing, describe, filter=None: iter(nodes)
    crm._by_ids = lambda kind, ids, describe: [n for n in nodes if n.get("id") in ids]
    return crm


@FUZZ
@given(path=st.sampled_from(JOBBER_INVOICE_PATHS), value=ODD)
def test_a_jobber_invoice_is_posted_sound_or_held_with_its_reasons(path, value):
    node = planted(JOBBER_INVOICE, path, value)
    good = {**JOBBER_INVOICE, "id": "SW52b2ljZS8y"}
    crm = _jobber([node, good])

    records = [jobber.invoice_record(n) for n in (node, good)]  # a listing: always sound
    sound(records)
    deals = crm.deals(records)
    sound(deals)
    assert deals[-1].external_id == good["id"] and not deals[-1].problems
    assert len(deals[-1].lines) == 2 and deals[-1].number == "1042"
    for deal in deals:
        built = invoicing.build_invoice(
            deal, customer_id="58", items=ITEMS, company_currency="USD",
            timezone="America/Chicago", terms_days=30, pattern="SF-{deal_id}",
            books=invoicing.Books("QuickBooks", 21, "Jobber"),
        )  # fmt: skip
        sound(built)
        if deal.problems:
            assert isinstance(built, list)
            assert all(r.startswith("could not be read: ") for r in built)


@FUZZ
@given(path=st.sampled_from(JOBBER_INVOICE_PATHS), value=ODD)
def test_a_jobber_invoice_is_audited_sound_or_held(path, value):
    good = {**JOBBER_INVOICE, "id": "SW52b2ljZS8y"}
    crm = _jobber([planted(JOBBER_INVOICE, path, value), good])
    read = crm.crm_invoices()
    sound(read)
    sound(crm.unreadable)
    assert len(read) + len(crm.unreadable) == 2 and read[-1].external_id == good["id"]
    assert read[-1].total == Money(Decimal("500.00"), "USD") and read[-1].job_ids == ("Sm9iLzc=",)


@FUZZ
@given(path=st.sampled_from(JOBBER_INVOICE_PATHS), value=ODD)
def test_a_jobber_invoices_payments_are_read_sound_or_held(path, value):
    try:
        payments, more = jobber.invoice_payments(planted(JOBBER_INVOICE, path, value), "USD")
    except BadValue as error:
        sound(str(error))
    else:
        sound(payments)
        assert isinstance(more, bool)


@FUZZ
@given(path=st.sampled_from(JOBBER_CLIENT_PATHS), value=ODD)
def test_a_jobber_client_is_read_as_storable_text_and_its_balance_sound_or_held(path, value):
    node = planted(JOBBER_CLIENT, path, value)
    record = jobber.client_record(node)  # a listing: never held, never unstorable
    assert isinstance(record, CrmRecord)
    sound(record)
    crm = _jobber([node, {**JOBBER_CLIENT, "id": "Q2xpZW50LzI="}])
    balances = crm.client_balances()
    sound(balances)
    sound(crm.unreadable)
    assert len(balances) + len(crm.unreadable) == 2
    assert balances["Q2xpZW50LzI="] == Money(Decimal("185.0"), "USD")


@FUZZ
@given(path=st.sampled_from(JOBBER_JOB_PATHS), value=ODD)
def test_a_jobber_job_is_read_sound_or_held(path, value):
    crm = _jobber([planted(JOBBER_JOB, path, value), {**JOBBER_JOB, "id": "Sm9iLzg="}])
    jobs = crm.jobs()
    sound(jobs)
    sound(crm.unreadable)
    assert len(jobs) + len(crm.unreadable) == 2 and jobs[-1].invoice_ids == ("SW52b2ljZS8x",)


@pytest.mark.parametrize("odd", ["Sm9i\x00", "Sm9i\ud800"])
@pytest.mark.parametrize("path", [("id",), ("client", "id"), ("jobIds", 0)])
def test_a_jobber_id_holding_nul_or_a_lone_surrogate_is_read_as_storable_text(path, odd):
    node = planted(JOBBER_INVOICE, path, odd)
    sound(jobber.invoice_record(node))
    sound(jobber.invoice_deal(node, [JOBBER_LINE], ""))
    invoice = jobber.crm_invoice(node, [JOBBER_LINE], "USD")
    sound(invoice)
    assert "Sm9i\ufffd" in (invoice.external_id, invoice.customer_id, *invoice.job_ids)


@pytest.mark.parametrize(
    ("path", "odd", "reason"),
    [
        (("jobIds",), "Sm9iLzc=", "jobIds 'Sm9iLzc=' is not a list"),
        (("jobIds",), {"id": 1}, "jobIds (a dict) is not a list"),
        (("jobs", "nodes"), 7, "jobs nodes 7 is not a list"),
        (("jobs", "nodes"), [7], "a node of jobs is not an object"),
        (("jobs",), [], "jobs is not an object"),
        (("client",), "Q2xp", "client is not an object"),
    ],
)
def test_a_jobber_invoice_of_the_wrong_shape_is_held_saying_why(path, odd, reason):
    node = planted(JOBBER_INVOICE, path, odd)
    assert jobber.invoice_deal(node, [JOBBER_LINE], "").problems == (reason,)
    with pytest.raises(BadValue, match=re.escape(reason)):
        jobber.crm_invoice(node, [JOBBER_LINE], "USD")


def test_an_invoice_with_a_bad_total_is_left_out_and_named():
    books = _books()
    rows = [planted(INVOICE, ("TotalAmt",), float("nan")), planted(INVOICE, ("Id",), "240")]
    read = books._each(rows, quickbooks._invoice, "invoice")
    assert [i.external_id for i in read] == ["240"]
    assert [str(u) for u in books.unreadable] == [
        "invoice 239 (SF-9001) could not be read: total nan is not a number"
    ]


def test_a_webhook_event_time_of_1e309_is_a_malformed_webhook_not_a_crash():
    from connections.hubspot.webhooks import MalformedWebhook, parse_events

    body = b'[{"portalId": 1, "eventId": 2, "subscriptionType": "deal.creation", '
    body += b'"objectId": 3, "occurredAt": 1e309}]'
    with pytest.raises(MalformedWebhook):
        parse_events(body)


def test_an_id_of_thousands_of_digits_is_held_with_a_reason_not_a_crash():
    # Python refuses str() of an int past 4,300 digits: a customer with such an id would
    # have stopped the whole read.
    with pytest.raises(BadValue, match="too long to be an id"):
        quickbooks._id(10**5000)
    assert quickbooks._id(239) == "239"
