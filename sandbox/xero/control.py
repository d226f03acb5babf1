"""Sandbox-only control endpoints for Xero organisations (tests, benchmarks, the demo)."""

import json

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from sandbox.routers import SANDBOX_DB

from .models import Organisation
from .oauth import connect, issue
from .webhooks import intent_to_receive

EDITABLE = {"name": str, "webhook_url": str, "rate_limits": bool, "day_limit": int}
# What a control-made connection is granted: broad and granular families both (C2).
SCOPES = [
    "offline_access", "openid", "profile", "email", "accounting.transactions",
    "accounting.contacts", "accounting.settings", "accounting.invoices", "accounting.payments",
]  # fmt: skip


def _json(organisation: Organisation) -> dict:
    return {
        "tenant_id": organisation.tenant_id,
        "name": organisation.name,
        "webhook_url": organisation.webhook_url,
        "webhook_enabled": organisation.webhook_enabled,
        "rate_limits": organisation.rate_limits,
        "day_limit": organisation.day_limit,
    }


def _changes(request: HttpRequest) -> dict | str:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return "body is not JSON"
    if not isinstance(body, dict):
        return "body must be a JSON object"
    unknown = set(body) - set(EDITABLE) - {"connect"}
    if unknown:
        return f"unknown fields: {sorted(unknown)}"
    for key, kind in EDITABLE.items():
        if key in body and (
            not isinstance(body[key], kind) or isinstance(body[key], bool) != (kind is bool)
        ):
            return f"{key} must be {kind.__name__}"
    return body


@csrf_exempt
@require_http_methods(["POST"])
def organisations(request: HttpRequest) -> HttpResponse:
    """Make an organisation; unless `connect` is false, connect it and hand out tokens."""
    changes = _changes(request)
    if isinstance(changes, str):
        return JsonResponse({"error": changes}, status=400)
    connect_it = changes.pop("connect", True)
    if not str(changes.get("name", "")).strip():
        return JsonResponse({"error": "name is required"}, status=400)
    with transaction.atomic(using=SANDBOX_DB):
        organisation = Organisation.objects.create(**changes)
        body = _json(organisation)
        if connect_it:
            access, refresh = issue(settings.XERO_CLIENT_ID, SCOPES, organisation.tenant_id)
            connection = connect(organisation, settings.XERO_CLIENT_ID, access.auth_event_id)
            body |= {
                "access_token": access.token,
                "refresh_token": refresh.token,
                "connection_id": connection.connection_id,
                "scopes": SCOPES,
            }
    return JsonResponse(body, status=201)


def _found(tenant_id: str) -> Organisation | None:
    return Organisation.objects.filter(tenant_id=tenant_id).first()


@csrf_exempt
@require_http_methods(["GET", "PATCH"])
def organisation(request: HttpRequest, tenant_id: str) -> HttpResponse:
    found = _found(tenant_id)
    if found is None:
        return JsonResponse({"error": "no such organisation"}, status=404)
    if request.method == "PATCH":
        changes = _changes(request)
        if isinstance(changes, str) or "connect" in changes:
            return JsonResponse({"error": changes or "connect cannot change"}, status=400)
        for key, value in changes.items():
            setattr(found, key, value)
        if "webhook_url" in changes:
            found.webhook_enabled = False  # a new URL must pass intent-to-receive again
        found.save()
    return JsonResponse(_json(found))


@csrf_exempt
@require_http_methods(["POST"])
def intent(request: HttpRequest, tenant_id: str) -> HttpResponse:
    """Run Xero's intent-to-receive probes against the organisation's webhook URL."""
    found = _found(tenant_id)
    if found is None:
        return JsonResponse({"error": "no such organisation"}, status=404)
    if not found.webhook_url:
        return JsonResponse({"error": "set webhook_url first"}, status=400)
    return JsonResponse(intent_to_receive(found))
