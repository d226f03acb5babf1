"""The sandbox control API: fault plans, the request log, and a full reset.

Tests, benchmarks and the demo use it; it exists only when SANDBOX is on.
"""

import json

from django.apps import apps
from django.db import connections, transaction
from django.db.models import Model
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from . import emulation
from .models import FaultConfig
from .routers import SANDBOX_DB, is_sandbox_app

RATE_FIELDS = (
    "error_rate",
    "drop_rate",
    "drop_after_commit_rate",
    "webhook_loss_rate",
    "webhook_duplicate_rate",
)
BOOL_FIELDS = ("throttle", "ignore_requestid")
INT_FIELDS = ("seed", "latency_ms")


class BadRequest(ValueError):
    pass


def _json(request: HttpRequest) -> dict:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError as error:
        raise BadRequest(f"body is not JSON: {error}") from error
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object")
    return body


def _target(data) -> tuple[str, str]:
    system, account = str(data.get("system", "")), str(data.get("account", "")).strip()
    if system not in emulation.SYSTEMS:
        raise BadRequest(f"system must be one of {list(emulation.SYSTEMS)}, not {system!r}")
    if not account:
        raise BadRequest("account (realm, portal, tenant or Jobber account id) is required")
    return system, account


def _plan_values(body: dict) -> dict:
    unknown = set(body) - {"system", "account", *emulation.PLAN_FIELDS}
    if unknown:
        raise BadRequest(f"unknown fields: {sorted(unknown)}")
    values = {}
    for name in RATE_FIELDS:
        if name in body:
            value = body[name]
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                raise BadRequest(f"{name} must be a number from 0 to 1")
            values[name] = float(value)
    for name in BOOL_FIELDS:
        if name in body:
            if not isinstance(body[name], bool):
                raise BadRequest(f"{name} must be true or false")
            values[name] = body[name]
    for name in INT_FIELDS:
        if name in body:
            value = body[name]
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise BadRequest(f"{name} must be a whole number, 0 or more")
            values[name] = value
    return values


def _plan_json(system: str, account: str) -> dict:
    emulation.forget_plan(system, account)
    return {"system": system, "account": account, **emulation.fault_plan(system, account).as_dict()}


@csrf_exempt
@require_http_methods(["GET", "PUT", "DELETE"])
def faults(request: HttpRequest) -> HttpResponse:
    try:
        if request.method == "GET":
            system, account = _target(request.GET)
            return JsonResponse(_plan_json(system, account))
        # DELETE takes its target from the query string or, like PUT, from a JSON body.
        body = _json(request) if request.method == "PUT" or request.body else {}
        system, account = _target(body or request.GET)
        if request.method == "DELETE":
            FaultConfig.objects.filter(system=system, account=account).delete()
        else:
            values = _plan_values(body)
            # PUT replaces the whole plan: fields left out go back to "no fault".
            defaults = {**emulation.NO_FAULTS.as_dict(), **values}
            FaultConfig.objects.update_or_create(system=system, account=account, defaults=defaults)
    except BadRequest as error:
        return JsonResponse({"error": str(error)}, status=400)
    return JsonResponse(_plan_json(system, account))


@csrf_exempt
@require_http_methods(["GET", "DELETE"])
def requests_log(request: HttpRequest) -> HttpResponse:
    """The calls counted so far (GET), or the same answer while clearing them (DELETE)."""
    rows = emulation.request_log(
        request.GET.get("system") or None,
        request.GET.get("account") or None,
        clear=request.method == "DELETE",
    )
    return JsonResponse({"requests": rows, "total": sum(row["count"] for row in rows)})


def sandbox_models() -> list[type[Model]]:
    """Every model with a table of its own in the sandbox apps, many-to-many tables included.

    Found through the app registry, so the emulators' models (written separately) need no
    list here; a model whose migration has not run yet is skipped rather than failing.
    """
    tables = set(connections[SANDBOX_DB].introspection.table_names())
    return [
        model
        for model in apps.get_models(include_auto_created=True)
        if is_sandbox_app(model._meta.app_label)
        and model._meta.managed
        and not model._meta.proxy
        and model._meta.db_table in tables
    ]


@csrf_exempt
@require_http_methods(["POST"])
def reset(request: HttpRequest) -> HttpResponse:
    """Forget every company, portal, token, record, fault plan and logged request."""
    deleted = 0
    # One transaction: foreign keys are checked at commit, so the order of the deletes
    # does not matter, and a failure leaves the sandbox as it was.
    with transaction.atomic(using=SANDBOX_DB):
        for model in sandbox_models():
            deleted += model.objects.using(SANDBOX_DB).all()._raw_delete(SANDBOX_DB)
    emulation.reset()
    return JsonResponse({"status": "reset", "rows_deleted": deleted})
