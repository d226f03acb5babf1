"""Sandbox-only control endpoints for QuickBooks companies (tests, benchmarks, the demo)."""

import json
from datetime import date

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from sandbox.routers import SANDBOX_DB

from .models import Company
from .oauth import SCOPES, forget_checked_tokens, issue

EDITABLE = {"name": str, "webhook_url": str, "custom_txn_numbers": bool, "rate_limits": bool}
# Preferences a test sets as a person would in QuickBooks' settings; a date or null.
DATES = {"book_close_date"}


def _company_json(company: Company) -> dict:
    return {
        "realm_id": company.realm_id,
        "name": company.name,
        "webhook_url": company.webhook_url,
        "custom_txn_numbers": company.custom_txn_numbers,
        "rate_limits": company.rate_limits,
        "book_close_date": company.book_close_date.isoformat() if company.book_close_date else None,
    }


def _changes(request: HttpRequest) -> dict | str:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return "body is not JSON"
    if not isinstance(body, dict):
        return "body must be a JSON object"
    unknown = set(body) - set(EDITABLE) - DATES
    if unknown:
        return f"unknown fields: {sorted(unknown)}"
    for key in DATES & set(body):
        try:
            body[key] = date.fromisoformat(body[key]) if body[key] is not None else None
        except (TypeError, ValueError):
            return f"{key} must be a date (YYYY-MM-DD) or null"
    for key, kind in EDITABLE.items():
        if key in body and not isinstance(body[key], kind):
            return f"{key} must be {'true or false' if kind is bool else 'text'}"
    return body


@csrf_exempt
@require_http_methods(["POST"])
def companies(request: HttpRequest) -> HttpResponse:
    changes = _changes(request)
    if isinstance(changes, str):
        return JsonResponse({"error": changes}, status=400)
    if not str(changes.get("name", "")).strip():
        return JsonResponse({"error": "name is required"}, status=400)
    with transaction.atomic(using=SANDBOX_DB):
        company = Company.objects.create(**changes)
        access, refresh = issue(company, settings.QUICKBOOKS_CLIENT_ID, SCOPES[:1])
    body = _company_json(company) | {"access_token": access.token, "refresh_token": refresh.token}
    return JsonResponse(body, status=201)


@csrf_exempt
@require_http_methods(["GET", "PATCH"])
def company(request: HttpRequest, realm_id: str) -> HttpResponse:
    found = Company.objects.filter(realm_id=realm_id).first()
    if found is None:
        return JsonResponse({"error": "no such company"}, status=404)
    if request.method == "PATCH":
        changes = _changes(request)
        if isinstance(changes, str):
            return JsonResponse({"error": changes}, status=400)
        for key, value in changes.items():
            setattr(found, key, value)
        found.save()
        forget_checked_tokens()  # cached companies carry the old settings
    return JsonResponse(_company_json(found))
