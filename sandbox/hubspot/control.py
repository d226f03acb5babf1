"""Sandbox-only control API: make portals with tokens and tune them for tests and benches."""

import json

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from sandbox.routers import SANDBOX_DB

from . import ratelimit
from .api import forget_known_tokens
from .models import Portal
from .oauth import issue_tokens

DEFAULT_SCOPES = ["oauth", "crm.objects.contacts.read", "crm.objects.contacts.write",
                  "crm.objects.companies.read", "crm.objects.companies.write",
                  "crm.objects.deals.read", "crm.objects.deals.write",
                  "crm.objects.line_items.read", "crm.objects.line_items.write",
                  "crm.schemas.deals.read", "e-commerce"]  # fmt: skip


def _body(request: HttpRequest) -> dict | None:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _portal_json(portal: Portal) -> dict:
    return {"portal_id": portal.pk, "name": portal.name, "webhook_url": portal.webhook_url,
            "rate_limits": portal.rate_limits}  # fmt: skip


@csrf_exempt
@require_http_methods(["POST"])
def portals(request: HttpRequest) -> HttpResponse:
    body = _body(request)
    if body is None or not str(body.get("name") or "").strip():
        return JsonResponse({"error": "name is required"}, status=400)
    with transaction.atomic(using=SANDBOX_DB):
        portal = Portal.objects.create(
            name=str(body["name"]).strip(), webhook_url=body.get("webhook_url") or ""
        )
        access, refresh = issue_tokens(portal, settings.HUBSPOT_CLIENT_ID, DEFAULT_SCOPES)
    return JsonResponse(
        _portal_json(portal) | {"access_token": access, "refresh_token": refresh}, status=201
    )


@csrf_exempt
@require_http_methods(["PATCH", "GET"])
def portal(request: HttpRequest, portal_id: int) -> HttpResponse:
    found = Portal.objects.filter(pk=portal_id).first()
    if found is None:
        return JsonResponse({"error": "no such portal"}, status=404)
    if request.method == "PATCH":
        body = _body(request)
        if body is None:
            return JsonResponse({"error": "JSON object expected"}, status=400)
        if "name" in body:
            found.name = str(body["name"])
        if "webhook_url" in body:
            found.webhook_url = body["webhook_url"] or ""
        if "rate_limits" in body:
            found.rate_limits = bool(body["rate_limits"])
            ratelimit.reset(str(found.pk))
        found.save()
        forget_known_tokens()  # cached tokens carry the portal's old settings
    return JsonResponse(_portal_json(found))
