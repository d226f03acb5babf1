"""Xero Accounting API endpoints: /sandbox/xero/api.xro/2.0/...

Every call needs a live Bearer token and an `xero-tenant-id` header naming an organisation
connected to the token's app: 401 otherwise, 403 AuthenticationUnsuccessful for a missing
or unreachable tenant (api-facts C2). Then the organisation's rate limits apply, and every
answer carries Xero's remaining-calls headers.

PUT creates, POST updates or creates; a batch of elements fails as a whole with a 400
unless `summarizeErrors=false`, when each element carries its own status (C8). Writes
with an `Idempotency-Key` replay the first answer for six minutes (C9).
"""

import hashlib
from collections.abc import Callable
from datetime import timedelta

from dateutil import parser as dateparser
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from sandbox.emulation import XERO, emulated, fault_plan
from sandbox.quickbooks import jsonio
from sandbox.routers import SANDBOX_DB

from . import ratelimit, webhooks
from .formats import Invalid, Missing, answer, not_found, problem, validation_error
from .models import AccessToken, Connection, IdempotencyRecord, Organisation
from .oauth import access_for
from .store import Store, chart, tax_rates

IDEMPOTENCY_WINDOW = timedelta(minutes=6)
MAX_KEY_LENGTH = 128
PLURAL = {
    "Contact": "Contacts",
    "Invoice": "Invoices",
    "CreditNote": "CreditNotes",
    "Payment": "Payments",
    "Item": "Items",
    "TrackingCategory": "TrackingCategories",
}


def tenant_of(request: HttpRequest, *args, **kwargs) -> str:
    return request.headers.get("xero-tenant-id", "")


class Rejected(Exception):
    """A write refused as a whole: roll everything back and answer `response`."""

    def __init__(self, response: HttpResponse) -> None:
        super().__init__(response.status_code)
        self.response = response


def _rate_limited(throttled: ratelimit.Throttled) -> HttpResponse:
    response = problem(429, "Too Many Requests", f"{throttled.problem} rate limit exceeded")
    response["X-Rate-Limit-Problem"] = throttled.problem
    if throttled.retry_after is not None:
        response["Retry-After"] = str(throttled.retry_after)
    for name, value in throttled.remaining.headers().items():
        response[name] = value
    return response


def api(view: Callable[..., HttpResponse]) -> Callable:
    """Check token and tenant, apply the organisation's rate limits, map errors."""

    @csrf_exempt
    @emulated(XERO, tenant_of)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        access = access_for(request)
        if isinstance(access, HttpResponse):
            return access
        tenant = tenant_of(request).strip().lower()
        reachable = Connection.objects.filter(
            client_id=access.client_id, organisation__tenant_id=tenant
        ).select_related("organisation")
        connection = reachable.first() if tenant else None
        if connection is None:
            return problem(403, "Forbidden", "AuthenticationUnsuccessful")
        org = connection.organisation
        try:
            with ratelimit.admitted(
                tenant, limited=org.rate_limits, day_limit=org.day_limit
            ) as remaining:
                try:
                    response = view(request, org, access, *args, **kwargs)
                except Invalid as error:
                    response = validation_error([{"ValidationErrors": [{"Message": str(error)}]}])
                except Missing:
                    response = not_found()
        except ratelimit.Throttled as throttled:
            return _rate_limited(throttled)
        for name, value in remaining.headers().items():
            response[name] = value
        return response

    return wrapper


def _elements(request: HttpRequest, plural: str) -> list[dict]:
    try:
        body = jsonio.loads(request.body or b"{}")
    except ValueError as error:
        raise Invalid(f"The request body is not valid JSON: {error}") from error
    if isinstance(body, dict) and plural in body:
        body = body[plural]
    if isinstance(body, dict):
        body = [body]  # a bare record (createPayment, PaymentDelete)
    if not isinstance(body, list) or not all(isinstance(e, dict) for e in body):
        raise Invalid(f"The request must hold a list of {plural}.")
    return body


def _fingerprint(request: HttpRequest, tenant: str) -> str:
    text = f"{request.method} {request.get_full_path()} {tenant} ".encode() + request.body
    return hashlib.sha256(text).hexdigest()


def _write(
    request: HttpRequest,
    org: Organisation,
    access: AccessToken,
    perform: Callable[[Store], HttpResponse],
) -> HttpResponse:
    """Run a write under the organisation's lock, with Idempotency-Key replay."""
    key = request.headers.get("Idempotency-Key", "")
    if len(key) > MAX_KEY_LENGTH:
        raise Invalid(f"Idempotency-Key must be at most {MAX_KEY_LENGTH} characters.")
    use_key = bool(key) and not fault_plan(XERO, org.tenant_id).ignore_requestid
    fingerprint = _fingerprint(request, org.tenant_id)
    with transaction.atomic(using=SANDBOX_DB):
        locked = Organisation.objects.select_for_update().get(pk=org.pk)
        if use_key:
            first = IdempotencyRecord.objects.filter(client_id=access.client_id, key=key).first()
            if first is not None and timezone.now() - first.created_at > IDEMPOTENCY_WINDOW:
                first.delete()  # out of the window: the key is new again
                first = None
            if first is not None:
                if first.fingerprint != fingerprint:
                    raise Invalid(f"Idempotency Key {key} is used with a different request.")
                return HttpResponse(
                    first.body, status=first.status, content_type="application/json"
                )
        store = Store(locked)
        try:
            with transaction.atomic(using=SANDBOX_DB):
                response = perform(store)
        except Rejected as rejected:
            response = rejected.response
            store.events.clear()
        except Invalid as error:
            response = validation_error([{"ValidationErrors": [{"Message": str(error)}]}])
            store.events.clear()
        if use_key:
            try:
                with transaction.atomic(using=SANDBOX_DB):
                    IdempotencyRecord.objects.create(
                        client_id=access.client_id,
                        key=key,
                        fingerprint=fingerprint,
                        status=response.status_code,
                        body=response.content.decode(),
                        created_at=timezone.now(),
                    )
            except IntegrityError:
                pass
        webhooks.notify(locked, store.events)
    return response


def _each(
    request: HttpRequest, plural: str, save: Callable[[dict], dict]
) -> Callable[[Store], HttpResponse]:
    """Save every element; one failure fails all unless summarizeErrors=false (C8)."""
    summarize = request.GET.get("summarizeErrors", "").lower() != "false"
    elements = _elements(request, plural)

    def perform(store: Store) -> HttpResponse:
        results, failed = [], False
        for element in elements:
            announced = len(store.events)
            try:
                with transaction.atomic(using=SANDBOX_DB):
                    saved = save(element)
                results.append({**saved, "StatusAttributeString": "OK"})
            except Invalid as error:
                del store.events[announced:]
                failed = True
                results.append(
                    {
                        **element,
                        "StatusAttributeString": "ERROR",
                        "HasErrors": True,
                        "ValidationErrors": [{"Message": str(error)}],
                    }
                )
        if failed and summarize:
            raise Rejected(validation_error(results))
        return answer({plural: results})

    return perform


def _since(request: HttpRequest):
    text = request.headers.get("If-Modified-Since", "").strip()
    if not text:
        return None
    try:
        moment = dateparser.parse(text)
    except (ValueError, OverflowError) as error:
        raise Invalid("If-Modified-Since is not a valid date.") from error
    return timezone.make_aware(moment, timezone.UTC) if timezone.is_naive(moment) else moment


def _list(request: HttpRequest, org: Organisation, kind: str) -> HttpResponse:
    records, pagination = Store(org).listing(kind, request.GET, _since(request))
    body = {PLURAL[kind]: records}
    if pagination:
        body = {"pagination": pagination, **body}
    return answer(body)


def _one(org: Organisation, kind: str, key: str) -> HttpResponse:
    return answer({PLURAL[kind]: [Store(org).get(kind, key).data]})


@require_http_methods(["GET", "PUT", "POST"])
@api
def contacts(request: HttpRequest, org: Organisation, access: AccessToken) -> HttpResponse:
    if request.method == "GET":
        return _list(request, org, "Contact")
    create_only = request.method == "PUT"
    return _write(
        request,
        org,
        access,
        lambda store: _each(
            request, "Contacts", lambda e: store.contact(e, create_only=create_only)
        )(store),
    )


@require_http_methods(["GET", "POST"])
@api
def contact(request: HttpRequest, org: Organisation, access: AccessToken, key: str) -> HttpResponse:
    if request.method == "GET":
        return _one(org, "Contact", key)

    def perform(store: Store) -> HttpResponse:
        if store.find("Contact", key) is None:
            raise Missing(key)
        return _each(request, "Contacts", lambda e: store.contact(e, create_only=False, key=key))(
            store
        )

    return _write(request, org, access, perform)


def _documents(kind: str) -> Callable:
    plural = PLURAL[kind]

    @require_http_methods(["GET", "PUT", "POST"])
    @api
    def many(request: HttpRequest, org: Organisation, access: AccessToken) -> HttpResponse:
        if request.method == "GET":
            return _list(request, org, kind)
        create_only = request.method == "PUT"
        return _write(
            request,
            org,
            access,
            lambda store: _each(
                request, plural, lambda e: store.document(kind, e, create_only=create_only)
            )(store),
        )

    @require_http_methods(["GET", "POST"])
    @api
    def one(request: HttpRequest, org: Organisation, access: AccessToken, key: str) -> HttpResponse:
        if request.method == "GET":
            return _one(org, kind, key)

        def perform(store: Store) -> HttpResponse:
            if store.find(kind, key) is None:
                raise Missing(key)
            return _each(
                request, plural, lambda e: store.document(kind, e, create_only=False, key=key)
            )(store)

        return _write(request, org, access, perform)

    return many, one


invoices, invoice = _documents("Invoice")
credit_notes, credit_note = _documents("CreditNote")


@require_http_methods(["PUT"])
@api
def allocations(
    request: HttpRequest, org: Organisation, access: AccessToken, key: str
) -> HttpResponse:
    return _write_under(request, org, access, ("CreditNote", key), "Allocations", "allocate")


def _write_under(
    request: HttpRequest,
    org: Organisation,
    access: AccessToken,
    owner: tuple[str, str],
    plural: str,
    method: str,
) -> HttpResponse:
    """A write of `plural` elements under one record (`owner`: its kind and key), each
    saved by the store's `method` with the key: 404 when there is no such record."""
    kind, key = owner

    def perform(store: Store) -> HttpResponse:
        if store.find(kind, key) is None:
            raise Missing(key)
        save = getattr(store, method)
        return _each(request, plural, lambda e: save(key, e))(store)

    return _write(request, org, access, perform)


@require_http_methods(["POST"])
@api
def tracking_option(
    request: HttpRequest, org: Organisation, access: AccessToken, key: str, option_id: str
) -> HttpResponse:
    """Update one option (xero-python's update_tracking_options sends it bare)."""

    def perform(store: Store) -> HttpResponse:
        elements = _elements(request, "Options")
        if len(elements) != 1:
            raise Invalid("Send the one option to update.")
        return answer({"Options": [store.update_tracking_option(key, option_id, elements[0])]})

    return _write(request, org, access, perform)


@require_http_methods(["GET", "PUT", "POST"])
@api
def payments(request: HttpRequest, org: Organisation, access: AccessToken) -> HttpResponse:
    if request.method == "GET":
        return _list(request, org, "Payment")
    return _write(
        request, org, access, lambda store: _each(request, "Payments", store.payment)(store)
    )


@require_http_methods(["GET", "POST"])
@api
def payment(request: HttpRequest, org: Organisation, access: AccessToken, key: str) -> HttpResponse:
    if request.method == "GET":
        return _one(org, "Payment", key)

    def perform(store: Store) -> HttpResponse:
        wanted = _elements(request, "Payments")
        if not wanted or str(wanted[0].get("Status", "")).upper() != "DELETED":
            raise Invalid("A payment can only be changed to Status DELETED.")
        return answer({"Payments": [store.delete_payment(key)]})

    return _write(request, org, access, perform)


@require_http_methods(["GET", "PUT", "POST"])
@api
def items(request: HttpRequest, org: Organisation, access: AccessToken) -> HttpResponse:
    if request.method == "GET":
        records, _ = Store(org).listing(
            "Item", {"where": request.GET.get("where", "")}, _since(request)
        )
        return answer({"Items": records})  # Items are never paged (C6)
    create_only = request.method == "PUT"
    return _write(
        request,
        org,
        access,
        lambda store: _each(request, "Items", lambda e: store.item(e, create_only=create_only))(
            store
        ),
    )


@require_http_methods(["GET", "POST", "DELETE"])
@api
def item(request: HttpRequest, org: Organisation, access: AccessToken, key: str) -> HttpResponse:
    if request.method == "GET":
        return _one(org, "Item", key)
    if request.method == "DELETE":

        def remove(store: Store) -> HttpResponse:
            store.delete_item(key)
            return HttpResponse(status=204)

        return _write(request, org, access, remove)

    def perform(store: Store) -> HttpResponse:
        if store.find("Item", key) is None:
            raise Missing(key)
        return _each(request, "Items", lambda e: store.item(e, create_only=False, key=key))(store)

    return _write(request, org, access, perform)


@require_http_methods(["GET"])
@api
def organisation(request: HttpRequest, org: Organisation, access: AccessToken) -> HttpResponse:
    body = {
        "OrganisationID": org.tenant_id,
        "Name": org.name,
        "LegalName": org.name,
        "BaseCurrency": "USD",
        "CountryCode": "US",
        "OrganisationType": "COMPANY",
        "OrganisationStatus": "ACTIVE",
        "IsDemoCompany": False,
    }
    return answer({"Organisations": [body]})


@require_http_methods(["GET"])
@api
def accounts(request: HttpRequest, org: Organisation, access: AccessToken) -> HttpResponse:
    return answer({"Accounts": chart()})


@require_http_methods(["GET"])
@api
def tax_rate_list(request: HttpRequest, org: Organisation, access: AccessToken) -> HttpResponse:
    return answer({"TaxRates": tax_rates()})


@require_http_methods(["GET", "PUT"])
@api
def tracking_categories(
    request: HttpRequest, org: Organisation, access: AccessToken
) -> HttpResponse:
    """GET lists the active categories with their options (with `includeArchived=true`,
    archived ones too); PUT creates one."""
    if request.method == "GET":
        records, _ = Store(org).listing(
            "TrackingCategory", {"where": request.GET.get("where", "")}, None
        )
        if request.GET.get("includeArchived", "").lower() != "true":
            records = [
                {**r, "Options": [o for o in r["Options"] if o["Status"] == "ACTIVE"]}
                for r in records
                if r["Status"] == "ACTIVE"
            ]
        return answer({"TrackingCategories": records})
    return _write(
        request,
        org,
        access,
        lambda store: _each(request, "TrackingCategories", store.tracking_category)(store),
    )


@require_http_methods(["PUT"])
@api
def tracking_options(
    request: HttpRequest, org: Organisation, access: AccessToken, key: str
) -> HttpResponse:
    owner = ("TrackingCategory", key)
    return _write_under(request, org, access, owner, "Options", "tracking_option")
