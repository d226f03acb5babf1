"""The Jobber emulator's writes and sums, shared by the GraphQL mutations and the control
API: invoice amounts, client balances, and creating or editing a client with Jobber's
checks. Plain Django; the GraphQL names live in schema.py."""

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils import timezone

from .models import Account, Client, Invoice, Job, LineItem, PaymentRecord, Property, Quote, Visit

ZERO = Decimal("0.00")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ADDRESS_FIELDS = ("street1", "street2", "city", "province", "postal_code", "country")


@dataclass(frozen=True)
class Amounts:
    subtotal: Decimal
    tax_amount: Decimal
    discount_amount: Decimal
    deposit_amount: Decimal
    payments_total: Decimal
    tips_total: Decimal
    total: Decimal
    invoice_balance: Decimal
    non_tax_amount: Decimal


def amounts(invoice: Invoice) -> Amounts:
    """An invoice's figures from its lines and payment records (refunds count negative)."""
    lines = list(invoice.lines.all())
    subtotal = sum((line.total_price for line in lines), ZERO)
    non_tax = sum((line.total_price for line in lines if not line.taxable), ZERO)
    total = subtotal - invoice.discount_amount + invoice.tax_amount
    payments = list(invoice.payment_records.all())
    paid = sum((p.amount for p in payments if p.adjustment_type != "REFUND"), ZERO) - sum(
        (p.amount for p in payments if p.adjustment_type == "REFUND"), ZERO
    )
    tips = sum((p.tip_amount for p in payments), ZERO)
    return Amounts(
        subtotal=subtotal,
        tax_amount=invoice.tax_amount,
        discount_amount=invoice.discount_amount,
        deposit_amount=invoice.deposit_amount,
        payments_total=paid,
        tips_total=tips,
        total=total,
        invoice_balance=total - paid - invoice.deposit_amount,
        non_tax_amount=non_tax,
    )


def client_balance(client: Client) -> Decimal:
    """What the client owes: every issued invoice's balance, less payments not on one."""
    owed = sum(
        (
            amounts(invoice).invoice_balance
            for invoice in client.invoices.exclude(invoice_status__in=("draft", "bad_debt"))
        ),
        ZERO,
    )
    loose = client.payment_records.filter(invoice__isnull=True)
    return owed - sum((p.amount for p in loose), ZERO)


def display_name(client: Client) -> str:
    if client.is_company and client.company_name:
        return client.company_name
    name = f"{client.first_name} {client.last_name}".strip()
    return name or client.company_name


@dataclass(frozen=True)
class Problem:
    message: str
    path: tuple[str, ...]


def check_client(values: dict, existing: Client | None = None) -> list[Problem]:
    """Jobber's userErrors for a client create or edit (values in model field names)."""
    problems = []
    merged = {
        key: values.get(key, getattr(existing, key, "") if existing else "")
        for key in ("first_name", "last_name", "company_name")
    }
    if not any(str(v or "").strip() for v in merged.values()):
        problems.append(
            Problem("Client must have a first name, last name or company name", ("input",))
        )
    for n, email in enumerate(values.get("emails") or []):
        if not EMAIL.match(email.get("address", "")):
            problems.append(
                Problem(
                    f"Email {email.get('address', '')!r} is not a valid email address",
                    ("input", "emails", str(n), "address"),
                )
            )
    for kind in ("emails", "phones"):
        if sum(1 for item in values.get(kind) or [] if item.get("primary")) > 1:
            problems.append(Problem(f"Only one of the {kind} can be primary", ("input", kind)))
    return problems


def create_client(account: Account, values: dict) -> Client:
    now = timezone.now()
    return Client.objects.create(account=account, created_at=now, updated_at=now, **values)


def edit_client(client: Client, values: dict) -> Client:
    for key, value in values.items():
        setattr(client, key, value)
    client.updated_at = timezone.now()
    client.save()
    return client


class BadBook(ValueError):
    """A control-API document the emulator cannot write; the message says why."""


def decimal_value(value, what: str) -> Decimal:
    if isinstance(value, float | bool):
        raise BadBook(f"{what} must be a decimal string or an integer, not {value!r}")
    try:
        return Decimal(str(value))
    except ArithmeticError as error:
        raise BadBook(f"{what} is not a number: {value!r}") from error


def date_value(value, what: str) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError as error:
        raise BadBook(f"{what} is not a YYYY-MM-DD date: {value!r}") from error


def _lines(owner: dict, rows: list[dict], what: str) -> None:
    for n, line in enumerate(rows):
        quantity = decimal_value(line.get("quantity", "1"), f"{what} line {n} quantity")
        unit_price = decimal_value(line.get("unit_price", "0"), f"{what} line {n} unit_price")
        total = line.get("total_price")
        LineItem.objects.create(
            **owner,
            position=n,
            name=str(line.get("name", "")),
            description=str(line.get("description", "")),
            quantity=quantity,
            unit_price=unit_price,
            total_price=(
                decimal_value(total, f"{what} line {n} total_price")
                if total is not None
                else (quantity * unit_price).quantize(Decimal("0.01"))
            ),
            taxable=bool(line.get("taxable", False)),
            service_date=date_value(line.get("date"), f"{what} line {n} date"),
        )


def write_book(account: Account, doc: dict) -> tuple[dict[str, object], list[object]]:
    """Write a contractor's records from a control-API document (model field names, keys
    the caller chose to refer between records). Returns key → row, and the rows created in
    order (for CREATE webhooks). Inside a transaction on the sandbox database."""
    made: dict[str, object] = {}
    order: list[object] = []
    now = timezone.now()
    stamp = {"account": account, "created_at": now, "updated_at": now}

    def find(key, kind, what: str):
        row = made.get(key)
        if not isinstance(row, kind):
            raise BadBook(f"{what} refers to {key!r}, which this document did not define")
        return row

    def keep(key, row) -> None:
        if not key or key in made:
            raise BadBook(f"every record needs a key of its own; {key!r} is missing or taken")
        made[key] = row
        order.append(row)

    for spec in doc.get("clients", []):
        values = {
            k: spec[k]
            for k in ("title", "first_name", "last_name", "company_name", "is_company",
                      "is_lead", "is_archived", "emails", "phones", *ADDRESS_FIELDS)
            if k in spec
        }  # fmt: skip
        problems = check_client(values)
        if problems:
            raise BadBook(f"client {spec.get('key')!r}: {problems[0].message}")
        keep(spec.get("key"), Client.objects.create(**stamp, **values))
        for p, prop in enumerate(spec.get("properties", [])):
            address = {k: prop[k] for k in (*ADDRESS_FIELDS, "is_billing_address") if k in prop}
            row = Property.objects.create(**stamp, client=made[spec["key"]], **address)
            keep(prop.get("key") or f"{spec['key']}/property/{p}", row)
    for spec in doc.get("quotes", []):
        number = spec.get("quote_number") or str(account.next_quote_number)
        account.next_quote_number += 1
        row = Quote.objects.create(
            **stamp,
            client=find(spec.get("client"), Client, "a quote's client"),
            property=find(spec["property"], Property, "a quote's property")
            if spec.get("property")
            else None,
            quote_number=str(number),
            title=str(spec.get("title", "")),
            quote_status=spec.get("quote_status", "approved"),
        )
        _lines({"quote": row}, spec.get("lines", []), f"quote {spec.get('key')}")
        keep(spec.get("key"), row)
    for spec in doc.get("jobs", []):
        number = spec.get("job_number") or account.next_job_number
        account.next_job_number = max(account.next_job_number, int(number)) + 1
        row = Job.objects.create(
            **stamp,
            client=find(spec.get("client"), Client, "a job's client"),
            property=find(spec["property"], Property, "a job's property")
            if spec.get("property")
            else None,
            quote=find(spec["quote"], Quote, "a job's quote") if spec.get("quote") else None,
            job_number=int(number),
            title=str(spec.get("title", "")),
            job_status=spec.get("job_status", "active"),
            job_type=spec.get("job_type", "ONE_OFF"),
            billing_type=spec.get("billing_type", "FIXED_PRICE"),
            start_at=spec.get("start_at"),
            completed_at=spec.get("completed_at"),
        )
        _lines({"job": row}, spec.get("lines", []), f"job {spec.get('key')}")
        given = spec.get("total")
        row.total = (
            decimal_value(given, f"job {spec.get('key')} total")
            if given is not None
            else sum((line.total_price for line in row.lines.all()), ZERO)
        )
        row.save(update_fields=["total"])
        keep(spec.get("key"), row)
    for spec in doc.get("invoices", []):
        number = spec.get("invoice_number") or str(account.next_invoice_number)
        if str(number).isdigit():
            account.next_invoice_number = max(account.next_invoice_number, int(number)) + 1
        row = Invoice.objects.create(
            **stamp,
            client=find(spec.get("client"), Client, "an invoice's client"),
            invoice_number=str(number),
            subject=str(spec.get("subject", "")),
            invoice_status=spec.get("invoice_status", "awaiting_payment"),
            issued_date=date_value(spec.get("issued_date"), "issued_date"),
            due_date=date_value(spec.get("due_date"), "due_date"),
            tax_amount=decimal_value(spec.get("tax_amount", "0"), "tax_amount"),
            discount_amount=decimal_value(spec.get("discount_amount", "0"), "discount_amount"),
        )
        row.jobs.set([find(key, Job, "an invoice's job") for key in spec.get("jobs", [])])
        _lines({"invoice": row}, spec.get("lines", []), f"invoice {spec.get('key')}")
        keep(spec.get("key"), row)
    for spec in doc.get("visits", []):
        row = Visit.objects.create(
            **stamp,
            job=find(spec.get("job"), Job, "a visit's job"),
            invoice=find(spec["invoice"], Invoice, "a visit's invoice")
            if spec.get("invoice")
            else None,
            title=str(spec.get("title", "")),
            visit_status=spec.get("visit_status", "COMPLETED"),
        )
        keep(spec.get("key"), row)
    for spec in doc.get("payments", []):
        invoice = (
            find(spec["invoice"], Invoice, "a payment's invoice") if spec.get("invoice") else None
        )
        client = invoice.client if invoice else find(spec.get("client"), Client, "a payment")
        row = PaymentRecord.objects.create(
            **stamp, client=client, invoice=invoice, **payment_values(spec, now.date())
        )
        keep(spec.get("key"), row)
    account.save(update_fields=["next_quote_number", "next_job_number", "next_invoice_number"])
    return made, order


def payment_values(spec: dict, today: date) -> dict:
    """A payment record's fields from a book or control document; BadBook when wrong."""
    what = f"payment {spec.get('key')}" if spec.get("key") else "payment"
    amount = decimal_value(spec.get("amount"), f"{what} amount")
    if amount <= 0:  # as in Jobber: a refund is a positive amount of adjustment type REFUND
        raise BadBook(
            f"{what}: amount must be greater than zero (a refund is a positive amount with "
            "adjustment_type REFUND)"
        )
    return {
        "amount": amount,
        "tip_amount": decimal_value(spec.get("tip_amount", "0"), "tip_amount"),
        "entry_date": date_value(spec.get("entry_date"), "entry_date") or today,
        "adjustment_type": spec.get("adjustment_type", "PAYMENT"),
        "payment_type": spec.get("payment_type", "CHECK"),
        "details": str(spec.get("details", "")),
    }


def settle(invoice: Invoice) -> None:
    """After a payment: an issued invoice with nothing left to pay becomes paid."""
    open_ = invoice.invoice_status in ("awaiting_payment", "past_due")
    if open_ and amounts(invoice).invoice_balance <= ZERO:
        invoice.invoice_status = "paid"
        invoice.received_date = invoice.received_date or timezone.now().date()
    invoice.updated_at = timezone.now()
    invoice.save()
