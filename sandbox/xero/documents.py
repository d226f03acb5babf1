"""Invoices and credit notes as plain data: lines, per-line tax, totals, status changes.

Pure functions over Xero JSON dicts; `store.py` loads, calls these and persists. Tax is
worked out per line and rounded to 2 dp before it is summed, as Xero does, so a total
can differ by a cent from tax worked out on the document (api-facts C5, Part H 4).
"""

import uuid
from decimal import Decimal

from .formats import Invalid, decimal, iso_day, money, ms_date, parse_date

# The sandbox organisation's tax rates (percent). Real orgs have their own; clients are
# meant to read GET /TaxRates rather than hard-code these.
TAX_RATES = {
    "NONE": Decimal("0"),
    "EXEMPTOUTPUT": Decimal("0"),
    "ZERORATEDOUTPUT": Decimal("0"),
    "OUTPUT": Decimal("15"),
    "OUTPUT2": Decimal("20"),
    "TAX001": Decimal("8.875"),
}
TAX_NAMES = {
    "NONE": "Tax Exempt",
    "EXEMPTOUTPUT": "Exempt Sales",
    "ZERORATEDOUTPUT": "Zero Rated",
    "OUTPUT": "Sales Tax 15%",
    "OUTPUT2": "Sales Tax 20%",
    "TAX001": "City Sales Tax",
}
# The sandbox organisation's chart of accounts: (code, name, type, class).
ACCOUNTS = (
    ("090", "Business Bank Account", "BANK", "ASSET"),
    ("091", "Business Savings Account", "BANK", "ASSET"),
    ("200", "Sales", "REVENUE", "REVENUE"),
    ("260", "Other Revenue", "REVENUE", "REVENUE"),
    ("610", "Accounts Receivable", "CURRENT", "ASSET"),
    ("820", "Sales Tax", "CURRLIAB", "LIABILITY"),
)
BANK_CODES = frozenset(code for code, _, kind, _ in ACCOUNTS if kind == "BANK")
LINE_AMOUNT_TYPES = ("Exclusive", "Inclusive", "NoTax")
STATUSES = ("DRAFT", "SUBMITTED", "AUTHORISED", "PAID", "VOIDED", "DELETED")
# Status changes a client may ask for; PAID only ever comes from payments and credit.
MOVES = {
    "DRAFT": {"DRAFT", "SUBMITTED", "AUTHORISED", "DELETED"},
    "SUBMITTED": {"SUBMITTED", "DRAFT", "AUTHORISED", "DELETED"},
    "AUTHORISED": {"AUTHORISED", "VOIDED"},
    "PAID": {"PAID"},
    "VOIDED": set(),
    "DELETED": set(),
}
NOT_MODIFIABLE = "Invoice not of valid status for modification"
HAS_PAYMENTS = "This document cannot be edited as it has a payment or credit note allocated to it."
NUMBER_FIELD = {"Invoice": "InvoiceNumber", "CreditNote": "CreditNoteNumber"}
TYPES = {"Invoice": ("ACCREC", "ACCPAY"), "CreditNote": ("ACCRECCREDIT", "ACCPAYCREDIT")}


def line(submitted: dict, amount_types: str, previous: dict | None = None) -> dict:
    """One line with its LineAmount and TaxAmount worked out (rounded per line)."""
    item = {**(previous or {}), **submitted}
    description = str(item.get("Description") or "").strip()
    if not description and not item.get("ItemCode"):
        raise Invalid("Description must be between 1 and 4000 characters long.")
    given = item.get("LineAmount") if "LineAmount" in submitted else None
    quantity = decimal(item.get("Quantity"), "Quantity", "1")
    if item.get("UnitAmount") in (None, "") and given is not None:
        unit = decimal(given, "LineAmount") / quantity if quantity else Decimal("0")
    else:
        unit = decimal(item.get("UnitAmount"), "UnitAmount", "0")
    discount = decimal(item.get("DiscountRate"), "DiscountRate", "0")
    if not Decimal("0") <= discount <= Decimal("100"):
        raise Invalid("Discount rate must be between 0 and 100.")
    amount = money(quantity * money(unit) * (Decimal("100") - discount) / Decimal("100"))
    tax_type = str(item.get("TaxType") or ("NONE" if amount_types == "NoTax" else "OUTPUT"))
    if tax_type not in TAX_RATES:
        raise Invalid(
            f"The TaxType code '{tax_type}' does not exist or cannot be used for this type "
            "of transaction."
        )
    rate = Decimal("0") if amount_types == "NoTax" else TAX_RATES[tax_type] / Decimal("100")
    # Inclusive amounts hold their tax; exclusive ones get it on top.
    tax = money(amount * rate / (1 + rate) if amount_types == "Inclusive" else amount * rate)
    out = {
        "LineItemID": item.get("LineItemID") or str(uuid.uuid4()),
        "Description": description,
        "Quantity": quantity,
        "UnitAmount": money(unit),
        "TaxType": tax_type,
        "TaxAmount": tax,
        "LineAmount": amount,
    }
    for optional in ("ItemCode", "AccountCode", "Tracking"):
        if item.get(optional):
            out[optional] = item[optional]
    if discount:
        out["DiscountRate"] = discount
    return out


def totals(lines: list[dict], amount_types: str, paid: Decimal, credited: Decimal) -> dict:
    tax = sum((ln["TaxAmount"] for ln in lines), Decimal("0.00"))
    amounts = sum((ln["LineAmount"] for ln in lines), Decimal("0.00"))
    sub_total = amounts - tax if amount_types == "Inclusive" else amounts
    total = sub_total + tax
    return {
        "SubTotal": money(sub_total),
        "TotalTax": money(tax),
        "Total": money(total),
        "AmountPaid": money(paid),
        "AmountCredited": money(credited),
        "AmountDue": money(total - paid - credited),
    }


def check_move(before: str, after: str, *, has_money: bool) -> None:
    if after not in STATUSES:
        raise Invalid(f"Status '{after}' is not valid.")
    if after == before:
        return
    if after == "PAID":
        raise Invalid("Status PAID is set by applying payments, not by an update.")
    if before in ("PAID", "VOIDED", "DELETED") or after not in MOVES[before]:
        raise Invalid(NOT_MODIFIABLE)
    if after == "VOIDED" and has_money:
        raise Invalid(HAS_PAYMENTS)


def build(kind: str, submitted: dict, existing: dict | None, today) -> dict:
    """The document after applying a create or an update; raises Invalid with Xero's text.

    `existing` is the stored JSON (None for a create). Contact and number are resolved by
    the store; this works out type, dates, status, lines and totals.
    """
    base = dict(existing or {})
    before = base.get("Status", "DRAFT")
    after = str(submitted.get("Status") or before).upper()
    paid = Decimal(str(base.get("AmountPaid", 0)))
    credited = Decimal(str(base.get("AmountCredited", 0)))
    has_money = bool(paid or credited or base.get("Allocations") or base.get("Payments"))
    if existing is not None:
        check_move(before, after, has_money=has_money)
        if before in ("VOIDED", "DELETED", "PAID") or (has_money and "LineItems" in submitted):
            raise Invalid(NOT_MODIFIABLE if not has_money else HAS_PAYMENTS)
    elif after not in ("DRAFT", "SUBMITTED", "AUTHORISED"):
        raise Invalid(f"Status '{after}' is not valid for a new document.")
    doc_type = str(submitted.get("Type") or base.get("Type") or "")
    if doc_type not in TYPES[kind]:
        raise Invalid(f"Type must be one of {', '.join(TYPES[kind])}.")
    amount_types = str(
        submitted.get("LineAmountTypes") or base.get("LineAmountTypes") or "Exclusive"
    )
    if amount_types not in LINE_AMOUNT_TYPES:
        raise Invalid("LineAmountTypes must be Exclusive, Inclusive or NoTax.")
    raw_lines = submitted.get("LineItems")
    if raw_lines is None:
        raw_lines = base.get("LineItems") or []
    if not isinstance(raw_lines, list):
        raise Invalid("LineItems must be a list.")
    if not raw_lines and after != "DRAFT":
        raise Invalid("A document must have at least one line item to be approved.")
    old_lines = {ln.get("LineItemID"): ln for ln in base.get("LineItems") or []}
    # A line sent without its LineItemID is a new line: the old ones not sent are dropped.
    lines = [line(ln, amount_types, old_lines.get(ln.get("LineItemID"))) for ln in raw_lines]
    day = parse_date(submitted["Date"]) if submitted.get("Date") else None
    if day is None:
        day = parse_date(base["Date"]) if base.get("Date") else today
    doc = {
        **base,
        "Type": doc_type,
        "Status": after,
        "LineAmountTypes": amount_types,
        "LineItems": lines,
        "Date": ms_date(day),
        "DateString": iso_day(day),
        **totals(lines, amount_types, paid, credited),
    }
    due = submitted.get("DueDate") or base.get("DueDate")
    if due:
        due_day = parse_date(due, "DueDate")
        doc["DueDate"], doc["DueDateString"] = ms_date(due_day), iso_day(due_day)
    for field in ("Reference", "Url", "CurrencyCode"):
        if field in submitted:
            doc[field] = submitted[field]
    doc.setdefault("CurrencyCode", "USD")
    if kind == "CreditNote":
        allocated = sum((Decimal(str(a["Amount"])) for a in base.get("Allocations", [])), paid)
        doc["RemainingCredit"] = money(doc["Total"] - allocated)
        doc.setdefault("Allocations", [])
        doc.pop("AmountDue", None)
    else:
        doc.setdefault("Payments", [])
        doc.setdefault("CreditNotes", [])
    if after == "VOIDED":
        # A voided document owes nothing: the amounts stay for the record.
        doc["AmountDue"] = Decimal("0.00")
    return doc
