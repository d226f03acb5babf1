"""Reads and writes of one organisation's records, with Xero's rules on each.

Callers hold the organisation's row lock for writes (see `api_views._write`), so numbers,
name checks and amounts owed never race. Each change is noted in `events` for webhooks.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from . import documents
from .formats import Invalid, Missing, decimal, money, ms_date, ms_datetime, parse_date
from .models import Organisation, Record
from .where import predicate

ID_FIELD = {
    "Contact": "ContactID",
    "Invoice": "InvoiceID",
    "CreditNote": "CreditNoteID",
    "Payment": "PaymentID",
    "Item": "ItemID",
    "TrackingCategory": "TrackingCategoryID",
}
# Webhook categories: Xero sends none for payments and items (api-facts C11).
CATEGORY = {"Contact": "CONTACT", "Invoice": "INVOICE", "CreditNote": "CREDITNOTE"}
MAX_PAGE_SIZE = 1000
CONTACT_FIELDS = (
    "ContactNumber", "AccountNumber", "FirstName", "LastName", "EmailAddress", "CompanyNumber",
    "TaxNumber", "Addresses", "Phones", "ContactPersons", "IsCustomer", "IsSupplier",
    "DefaultCurrency", "AccountsReceivableTaxType",
)  # fmt: skip
ITEM_FIELDS = ("Name", "Description", "IsSold", "IsPurchased", "SalesDetails", "PurchaseDetails")
# Tracking categories. api-facts has only "Tracking[] (max 2)" on a line (wave 2, C5);
# the rest is from Xero's API reference as remembered, not checked: two active categories
# per organisation, names of at most 100 characters, unique (ignoring case) among the
# active categories and within a category's options, and these messages. Correct here.
MAX_ACTIVE_CATEGORIES = 2
MAX_TRACKING_PER_LINE = 2
MAX_TRACKING_NAME = 100
TRACKING_SAYS = {
    "name": "The tracking {what} name must be between 1 and 100 characters long.",
    "too_many": "You can only have 2 active tracking categories.",
    "category_taken": "The tracking category name {name} is already in use.",
    "option_taken": "For each specified tracking option the name must be unique.",
    "per_line": "A line item can only have 2 tracking categories.",
    "no_category": "The TrackingCategory {name} does not exist or is not active.",
    "no_option": "The TrackingOption {option} does not exist or is not active in {name}.",
}


@dataclass(frozen=True)
class Event:
    category: str
    record_id: str
    kind: str  # CREATE or UPDATE


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


class Store:
    def __init__(self, organisation: Organisation) -> None:
        self.org = organisation
        self.events: list[Event] = []
        self.now = timezone.now()

    # -- reading ------------------------------------------------------------------------

    def rows(self, kind: str):
        return Record.objects.filter(organisation=self.org, kind=kind)

    def find(self, kind: str, key: str) -> Record | None:
        """A record by its id, or by its number (ContactNumber, InvoiceNumber, item Code)."""
        rows = self.rows(kind)
        if is_uuid(key):
            found = rows.filter(record_id=str(key).lower()).first()
            if found:
                return found
        return rows.filter(number=key).order_by("pk").first() if key else None

    def get(self, kind: str, key: str) -> Record:
        found = self.find(kind, key)
        if found is None:
            raise Missing(key)
        return found

    def listing(self, kind: str, params, since: datetime | None) -> tuple[list[dict], dict | None]:
        """Records for a GET list: filters, `where`, order and paging as Xero applies them."""
        rows = self.rows(kind)
        if since is not None:
            rows = rows.filter(updated_at__gte=since)
        records = [row.data for row in rows.order_by("pk")]
        id_field = ID_FIELD[kind]
        ids = {i.strip().lower() for i in params.get("IDs", "").split(",") if i.strip()}
        if ids:
            records = [r for r in records if r[id_field] in ids]
        statuses = {s.strip().upper() for s in params.get("Statuses", "").split(",") if s.strip()}
        if statuses:
            records = [r for r in records if r.get("Status") in statuses]
        numbers = {n.strip() for n in params.get("InvoiceNumbers", "").split(",") if n.strip()}
        if numbers:
            records = [r for r in records if r.get("InvoiceNumber") in numbers]
        contacts = {c.strip().lower() for c in params.get("ContactIDs", "").split(",") if c}
        if contacts:
            records = [r for r in records if r.get("Contact", {}).get("ContactID") in contacts]
        if kind == "Contact" and params.get("includeArchived", "").lower() != "true":
            records = [r for r in records if r.get("ContactStatus") != "ARCHIVED"]
        term = params.get("searchTerm", "").strip().lower()
        if term:
            fields = ("InvoiceNumber", "Reference", "Name", "ContactNumber", "EmailAddress")
            records = [
                r for r in records if any(term in str(r.get(f) or "").lower() for f in fields)
            ]
        records = [r for r in records if predicate(params.get("where", ""))(r)]
        order = params.get("order", "").strip().split()
        if order:
            field, descending = order[0], len(order) > 1 and order[1].upper() == "DESC"
            records.sort(key=lambda r: str(r.get(field) or ""), reverse=descending)
        if "page" not in params:
            if kind in ("Invoice", "CreditNote"):
                # Unpaged lists come without line items; paged ones include them (C7).
                records = [{k: v for k, v in r.items() if k != "LineItems"} for r in records]
            return records, None
        try:
            page = max(1, int(params.get("page") or 1))
            size = min(MAX_PAGE_SIZE, max(1, int(params.get("pageSize") or 100)))
        except ValueError as error:
            raise Invalid("page and pageSize must be whole numbers.") from error
        count = len(records)
        pagination = {
            "page": page,
            "pageSize": size,
            "pageCount": (count + size - 1) // size,
            "itemCount": count,
        }
        return records[(page - 1) * size : page * size], pagination

    # -- writing ------------------------------------------------------------------------

    def _save(self, kind: str, row: Record | None, data: dict, *, number: str = "") -> dict:
        created = row is None
        if row is None:
            row = Record(organisation=self.org, kind=kind, record_id=str(uuid.uuid4()))
        data[ID_FIELD[kind]] = row.record_id
        data["UpdatedDateUTC"] = ms_datetime(self.now)
        data.pop("ValidationErrors", None)
        data.pop("StatusAttributeString", None)
        row.data, row.number = data, number
        row.name = str(data.get("Name") or "")[:255]
        row.updated_at = self.now
        row.save()
        if kind in CATEGORY:
            self.events.append(
                Event(CATEGORY[kind], row.record_id, "CREATE" if created else "UPDATE")
            )
        return data

    def contact(self, body: dict, *, create_only: bool, key: str = "") -> dict:
        row = None
        if not create_only:
            row = self.find("Contact", key or body.get("ContactID") or "")
            if row is None and body.get("ContactNumber"):
                row = self.find("Contact", body["ContactNumber"])
            if row is None and body.get("Name") and not body.get("ContactID"):
                # POST matches an active contact by name: it updates it (Part H 3).
                row = self._active_named(str(body["Name"]))
            if row is None and (key or body.get("ContactID")):
                raise Invalid("The contact could not be found.")
        data = {**(row.data if row else {"ContactStatus": "ACTIVE"})}
        name = str(body.get("Name") if "Name" in body else data.get("Name") or "").strip()
        if not name or len(name) > 255:
            raise Invalid("The contact name must be between 1 and 255 characters long.")
        status = str(body.get("ContactStatus") or data["ContactStatus"]).upper()
        if status not in ("ACTIVE", "ARCHIVED", "GDPRREQUEST"):
            raise Invalid(f"ContactStatus '{status}' is not valid.")
        taken = self._active_named(name)
        if status == "ACTIVE" and taken is not None and taken != row:
            raise Invalid(
                f"The contact name {name} is already assigned to another contact. The contact "
                "name must be unique across all active contacts."
            )
        number = str(body.get("ContactNumber") or data.get("ContactNumber") or "")
        if (
            number
            and self.rows("Contact")
            .filter(number=number)
            .exclude(pk=getattr(row, "pk", None))
            .exists()
        ):
            raise Invalid(f"The contact number {number} is already assigned to another contact.")
        data.update({k: body[k] for k in CONTACT_FIELDS if k in body})
        data.update({"Name": name, "ContactStatus": status})
        return self._save("Contact", row, data, number=number)

    def _active_named(self, name: str) -> Record | None:
        for row in self.rows("Contact").filter(name__iexact=name):
            if row.data.get("ContactStatus") == "ACTIVE":
                return row
        return None

    def _contact_ref(self, ref: object) -> dict:
        if not isinstance(ref, dict) or not any(
            ref.get(k) for k in ("ContactID", "ContactNumber", "Name")
        ):
            raise Invalid(
                "The Contact must contain at least 1 of the following elements to identify the "
                "contact: Name, ContactID, ContactNumber"
            )
        row = None
        if ref.get("ContactID"):
            row = self.find("Contact", ref["ContactID"])
            if row is None:
                raise Invalid("The contact could not be found.")
        elif ref.get("ContactNumber"):
            row = self.find("Contact", ref["ContactNumber"])
        if row is None and ref.get("Name"):
            row = self._active_named(str(ref["Name"]))
        # Xero creates a contact named on a document when no active one matches.
        data = self.contact(ref, create_only=True) if row is None else row.data
        if data.get("ContactStatus") == "ARCHIVED":
            raise Invalid("The contact is archived. Restore it before using it on a document.")
        return {"ContactID": data["ContactID"], "Name": data["Name"]}

    def document(self, kind: str, body: dict, *, create_only: bool, key: str = "") -> dict:
        """Create or update an invoice or credit note (Xero's PUT and POST)."""
        id_field, number_field = ID_FIELD[kind], documents.NUMBER_FIELD[kind]
        row = None
        if not create_only:
            row = self.find(kind, key or body.get(id_field) or "")
            if row is None and (key or body.get(id_field)):
                raise Invalid(f"{kind} could not be found.")
        existing = row.data if row else None
        data = documents.build(kind, body, existing, timezone.localdate())
        self._tracked(data["LineItems"])
        if "Contact" in body or existing is None:
            data["Contact"] = self._contact_ref(body.get("Contact"))
        sales = data["Type"] in ("ACCREC", "ACCRECCREDIT")
        number = str(body.get(number_field) or (existing or {}).get(number_field) or "")
        if not number and sales:
            number = self._next_number(kind)
        if sales and number and self._number_taken(kind, number, row):
            label = "Invoice" if kind == "Invoice" else "Credit Note"
            raise Invalid(f"{label} # must be unique.")
        if number:
            data[number_field] = number
        return self._save(kind, row, data, number=number)

    def _next_number(self, kind: str) -> str:
        field = "next_invoice_number" if kind == "Invoice" else "next_credit_note_number"
        prefix = "INV" if kind == "Invoice" else "CN"
        while True:
            n = getattr(self.org, field)
            setattr(self.org, field, n + 1)
            self.org.save(update_fields=[field])
            number = f"{prefix}-{n:04d}"
            if not self.rows(kind).filter(number=number).exists():
                return number

    def _number_taken(self, kind: str, number: str, row: Record | None) -> bool:
        sales = ("ACCREC", "ACCRECCREDIT")
        others = self.rows(kind).filter(number=number).exclude(pk=getattr(row, "pk", None))
        return any(other.data.get("Type") in sales for other in others)

    def _invoice_for(self, ref: object) -> Record:
        if not isinstance(ref, dict) or not (ref.get("InvoiceID") or ref.get("InvoiceNumber")):
            raise Invalid("Invoice must be specified by InvoiceID or InvoiceNumber.")
        row = self.find("Invoice", ref.get("InvoiceID") or ref.get("InvoiceNumber"))
        if row is None:
            raise Invalid("Invoice could not be found.")
        return row

    def _settle(self, invoice: Record, paid: Decimal, credited: Decimal, day) -> dict:
        data = dict(invoice.data)
        data["AmountPaid"] = money(Decimal(str(data["AmountPaid"])) + paid)
        data["AmountCredited"] = money(Decimal(str(data["AmountCredited"])) + credited)
        due = money(Decimal(str(data["Total"])) - data["AmountPaid"] - data["AmountCredited"])
        data["AmountDue"] = due
        if due == 0 and data["Status"] == "AUTHORISED":
            data["Status"], data["FullyPaidOnDate"] = "PAID", ms_date(day)
        elif due > 0 and data["Status"] == "PAID":
            data["Status"] = "AUTHORISED"
            data.pop("FullyPaidOnDate", None)
        return data

    def payment(self, body: dict) -> dict:
        invoice = self._invoice_for(body.get("Invoice"))
        status = invoice.data["Status"]
        if status != "AUTHORISED":
            raise Invalid(f"Payment cannot be applied to an invoice with status {status}.")
        account = body.get("Account")
        if not isinstance(account, dict) or not (account.get("Code") or account.get("AccountID")):
            raise Invalid("Account must be specified by Code or AccountID.")
        code = account.get("Code") or next(
            (a["Code"] for a in chart() if a["AccountID"] == account.get("AccountID")), ""
        )
        if code not in documents.BANK_CODES:
            raise Invalid("Payments can only be made to a bank account.")
        account = {"Code": code, "AccountID": account_id(code)}
        amount = money(decimal(body.get("Amount"), "Amount"))
        due = Decimal(str(invoice.data["AmountDue"]))
        if amount <= 0:
            raise Invalid("Payment amount must be greater than zero.")
        if amount > due:
            raise Invalid("Payment amount exceeds the amount outstanding on this document.")
        day = parse_date(body["Date"]) if body.get("Date") else timezone.localdate()
        payment = self._save(
            "Payment",
            None,
            {
                "Date": ms_date(day),
                "Amount": amount,
                "Reference": body.get("Reference", ""),
                "IsReconciled": bool(body.get("IsReconciled")),
                "Status": "AUTHORISED",
                "PaymentType": "ACCRECPAYMENT"
                if invoice.data["Type"] == "ACCREC"
                else "ACCPAYPAYMENT",
                "Account": account,
                "Invoice": self._invoice_summary(invoice.data),
            },
        )
        data = self._settle(invoice, amount, Decimal("0"), day)
        data["Payments"] = [
            *data.get("Payments", []),
            {"PaymentID": payment["PaymentID"], "Date": payment["Date"], "Amount": amount},
        ]
        self._save("Invoice", invoice, data, number=invoice.number)
        return payment

    def delete_payment(self, key: str) -> dict:
        row = self.find("Payment", key)
        if row is None:
            raise Missing(key)
        if row.data["Status"] == "DELETED":
            raise Invalid("Payment has already been deleted.")
        invoice = self.get("Invoice", row.data["Invoice"]["InvoiceID"])
        amount = Decimal(str(row.data["Amount"]))
        data = self._settle(invoice, -amount, Decimal("0"), timezone.localdate())
        data["Payments"] = [p for p in data["Payments"] if p["PaymentID"] != row.record_id]
        self._save("Invoice", invoice, data, number=invoice.number)
        return self._save("Payment", row, {**row.data, "Status": "DELETED"})

    @staticmethod
    def _invoice_summary(data: dict) -> dict:
        return {
            "InvoiceID": data["InvoiceID"],
            "InvoiceNumber": data.get("InvoiceNumber", ""),
            "Type": data["Type"],
            "Contact": data.get("Contact", {}),
        }

    def allocate(self, credit_note_key: str, body: dict) -> dict:
        note = self.find("CreditNote", credit_note_key)
        if note is None:
            raise Missing(credit_note_key)
        if note.data["Status"] != "AUTHORISED":
            raise Invalid("Only an AUTHORISED credit note can be allocated.")
        invoice = self._invoice_for(body.get("Invoice"))
        if invoice.data["Status"] != "AUTHORISED":
            raise Invalid(
                f"Credit cannot be allocated to an invoice with status {invoice.data['Status']}."
            )
        amount = money(decimal(body.get("Amount"), "Amount"))
        remaining = Decimal(str(note.data["RemainingCredit"]))
        if amount <= 0 or amount > remaining:
            raise Invalid("The amount allocated exceeds the credit remaining on the credit note.")
        if amount > Decimal(str(invoice.data["AmountDue"])):
            raise Invalid("The amount allocated exceeds the amount outstanding on the invoice.")
        day = parse_date(body.get("Date") or "", "Date")
        allocation = {
            "AllocationID": str(uuid.uuid4()),
            "Amount": amount,
            "Date": ms_date(day),
            "Invoice": self._invoice_summary(invoice.data),
        }
        data = self._settle(invoice, Decimal("0"), amount, day)
        data["CreditNotes"] = [
            *data.get("CreditNotes", []),
            {
                "CreditNoteID": note.record_id,
                "CreditNoteNumber": note.data.get("CreditNoteNumber", ""),
                "AppliedAmount": amount,
            },
        ]
        self._save("Invoice", invoice, data, number=invoice.number)
        credit = dict(note.data)
        credit["RemainingCredit"] = money(remaining - amount)
        credit["Allocations"] = [*credit.get("Allocations", []), allocation]
        if credit["RemainingCredit"] == 0:
            credit["Status"], credit["FullyPaidOnDate"] = "PAID", ms_date(day)
        saved = self._save("CreditNote", note, credit, number=note.number)
        return {**allocation, "CreditNote": {"CreditNoteID": saved["CreditNoteID"]}}

    # -- tracking categories ------------------------------------------------------------
    def tracking_category(self, body: dict) -> dict:
        name = self._tracking_name(body, "category")
        active = [r for r in self.rows("TrackingCategory") if r.data["Status"] == "ACTIVE"]
        if any(r.data["Name"].casefold() == name.casefold() for r in active):
            raise Invalid(TRACKING_SAYS["category_taken"].format(name=name))
        if len(active) >= MAX_ACTIVE_CATEGORIES:
            raise Invalid(TRACKING_SAYS["too_many"])
        return self._save("TrackingCategory", None, {"Name": name, "Status": "ACTIVE",
                                                     "Options": []})  # fmt: skip

    def tracking_option(self, category_key: str, body: dict) -> dict:
        row = self.find("TrackingCategory", category_key)
        if row is None:
            raise Missing(category_key)
        name = self._tracking_name(body, "option")
        options = row.data.get("Options", [])
        if any(o["Name"].casefold() == name.casefold() for o in options):
            raise Invalid(TRACKING_SAYS["option_taken"])
        option = {"TrackingOptionID": str(uuid.uuid4()), "Name": name, "Status": "ACTIVE"}
        self._save("TrackingCategory", row, {**row.data, "Options": [*options, option]})
        return option

    def update_tracking_option(self, category_key: str, option_id: str, body: dict) -> dict:
        """Rename an option or set its Status (ACTIVE, ARCHIVED): an archived option comes
        back by being made active again, its name still its own."""
        row = self.find("TrackingCategory", category_key)
        options = row.data.get("Options", []) if row is not None else []
        option = next((o for o in options if o["TrackingOptionID"] == option_id), None)
        if option is None:
            raise Missing(option_id)
        changed = dict(option)
        if "Name" in body:
            changed["Name"] = self._tracking_name(body, "option")
            if any(o is not option and o["Name"].casefold() == changed["Name"].casefold()
                   for o in options):  # fmt: skip
                raise Invalid(TRACKING_SAYS["option_taken"])
        if "Status" in body:
            if body["Status"] not in ("ACTIVE", "ARCHIVED"):
                raise Invalid("Status must be ACTIVE or ARCHIVED.")
            changed["Status"] = body["Status"]
        kept = [changed if o is option else o for o in options]
        self._save("TrackingCategory", row, {**row.data, "Options": kept})
        return changed

    @staticmethod
    def _tracking_name(body: dict, what: str) -> str:
        name = str(body.get("Name") or "").strip()
        if not name or len(name) > MAX_TRACKING_NAME:
            raise Invalid(TRACKING_SAYS["name"].format(what=what))
        return name

    def _tracked(self, lines: list[dict]) -> None:
        """Each line's Tracking names an active category and one of its active options (by
        name or id), at most two; kept as Xero shows it, ids and names both."""
        categories = [r.data for r in self.rows("TrackingCategory")
                      if r.data["Status"] == "ACTIVE"]  # fmt: skip
        for line in lines:
            tracking = line.get("Tracking") or []
            if not isinstance(tracking, list):
                raise Invalid("Tracking must be a list.")
            if len(tracking) > MAX_TRACKING_PER_LINE:
                raise Invalid(TRACKING_SAYS["per_line"])
            line["Tracking"] = [self._tracking(t, categories) for t in tracking]
            if not line["Tracking"]:
                line.pop("Tracking")

    @staticmethod
    def _tracking(given: object, categories: list[dict]) -> dict:
        given = given if isinstance(given, dict) else {}
        name = str(given.get("Name") or "")
        category = next(
            (c for c in categories if c["TrackingCategoryID"] == given.get("TrackingCategoryID")
             or (name and c["Name"].casefold() == name.casefold())),
            None,
        )  # fmt: skip
        if category is None:
            raise Invalid(TRACKING_SAYS["no_category"].format(name=name))
        wanted = str(given.get("Option") or "")
        option = next(
            (o for o in category["Options"] if o["Status"] == "ACTIVE"
             and (o["TrackingOptionID"] == given.get("TrackingOptionID")
                  or (wanted and o["Name"].casefold() == wanted.casefold()))),
            None,
        )  # fmt: skip
        if option is None:
            raise Invalid(TRACKING_SAYS["no_option"].format(option=wanted, name=category["Name"]))
        return {
            "TrackingCategoryID": category["TrackingCategoryID"],
            "TrackingOptionID": option["TrackingOptionID"],
            "Name": category["Name"],
            "Option": option["Name"],
        }

    def item(self, body: dict, *, create_only: bool, key: str = "") -> dict:
        row = None
        if not create_only:
            row = self.find("Item", key or body.get("ItemID") or body.get("Code") or "")
        code = str(body.get("Code") or (row.data["Code"] if row else "")).strip()
        if not code or len(code) > 30:
            raise Invalid("Item code must be between 1 and 30 characters long.")
        taken = self.rows("Item").filter(number=code).exclude(pk=getattr(row, "pk", None))
        if taken.exists():
            raise Invalid(f"Item code '{code}' already exists.")
        data = {**(row.data if row else {"IsSold": True, "IsPurchased": True})}
        data.update({k: body[k] for k in ITEM_FIELDS if k in body})
        data["Code"] = code
        return self._save("Item", row, data, number=code)

    def delete_item(self, key: str) -> None:
        row = self.find("Item", key)
        if row is None:
            raise Missing(key)
        row.delete()


def account_id(code: str) -> str:
    """A chart account's id: fixed from its code, the same in every sandbox organisation."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"xero-sandbox-account:{code}"))


def chart() -> list[dict]:
    return [
        {
            "AccountID": account_id(code),
            "Code": code,
            "Name": name,
            "Type": kind,
            "Class": klass,
            "Status": "ACTIVE",
            "EnablePaymentsToAccount": kind == "BANK",
        }
        for code, name, kind, klass in documents.ACCOUNTS
    ]


def tax_rates() -> list[dict]:
    return [
        {
            "Name": documents.TAX_NAMES[tax_type],
            "TaxType": tax_type,
            "Status": "ACTIVE",
            "DisplayTaxRate": rate,
            "EffectiveRate": rate,
            "CanApplyToRevenue": True,
            "TaxComponents": [
                {"Name": documents.TAX_NAMES[tax_type], "Rate": rate, "IsCompound": False}
            ],
        }
        for tax_type, rate in documents.TAX_RATES.items()
    ]
