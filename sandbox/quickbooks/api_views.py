"""QuickBooks Online Accounting API v3 endpoints: /sandbox/quickbooks/v3/company/<realm>/...

`minorversion` is accepted with any value: QBO treats a missing value or one below 75 as
75 (api-facts A14), and the emulator answers every request in the 75 shape, so nothing
further reads it.
"""

from collections.abc import Callable
from datetime import timedelta

from dateutil import parser as dateparser
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sandbox.emulation import QUICKBOOKS, emulated, fault_plan
from sandbox.routers import SANDBOX_DB

from . import faults, jsonio, preferences, querying, ratelimit, webhooks
from .entities import ENTITIES
from .models import Company, Entity, RequestIdRecord
from .oauth import company_for_token
from .store import Store, render

MAX_BATCH_ITEMS = 30
CDC_LOOKBACK = timedelta(days=30)
CDC_MAX_OBJECTS = 1000


def realm_of(request: HttpRequest, *args, realm_id: str = "", **kwargs) -> str:
    return realm_id


def answer(body: dict, status: int = 200) -> HttpResponse:
    return HttpResponse(
        jsonio.dumps({**body, "time": faults.qbo_time()}),
        status=status,
        content_type="application/json",
    )


def fault_answer(fault: faults.QboFault) -> HttpResponse:
    return answer({"Fault": fault.fault()}, status=fault.status)


def api(*, batch: bool = False) -> Callable[[Callable[..., HttpResponse]], Callable]:
    """Authenticate the Bearer token for the realm, apply QBO's limits, map faults."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable:
        @csrf_exempt
        @emulated(QUICKBOOKS, realm_of)
        def wrapper(request: HttpRequest, realm_id: str, *args, **kwargs) -> HttpResponse:
            company = company_for_token(request)
            if company is None:
                return faults.unauthorised()
            if company.realm_id != realm_id:
                # A live token for another company: Intuit's gateway answers 403.
                return faults.forbidden_realm()
            cost = _batch_size(request) if batch else 1
            try:
                with ratelimit.admitted(
                    realm_id, limited=company.rate_limits, batch=batch, cost=cost
                ):
                    return view(request, company, *args, **kwargs)
            except ratelimit.Throttled:
                return fault_answer(faults.throttled())
            except faults.QboFault as fault:
                return fault_answer(fault)

        return wrapper

    return decorator


def _batch_size(request: HttpRequest) -> int:
    """How many calls a batch is metered as: one per item (at least one)."""
    try:
        items = jsonio.loads(request.body or b"{}").get("BatchItemRequest")
    except (ValueError, AttributeError):
        return 1
    return max(1, len(items)) if isinstance(items, list) else 1


def _entity_name(name: str) -> str:
    if name not in ENTITIES:
        raise faults.QboFault(
            "500", "Unsupported Operation", f"Entity {name} is not supported here"
        )
    return ENTITIES[name]


def _body(request: HttpRequest) -> dict:
    try:
        body = jsonio.loads(request.body or b"{}")
    except ValueError as error:
        raise faults.QboFault(
            "2000", "Request has invalid or unsupported property", f"Invalid JSON: {error}"
        ) from error
    if not isinstance(body, dict):
        raise faults.QboFault(
            "2000", "Request has invalid or unsupported property", "Expected an object"
        )
    return body


def _write(request: HttpRequest, company: Company, perform) -> HttpResponse:
    """Run a write with `requestid` semantics: a repeated id replays the first answer."""
    request_id = request.GET.get("requestid", "")[:60]
    use_request_id = (
        bool(request_id) and not fault_plan(QUICKBOOKS, company.realm_id).ignore_requestid
    )
    with transaction.atomic(using=SANDBOX_DB):
        locked = Company.objects.select_for_update().get(pk=company.pk)
        if use_request_id:
            first = RequestIdRecord.objects.filter(company=locked, request_id=request_id).first()
            if first is not None:
                return HttpResponse(
                    first.body, status=first.status, content_type="application/json"
                )
        store = Store(
            locked,
            allow_duplicate_doc_number="allowduplicatedocnum" in request.GET.get("include", ""),
        )
        try:
            with transaction.atomic(using=SANDBOX_DB):
                response = answer(perform(store))
        except faults.QboFault as fault:
            response = fault_answer(fault)
            store.events.clear()
        if use_request_id:
            try:
                with transaction.atomic(using=SANDBOX_DB):
                    RequestIdRecord.objects.create(
                        company=locked,
                        request_id=request_id,
                        status=response.status_code,
                        body=response.content.decode(),
                    )
            except IntegrityError:
                pass
        webhooks.notify(locked, store.events)
    return response


@require_POST
@api()
def entity_write(request: HttpRequest, company: Company, entity: str) -> HttpResponse:
    name = _entity_name(entity)
    body = _body(request)
    operation = request.GET.get("operation", "")
    include = request.GET.get("include", "")

    def perform(store: Store) -> dict:
        if operation == "delete":
            return {name: render(store.delete(name, body))}
        if operation == "void" or (operation == "update" and "void" in include):
            return {name: render(store.void(name, body))}
        if body.get("Id"):
            return {name: render(store.update(name, body))}
        return {name: render(store.create(name, body))}

    return _write(request, company, perform)


@require_GET
@api()
def entity_read(
    request: HttpRequest, company: Company, entity: str, entity_id: str
) -> HttpResponse:
    name = _entity_name(entity)
    return answer({name: render(Store(company).get(name, entity_id))})


@require_GET
@api()
def company_info(request: HttpRequest, company: Company, company_id: str) -> HttpResponse:
    info = {
        "Id": company.realm_id,
        "SyncToken": "0",
        "CompanyName": company.name,
        "LegalName": company.name,
        "Country": "US",
        "domain": "QBO",
        "sparse": False,
    }
    return answer({"CompanyInfo": info})


@require_GET
@api()
def preferences_read(request: HttpRequest, company: Company) -> HttpResponse:
    return answer({"Preferences": preferences.preferences(company)})


@require_http_methods(["GET", "POST"])
@api()
def query(request: HttpRequest, company: Company) -> HttpResponse:
    text = (
        request.GET.get("query")
        if request.method == "GET"
        else request.body.decode("utf-8", "replace")
    )
    return answer(querying.run(Store(company), text or ""))


@require_GET
@api()
def cdc(request: HttpRequest, company: Company) -> HttpResponse:
    names = [n.strip() for n in request.GET.get("entities", "").split(",") if n.strip()]
    try:
        since = dateparser.isoparse(request.GET.get("changedSince", ""))
    except ValueError as error:
        raise faults.QboFault(
            "2010", "Invalid changedSince", "changedSince must be an ISO date or time"
        ) from error
    if timezone.is_naive(since):
        since = timezone.make_aware(since)
    if since < timezone.now() - CDC_LOOKBACK:
        raise faults.QboFault(
            "10001", "Invalid query", "changedSince must be within the last 30 days"
        )
    known = {v: v for v in ENTITIES.values()}
    responses, remaining = [], CDC_MAX_OBJECTS
    for name in names:
        if name not in known:
            raise faults.QboFault("10001", "Invalid query", f"CDC is not supported for {name}")
        rows = list(
            Entity.objects.filter(
                company=company, entity_type=name, last_updated__gt=since
            ).order_by("last_updated")[:remaining]
        )
        remaining -= len(rows)
        if rows:
            responses.append(
                {
                    name: [render(r) for r in rows],
                    "startPosition": 1,
                    "maxResults": len(rows),
                    "totalCount": len(rows),
                }
            )
        else:
            responses.append({})
    return answer({"CDCResponse": [{"QueryResponse": responses}]})


@require_POST
@api(batch=True)
def batch(request: HttpRequest, company: Company) -> HttpResponse:
    items = _body(request).get("BatchItemRequest") or []
    if len(items) > MAX_BATCH_ITEMS:
        raise faults.QboFault(
            "1040", "Batch size exceeds allowed limit", f"Maximum {MAX_BATCH_ITEMS} items per batch"
        )

    def perform(store: Store) -> dict:
        return {"BatchItemResponse": [_batch_item(store, item) for item in items]}

    return _write(request, company, perform)


def _batch_item(store: Store, item: dict) -> dict:
    bid = item.get("bId", "")
    announced = len(store.events)
    try:
        if "Query" in item:
            return {"bId": bid, **querying.run(store, item["Query"])}
        operation = item.get("operation", "create")
        name = next((k for k in item if k in ENTITIES.values()), None)
        if name is None:
            raise faults.QboFault(
                "2000", "Request has invalid or unsupported property", "no entity in batch item"
            )
        body = item[name]
        with transaction.atomic(using=SANDBOX_DB):
            if operation == "create":
                row = store.create(name, body)
            elif operation == "delete":
                row = store.delete(name, body)
            elif operation == "update" and item.get("optionsData") == "void":
                row = store.void(name, body)
            elif operation == "update":
                row = store.update(name, body)
            else:
                raise faults.QboFault("2000", "Unsupported Operation", f"operation {operation}")
        return {"bId": bid, name: render(row)}
    except faults.QboFault as fault:
        del store.events[announced:]  # the item rolled back: nothing of it may be announced
        return {"bId": bid, "Fault": fault.fault()}
