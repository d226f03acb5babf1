"""HubSpot OAuth 2.0: the authorize page, the v1 token endpoint and token metadata."""

import secrets
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from sandbox.emulation import HUBSPOT, emulated
from sandbox.routers import SANDBOX_DB

from .api import forget_known_tokens
from .models import AccessToken, AuthorizationCode, Portal, RefreshToken

ACCESS_TOKEN_LIFETIME = timedelta(minutes=30)
CODE_LIFETIME = timedelta(minutes=5)


def no_account(request: HttpRequest, **kwargs: Any) -> None:
    return None


def token_account(request: HttpRequest, token: str = "", **kwargs: Any) -> str | None:
    found = AccessToken.objects.filter(token=token).select_related("refresh_token").first()
    if found:
        return str(found.refresh_token.portal_id)
    refresh = RefreshToken.objects.filter(token=token).first()
    return str(refresh.portal_id) if refresh else None


def issue_tokens(portal: Portal, client_id: str, scopes: list[str]) -> tuple[str, str]:
    """A fresh refresh token and a 30-minute access token for the portal."""
    refresh = RefreshToken.objects.create(
        token=str(uuid.uuid4()), portal=portal, client_id=client_id, scopes=scopes
    )
    access = new_access_token(refresh)
    return access.token, refresh.token


def new_access_token(refresh: RefreshToken) -> AccessToken:
    return AccessToken.objects.create(
        token="CKsbx" + secrets.token_urlsafe(48),
        refresh_token=refresh,
        expires_at=timezone.now() + ACCESS_TOKEN_LIFETIME,
    )


def _with_query(url: str, params: dict[str, str]) -> str:
    return url + ("&" if "?" in url else "?") + urlencode(params)


@require_http_methods(["GET", "POST"])
@emulated(HUBSPOT, no_account)
def authorize(request: HttpRequest) -> HttpResponse:
    """The consent page that app.hubspot.com shows; picks or creates a sandbox portal."""
    params = request.POST if request.method == "POST" else request.GET
    client_id = params.get("client_id", "")
    redirect_uri = params.get("redirect_uri", "")
    scopes = [s for s in (params.get("scope", "") + " " + params.get("optional_scope", "")).split()]
    state = params.get("state", "")
    context = {
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": params.get("scope", ""),
        "optional_scope": params.get("optional_scope", ""),
        "state": state,
        "scopes": scopes,
        "portals": Portal.objects.order_by("pk"),
    }
    if client_id != settings.HUBSPOT_CLIENT_ID or not redirect_uri.startswith(
        ("http://", "https://")
    ):
        context |= {
            "error": "This app's client_id or redirect_uri is not valid.",
            "invalid_app": True,
        }
        return render(request, "sandbox_hubspot/authorize.html", context, status=400)
    if request.method == "GET":
        return render(request, "sandbox_hubspot/authorize.html", context)

    if params.get("decision") != "approve":
        return HttpResponseRedirect(
            _with_query(redirect_uri, {"error": "access_denied",
                                       "error_description": "The user denied access.",
                                       "state": state})
        )  # fmt: skip
    with transaction.atomic(using=SANDBOX_DB):
        name = params.get("new_portal_name", "").strip()
        if name:
            portal = Portal.objects.create(name=name)
        else:
            portal = Portal.objects.filter(pk=params.get("portal_id") or 0).first()
            if portal is None:
                context["error"] = "Pick a portal or name a new one."
                return render(request, "sandbox_hubspot/authorize.html", context, status=400)
        code = AuthorizationCode.objects.create(
            code=str(uuid.uuid4()),
            portal=portal,
            client_id=client_id,
            redirect_uri=redirect_uri,
            scopes=scopes,
            expires_at=timezone.now() + CODE_LIFETIME,
        )
    return HttpResponseRedirect(_with_query(redirect_uri, {"code": code.code, "state": state}))


def oauth_error(status: str, message: str, code: int = 400) -> JsonResponse:
    return JsonResponse(
        {"status": status, "message": message, "correlationId": str(uuid.uuid4())}, status=code
    )


def _token_body(access: AccessToken, refresh: RefreshToken) -> dict:
    return {
        "token_type": "bearer",
        "access_token": access.token,
        "refresh_token": refresh.token,
        "expires_in": int(ACCESS_TOKEN_LIFETIME.total_seconds()),
    }


@csrf_exempt
@require_http_methods(["POST"])
@emulated(HUBSPOT, no_account)
def token(request: HttpRequest) -> HttpResponse:
    form = request.POST
    if form.get("client_id") != settings.HUBSPOT_CLIENT_ID:
        return oauth_error("BAD_CLIENT_ID", "missing or invalid client_id")
    if form.get("client_secret") != settings.HUBSPOT_CLIENT_SECRET:
        return oauth_error("BAD_CLIENT_SECRET", "missing or invalid client_secret")
    grant = form.get("grant_type")
    with transaction.atomic(using=SANDBOX_DB):
        if grant == "authorization_code":
            code = (
                AuthorizationCode.objects.select_for_update()
                .filter(code=form.get("code", ""), client_id=form["client_id"])
                .first()
            )
            if code is None or code.used or code.expires_at <= timezone.now():
                return oauth_error("BAD_AUTH_CODE", "missing or unknown auth code")
            if form.get("redirect_uri") != code.redirect_uri:
                return oauth_error("BAD_REDIRECT_URI", "redirect_uri does not match")
            code.used = True
            code.save(update_fields=["used"])
            refresh = RefreshToken.objects.create(
                token=str(uuid.uuid4()), portal=code.portal, client_id=code.client_id,
                scopes=code.scopes,
            )  # fmt: skip
        elif grant == "refresh_token":
            refresh = RefreshToken.objects.filter(
                token=form.get("refresh_token", ""), client_id=form["client_id"]
            ).first()
            if refresh is None:
                return oauth_error("BAD_REFRESH_TOKEN", "missing or unknown refresh token")
        else:
            return oauth_error("BAD_GRANT_TYPE", "grant_type must be authorization_code or "
                               "refresh_token")  # fmt: skip
        access = new_access_token(refresh)
    return JsonResponse(_token_body(access, refresh))


def _info(refresh: RefreshToken) -> dict:
    return {
        "hub_id": refresh.portal_id,
        "hub_domain": f"portal-{refresh.portal_id}.sandbox.hubspot.local",
        "user": refresh.user,
        "user_id": 1,
        "scopes": refresh.scopes,
        "token_type": "access",
    }


@require_http_methods(["GET"])
@emulated(HUBSPOT, token_account)
def access_token_info(request: HttpRequest, token: str) -> HttpResponse:
    found = AccessToken.objects.filter(token=token).select_related("refresh_token").first()
    if found is None or found.expires_at <= timezone.now():
        return oauth_error("EXPIRED_AUTHENTICATION" if found else "NOT_FOUND",
                           "The access token is expired or invalid", 404)  # fmt: skip
    remaining = int((found.expires_at - timezone.now()).total_seconds())
    body = _info(found.refresh_token) | {
        "token": found.token,
        "app_id": int(settings.HUBSPOT_APP_ID) if str(settings.HUBSPOT_APP_ID).isdigit() else 0,
        "expires_in": remaining,
    }
    return JsonResponse(body)


@csrf_exempt
@require_http_methods(["GET", "DELETE"])
@emulated(HUBSPOT, token_account)
def refresh_token_info(request: HttpRequest, token: str) -> HttpResponse:
    found = RefreshToken.objects.filter(token=token).first()
    if found is None:
        return oauth_error("NOT_FOUND", "refresh token not found", 404)
    if request.method == "DELETE":
        found.delete()
        forget_known_tokens()
        return HttpResponse(status=204)
    return JsonResponse(_info(found) | {"token": found.token, "client_id": found.client_id,
                                        "token_type": "refresh"})  # fmt: skip
