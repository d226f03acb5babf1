"""Sandbox-only control endpoints for Jobber accounts (tests, benchmarks, the demo).

  POST   control/jobber/accounts                      make an account (connected, with tokens)
  GET    control/jobber/accounts/<id>                  its settings
  PATCH  control/jobber/accounts/<id>                  change them (limits, webhook URL, ...)
  POST   control/jobber/accounts/<id>/book             write clients, quotes, jobs, invoices,
                                                       visits and payments in one go
  POST   control/jobber/accounts/<id>/payments         record a payment on an invoice
  PATCH  control/jobber/accounts/<id>/invoices/<gid>   edit an invoice as a user would
  DELETE control/jobber/accounts/<id>/records/<gid>    delete a record (<OBJECT>_DESTROY)

Jobber's public API has no invoice or payment writes we can rely on (api-facts E4), so
the contractor's own work (what they key in Jobber's app) arrives through these. Writes
send the webhooks Jobber would. Faults, the request log and reset are the shared
control API's (sandbox/control_views.py), with system "jobber" and the account id.
"""

import json

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from sandbox.routers import SANDBOX_DB

from . import ratelimit, store
from .ids import decode_id
from .models import Account, Client, Invoice, Job, PaymentRecord, Property, Quote, Visit
from .oauth import disconnect, issue
from .schema import (
    BillingStrategy,
    InvoiceStatusTypeEnum,
    JobStatusTypeEnum,
    PaymentRecordAdjustmentTypeEnum,
    QuoteStatusTypeEnum,
    VisitStatusTypeEnum,
    gid,
    topic,
)
from .webhooks import notify

EDITABLE = {
    "name": str,
    "webhook_url": str,
    "rate_limits": bool,
    "maximum_available": int,
    "restore_rate": int,
    "request_limit": int,
    "refresh_token_rotation": bool,
    "connected": bool,
}
STATUSES = {
    ("quotes", "quote_status"): QuoteStatusTypeEnum,
    ("jobs", "job_status"): JobStatusTypeEnum,
    ("jobs", "billing_type"): BillingStrategy,
    ("invoices", "invoice_status"): InvoiceStatusTypeEnum,
    ("visits", "visit_status"): VisitStatusTypeEnum,
    ("payments", "adjustment_type"): PaymentRecordAdjustmentTypeEnum,
}
KINDS = {
    "Client": Client,
    "Property": Property,
    "Quote": Quote,
    "Job": Job,
    "Visit": Visit,
    "Invoice": Invoice,
    "PaymentRecord": PaymentRecord,
}


def _json(account: Account) -> dict:
    return {
        "account_id": account.pk,
        "id": gid(account),
        **{name: getattr(account, name) for name in EDITABLE},
    }


def _body(request: HttpRequest) -> dict | str:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return "body is not JSON"
    return body if isinstance(body, dict) else "body must be a JSON object"


def _changes(request: HttpRequest, extra: frozenset = frozenset()) -> dict | str:
    body = _body(request)
    if isinstance(body, str):
        return body
    unknown = set(body) - set(EDITABLE) - extra
    if unknown:
        return f"unknown fields: {sorted(unknown)}"
    for key, kind in EDITABLE.items():
        if key in body and (
            not isinstance(body[key], kind) or isinstance(body[key], bool) != (kind is bool)
        ):
            return f"{key} must be {kind.__name__}"
    return body


def _bad(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


@csrf_exempt
@require_http_methods(["POST"])
def accounts(request: HttpRequest) -> HttpResponse:
    """Make an account; unless `connect` is false, connect the app and hand out tokens."""
    changes = _changes(request, frozenset({"connect"}))
    if isinstance(changes, str):
        return _bad(changes)
    connect_it = changes.pop("connect", True)
    if not str(changes.get("name", "")).strip():
        return _bad("name is required")
    with transaction.atomic(using=SANDBOX_DB):
        account = Account.objects.create(**changes)
        body = _json(account)
        if connect_it:
            account.connected = True
            account.save(update_fields=["connected"])
            access, refresh = issue(account, settings.JOBBER_CLIENT_ID)
            body |= {
                "connected": True,
                "access_token": access.token,
                "refresh_token": refresh.token,
            }
    return JsonResponse(body, status=201)


def _found(account_id: int) -> Account | None:
    return Account.objects.filter(pk=account_id).first()


@csrf_exempt
@require_http_methods(["GET", "PATCH"])
def account(request: HttpRequest, account_id: int) -> HttpResponse:
    found = _found(account_id)
    if found is None:
        return _bad("no such account", 404)
    if request.method == "PATCH":
        changes = _changes(request)
        if isinstance(changes, str):
            return _bad(changes)
        if changes.get("connected") is False:
            disconnect(found)
        for key, value in changes.items():
            setattr(found, key, value)
        found.save()
        ratelimit.forget(found.pk)  # a new bucket size starts full
    return JsonResponse(_json(found))


def _check_statuses(doc: dict) -> str | None:
    for (section, field), enum in STATUSES.items():
        allowed = {member.value for member in enum}
        for spec in doc.get(section, []):
            if field in spec and spec[field] not in allowed:
                return f"{section}: {field} must be one of {sorted(allowed)}, not {spec[field]!r}"
    return None


@csrf_exempt
@require_http_methods(["POST"])
def book(request: HttpRequest, account_id: int) -> HttpResponse:
    """Write a document of records; answers each key's encoded id."""
    found = _found(account_id)
    if found is None:
        return _bad("no such account", 404)
    doc = _body(request)
    if isinstance(doc, str):
        return _bad(doc)
    problem = _check_statuses(doc)
    if problem:
        return _bad(problem)
    try:
        with transaction.atomic(using=SANDBOX_DB):
            made, order = store.write_book(found, doc)
            if doc.get("notify", True):
                notify(found, [topic(row, "CREATE") for row in order])
    except (store.BadBook, KeyError, TypeError, ValueError) as error:
        return _bad(f"cannot write the book: {error}")
    return JsonResponse({"ids": {key: gid(row) for key, row in made.items()}}, status=201)


def _record(account: Account, kind: type, value: str):
    found = decode_id(value)
    if found is None or KINDS.get(found[0]) is not kind:
        return None
    return kind.objects.filter(account=account, pk=found[1]).first()


@csrf_exempt
@require_http_methods(["POST"])
def payments(request: HttpRequest, account_id: int) -> HttpResponse:
    """Record a payment on an invoice, as the contractor would in Jobber."""
    found = _found(account_id)
    body = _body(request)
    if found is None:
        return _bad("no such account", 404)
    if isinstance(body, str):
        return _bad(body)
    with transaction.atomic(using=SANDBOX_DB):
        invoice = _record(found, Invoice, str(body.get("invoice", "")))
        if invoice is None:
            return _bad("invoice must be the encoded id of one of this account's invoices")
        spec = {k: v for k, v in body.items() if k != "invoice"}
        try:
            payment = PaymentRecord.objects.create(
                account=found,
                client=invoice.client,
                invoice=invoice,
                created_at=timezone.now(),
                updated_at=timezone.now(),
                **store.payment_values(spec, timezone.now().date()),
            )
        except store.BadBook as error:
            return _bad(str(error))
        store.settle(invoice)
        notify(found, [topic(payment, "CREATE"), topic(invoice, "UPDATE")])
    return JsonResponse({"id": gid(payment), "invoice_status": invoice.invoice_status}, status=201)


INVOICE_EDITABLE = ("subject", "invoice_status", "invoice_number", "due_date")


@csrf_exempt
@require_http_methods(["PATCH"])
def invoice(request: HttpRequest, account_id: int, invoice_id: str) -> HttpResponse:
    """Edit an invoice's subject, status, number or due date (INVOICE_UPDATE)."""
    found = _found(account_id)
    body = _body(request)
    if found is None:
        return _bad("no such account", 404)
    if isinstance(body, str):
        return _bad(body)
    unknown = set(body) - set(INVOICE_EDITABLE)
    if unknown:
        return _bad(f"unknown fields: {sorted(unknown)}")
    problem = _check_statuses({"invoices": [body]})
    if problem:
        return _bad(problem)
    with transaction.atomic(using=SANDBOX_DB):
        row = _record(found, Invoice, invoice_id)
        if row is None:
            return _bad("no such invoice", 404)
        for key, value in body.items():
            setattr(row, key, store.date_value(value, key) if key == "due_date" else value)
        row.updated_at = timezone.now()
        row.save()
        notify(found, [topic(row, "UPDATE")])
    return JsonResponse({"id": gid(row), "invoice_status": row.invoice_status})


@csrf_exempt
@require_http_methods(["DELETE"])
def record(request: HttpRequest, account_id: int, record_id: str) -> HttpResponse:
    """Delete a record as the contractor would; Jobber then sends <OBJECT>_DESTROY."""
    found = _found(account_id)
    decoded = decode_id(record_id)
    if found is None or decoded is None or decoded[0] not in KINDS:
        return _bad("no such record", 404)
    with transaction.atomic(using=SANDBOX_DB):
        row = KINDS[decoded[0]].objects.filter(account=found, pk=decoded[1]).first()
        if row is None:
            return _bad("no such record", 404)
        event = topic(row, "DESTROY")
        row.delete()
        notify(found, [event])
    return HttpResponse(status=204)
