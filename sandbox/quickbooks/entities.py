"""The entity rules of QuickBooks Online, as pure functions over JSON-shaped dicts.

What the client sends is cleaned (python-quickbooks sends "" for unset text and dates, and
zeros and read-only totals), validated, and completed with what QBO computes: line amounts,
totals, names. Money is Decimal throughout; it becomes a JSON number only on the way out.
"""

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from . import faults
from .standard_books import CLASSIFICATION, DEFAULT_SUBTYPE, USD

ENTITIES = {
    "customer": "Customer",
    "item": "Item",
    "account": "Account",
    "invoice": "Invoice",
    "payment": "Payment",
    "creditmemo": "CreditMemo",
    "class": "Class",
}
NAME_LISTS = {"Customer", "Item", "Account", "Class"}  # deactivated, never deleted
# The field a name list is queried and kept unique by.
NAME_FIELD = {"Customer": "DisplayName", "Item": "Name", "Account": "Name", "Class": "Name"}
TRANSACTIONS = {"Invoice", "Payment", "CreditMemo"}
# Computed by QuickBooks: whatever the client sends for these is ignored.
READ_ONLY = {
    "Id",
    "SyncToken",
    "MetaData",
    "domain",
    "sparse",
    "time",
    "status",
    "Balance",
    "BalanceWithJobs",
    "HomeBalance",
    "TotalAmt",
    "UnappliedAmt",
    "RemainingCredit",
    "FullyQualifiedName",
    "LinkedTxn",
    "CurrentBalance",
    "CurrentBalanceWithSubAccounts",
}
PAYMENT_INPUT = {"TotalAmt"}  # a Payment's TotalAmt is the amount received: an input
MAX_DOC_NUMBER = 21
MAX_NAME = 500
# A Class's Name: 100 characters is what Intuit's entity reference gives; api-facts has no
# fact on it, so this is the one place to correct.
MAX_CLASS_NAME = 100
CENT = Decimal("0.01")


def money(value) -> Decimal:
    try:
        return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError) as error:
        raise faults.QboFault("2000", "Invalid Number", f"{value!r} is not a number") from error


def clean(value: object) -> object:
    """Drop "" and None (python-quickbooks' way of saying "unset"), recursively."""
    if isinstance(value, dict):
        cleaned = {k: clean(v) for k, v in value.items() if v not in ("", None)}
        return {k: v for k, v in cleaned.items() if v not in ({}, None)}
    if isinstance(value, list):
        return [clean(v) for v in value if v not in ("", None)]
    return value


def writable(entity: str, body: dict) -> dict:
    data = clean(body)
    keep = PAYMENT_INPUT if entity == "Payment" else set()
    return {k: v for k, v in data.items() if k not in READ_ONLY or k in keep}


def ref_value(ref) -> str:
    if isinstance(ref, dict):
        return str(ref.get("value", ""))
    return "" if ref is None else str(ref)


def complete_customer(data: dict) -> dict:
    if not data.get("DisplayName"):
        parts = [data.get("GivenName", ""), data.get("MiddleName", ""), data.get("FamilyName", "")]
        derived = " ".join(p for p in parts if p) or data.get("CompanyName", "")
        if not derived:
            raise faults.required("DisplayName", "Customer")
        data["DisplayName"] = derived
    name = data["DisplayName"]
    if len(name) > MAX_NAME:
        raise faults.string_length("DisplayName", MAX_NAME, len(name))
    data.setdefault("PrintOnCheckName", name)
    data["FullyQualifiedName"] = name  # a sub-customer's: "Parent:Child" (the store's)
    data.setdefault("Active", True)
    # A customer with a parent is a sub-customer, which QBO marks Job (api-facts leaves the
    # exact Job/ParentRef values on projects uncertain; G1).
    data["Job"] = bool(ref_value(data.get("ParentRef"))) or data.get("Job") in (True, "true")
    data.setdefault("BillWithParent", False)
    data.setdefault("Taxable", True)
    data.setdefault("CurrencyRef", {"value": "USD", "name": "United States Dollar"})
    data.setdefault("PreferredDeliveryMethod", "Print")
    data.setdefault("Balance", Decimal("0.00"))
    data.setdefault("BalanceWithJobs", Decimal("0.00"))
    return data


def complete_item(data: dict) -> dict:
    if not data.get("Name"):
        raise faults.required("Name", "Item")
    data.setdefault("Type", "Service")
    if data["Type"] in ("Service", "NonInventory") and not ref_value(data.get("IncomeAccountRef")):
        raise faults.required("IncomeAccountRef", "Item")
    if "UnitPrice" in data:
        data["UnitPrice"] = Decimal(str(data["UnitPrice"]))
    data["FullyQualifiedName"] = data["Name"]
    data.setdefault("Active", True)
    data.setdefault("Taxable", False)
    data.setdefault("TrackQtyOnHand", False)
    return data


def complete_class(data: dict) -> dict:
    name = data.get("Name", "")
    if not name:
        raise faults.required("Name", "Class")
    if len(name) > MAX_CLASS_NAME:
        raise faults.string_length("Name", MAX_CLASS_NAME, len(name))
    if ":" in name:  # the separator of FullyQualifiedName
        raise faults.QboFault("2170", "Invalid Name", "A class name cannot contain a colon")
    data["FullyQualifiedName"] = name  # a sub-class's: "Parent:Child" (the store's)
    data["SubClass"] = bool(ref_value(data.get("ParentRef")))
    data.setdefault("Active", True)
    return data


def complete_account(data: dict) -> dict:
    if not data.get("Name"):
        raise faults.required("Name", "Account")
    if not data.get("AccountType"):
        raise faults.required("AccountType", "Account")
    kind = data["AccountType"]
    if kind not in CLASSIFICATION:
        raise faults.QboFault(
            "2170", "Invalid Enumeration", f"Invalid AccountType: {kind}", element="AccountType"
        )
    data["FullyQualifiedName"] = data["Name"]
    data.setdefault("Active", True)
    data.setdefault("SubAccount", False)
    data["Classification"] = CLASSIFICATION[kind]  # QBO derives it from the type
    data.setdefault("AccountSubType", DEFAULT_SUBTYPE[kind])
    data.setdefault("CurrencyRef", dict(USD))
    data.setdefault("CurrentBalance", Decimal("0.00"))
    data.setdefault("CurrentBalanceWithSubAccounts", Decimal("0.00"))
    return data


def _sales_line(line: dict) -> dict:
    detail = line.get("SalesItemLineDetail") or {}
    qty = Decimal(str(detail["Qty"])) if detail.get("Qty") not in (None, 0, "0") else None
    price = (
        Decimal(str(detail["UnitPrice"])) if detail.get("UnitPrice") not in (None, 0, "0") else None
    )
    amount = money(line["Amount"]) if "Amount" in line else None
    if qty is not None and price is not None:
        expected = money(qty * price)
        if amount is not None and amount != expected:
            raise faults.QboFault(
                "6070",
                "Amount is not equal to Qty * UnitPrice",
                f"Amount {amount} is not equal to Qty {qty} * UnitPrice {price}",
                element="Line.Amount",
            )
        amount = expected
    if amount is None:
        raise faults.required("Line.Amount", "Invoice")
    if qty is None and price is not None and price != 0:
        qty = (amount / price).quantize(Decimal("0.0001"))
    if price is None and qty:
        price = (amount / qty).quantize(Decimal("0.0001"))
    detail = {**detail}
    if qty is not None:
        detail["Qty"] = qty
    if price is not None:
        detail["UnitPrice"] = price
    return {**line, "Amount": amount, "SalesItemLineDetail": detail}


def complete_lines(entity: str, data: dict) -> dict:
    """Line amounts and the document total; the SubTotal line is QBO's own."""
    lines = [
        line for line in data.get("Line", []) if line.get("DetailType") != "SubTotalLineDetail"
    ]
    if not any(line.get("DetailType") == "SalesItemLineDetail" for line in lines):
        raise faults.required("Line", entity)
    out, subtotal, discount = [], Decimal("0.00"), Decimal("0.00")
    for number, line in enumerate(lines, start=1):
        kind = line.get("DetailType")
        if kind == "SalesItemLineDetail":
            if not ref_value((line.get("SalesItemLineDetail") or {}).get("ItemRef")):
                raise faults.required("Line.SalesItemLineDetail.ItemRef", entity)
            line = _sales_line(line)
            subtotal += line["Amount"]
        elif kind == "DiscountLineDetail":
            detail = line.get("DiscountLineDetail") or {}
            if detail.get("PercentBased"):
                line = {
                    **line,
                    "Amount": money(subtotal * Decimal(str(detail["DiscountPercent"])) / 100),
                }
            else:
                line = {**line, "Amount": money(line.get("Amount", 0))}
            discount += line["Amount"]
        elif kind == "DescriptionOnly":
            line = {**line, "Amount": Decimal("0.00")}
        else:
            raise faults.QboFault(
                "2010", "Request has invalid or unsupported property", f"DetailType {kind}"
            )
        out.append({**line, "Id": str(number), "LineNum": number})
    out.append({"Amount": subtotal, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}})
    tax = money((data.get("TxnTaxDetail") or {}).get("TotalTax", 0))
    data["Line"] = out
    data["TxnTaxDetail"] = {**(data.get("TxnTaxDetail") or {}), "TotalTax": tax}
    data["TotalAmt"] = subtotal - discount + tax
    return data


def complete_document(entity: str, data: dict, today: date) -> dict:
    """Invoice and CreditMemo: customer, dates, lines and totals."""
    if not ref_value(data.get("CustomerRef")):
        raise faults.required("CustomerRef", entity)
    doc = data.get("DocNumber", "")
    if len(doc) > MAX_DOC_NUMBER:
        raise faults.string_length("DocNumber", MAX_DOC_NUMBER, len(doc))
    data.setdefault("TxnDate", today.isoformat())
    if entity == "Invoice":
        terms_days = 30  # Net 30, QBO's usual default term
        txn = date.fromisoformat(data["TxnDate"])
        data.setdefault("DueDate", (txn + timedelta(days=terms_days)).isoformat())
        data.setdefault("EmailStatus", "NotSet")
        data.setdefault("PrintStatus", "NeedToPrint")
        data.setdefault("Deposit", Decimal("0.00"))
    data.setdefault("ApplyTaxAfterDiscount", False)
    data.setdefault("CurrencyRef", {"value": "USD", "name": "United States Dollar"})
    return complete_lines(entity, data)


def complete_payment(data: dict, today: date) -> dict:
    if not ref_value(data.get("CustomerRef")):
        raise faults.required("CustomerRef", "Payment")
    if "TotalAmt" not in data:
        raise faults.required("TotalAmt", "Payment")
    data["TotalAmt"] = money(data["TotalAmt"])
    data.setdefault("TxnDate", today.isoformat())
    data.setdefault("ProcessPayment", False)
    data.setdefault("CurrencyRef", {"value": "USD", "name": "United States Dollar"})
    lines = []
    for line in data.get("Line", []):
        links = [
            {"TxnId": str(link.get("TxnId", "")), "TxnType": link.get("TxnType", "")}
            for link in line.get("LinkedTxn", [])
        ]
        if not links:
            continue
        for link in links:
            if link["TxnType"] not in ("Invoice", "CreditMemo"):
                raise faults.business_rule(f"A payment cannot be linked to {link['TxnType']}")
        lines.append({"Amount": money(line.get("Amount", 0)), "LinkedTxn": links})
    data["Line"] = lines
    return data


def payment_links(payment: dict) -> list[tuple[str, str, Decimal]]:
    """(TxnType, TxnId, amount) for each transaction a payment pays or uses."""
    out = []
    for line in payment.get("Line", []):
        for link in line.get("LinkedTxn", []):
            out.append((link["TxnType"], str(link["TxnId"]), money(line["Amount"])))
    return out


def unapplied(payment: dict) -> Decimal:
    paid = sum((a for t, _, a in payment_links(payment) if t == "Invoice"), Decimal("0.00"))
    used_credit = sum(
        (a for t, _, a in payment_links(payment) if t == "CreditMemo"), Decimal("0.00")
    )
    return money(payment["TotalAmt"]) - (paid - used_credit)


def voided(entity: str, data: dict) -> dict:
    """QBO keeps a voided transaction but zeroes every amount and says so in PrivateNote."""
    zeroed = dict(data)
    lines = []
    for line in data.get("Line", []):
        line = {**line, "Amount": Decimal("0.00")}
        detail = line.get("SalesItemLineDetail")
        if detail:
            line["SalesItemLineDetail"] = {**detail, "Qty": Decimal("0"), "UnitPrice": Decimal("0")}
        lines.append(line)
    zeroed["Line"] = [] if entity == "Payment" else lines
    zeroed["TotalAmt"] = Decimal("0.00")
    if entity == "Invoice":
        zeroed["Balance"] = Decimal("0.00")
    if entity == "Payment":
        zeroed["UnappliedAmt"] = Decimal("0.00")
    note = data.get("PrivateNote", "")
    zeroed["PrivateNote"] = f"Voided{' - ' + note if note else ''}"
    zeroed["Voided"] = True
    return zeroed


def merge_sparse(current: dict, changes: dict) -> dict:
    """A sparse update changes only the fields sent; a Line array replaces all lines."""
    merged = dict(current)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged
