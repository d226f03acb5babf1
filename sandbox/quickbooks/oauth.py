"""Intuit OAuth 2.0: discovery document, consent page, token and revoke endpoints.

Access tokens live an hour; a refresh rotates the refresh token (the old one stops working
at once), as Intuit does. No id_token is issued, so intuit-oauth has nothing to verify.
"""

import json
import secrets
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sandbox.emulation import QUICKBOOKS, RESET_HOOKS, emulated
from sandbox.oauth_grants import client_credentials, live_refresh_token, oauth_error, redeem_code
from sandbox.routers import SANDBOX_DB

from .models import AccessToken, AuthorizationCode, Company, RefreshToken
from .store import open_company

ACCESS_LIFETIME = timedelta(hours=1)
REFRESH_LIFETIME = timedelta(seconds=8_726_400)  # what Intuit reports: 101 days
CODE_LIFETIME = timedelta(minutes=10)
SCOPES = [
    "com.intuit.quickbooks.accounting",
    "com.intuit.quickbooks.payment",
    "openid",
    "profile",
    "email",
    "phone",
    "address",
]


def no_account(request: HttpRequest, *args, **kwargs) -> None:
    return None


def _base(request: HttpRequest) -> str:
    return request.build_absolute_uri("/sandbox/intuit")


@require_GET
@emulated(QUICKBOOKS, no_account)
def discovery(request: HttpRequest) -> JsonResponse:
    base = _base(request)
    return JsonResponse(
        {
            "issuer": f"{base}/op/v1",
            "authorization_endpoint": f"{base}/oauth2/authorize",
            "token_endpoint": f"{base}/oauth2/tokens/bearer",
            "userinfo_endpoint": f"{base}/openid_connect/userinfo",
            "revocation_endpoint": f"{base}/oauth2/tokens/revoke",
            "jwks_uri": f"{base}/op/v1/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": SCOPES,
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "claims_supported": ["aud", "exp", "iat", "iss", "realmid", "sub"],
        }
    )


@require_GET
@emulated(QUICKBOOKS, no_account)
def jwks(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"keys": []})


@require_GET
@emulated(QUICKBOOKS, no_account)
def userinfo(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        {"sub": "sandbox-user", "email": "owner@sandbox.test", "emailVerified": True}
    )


def _with_query(url: str, params: dict[str, str]) -> str:
    return url + ("&" if "?" in url else "?") + urlencode(params)


def issue(company: Company, client_id: str, scopes: list[str]) -> tuple[AccessToken, RefreshToken]:
    refresh = RefreshToken.objects.create(
        token="AB11" + secrets.token_urlsafe(36),
        company=company,
        client_id=client_id,
        scopes=scopes,
        expires_at=timezone.now() + REFRESH_LIFETIME,
    )
    access = AccessToken.objects.create(
        token="eyJ" + secrets.token_urlsafe(64),
        refresh_token=refresh,
        company=company,
        expires_at=timezone.now() + ACCESS_LIFETIME,
    )
    return access, refresh


@require_http_methods(["GET", "POST"])
@emulated(QUICKBOOKS, no_account)
def authorize(request: HttpRequest) -> HttpResponse:
    """Intuit's consent page: pick or create a sandbox company, then approve or deny."""
    params = request.POST if request.method == "POST" else request.GET
    client_id, redirect_uri = params.get("client_id", ""), params.get("redirect_uri", "")
    state, scope = params.get("state", ""), params.get("scope", "")
    context = {
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "state": state,
        "scope": scope,
        "scopes": scope.split(),
        "companies": Company.objects.order_by("pk"),
        "response_type": params.get("response_type", "code"),
    }
    if client_id != settings.QUICKBOOKS_CLIENT_ID or not redirect_uri.startswith(
        ("http://", "https://")
    ):
        # No consent form for an app Intuit does not know: nothing here may be approved.
        error = "This app is not registered with Intuit (unknown client_id or redirect_uri)."
        return render(request, "sandbox_quickbooks/authorize.html", {"error": error}, status=400)
    if request.method == "GET":
        return render(request, "sandbox_quickbooks/authorize.html", context)
    if params.get("decision") != "approve":
        return HttpResponseRedirect(
            _with_query(redirect_uri, {"error": "access_denied", "state": state})
        )
    with transaction.atomic(using=SANDBOX_DB):
        new_name = params.get("new_company_name", "").strip()
        if new_name:
            company = open_company(name=new_name)
        else:
            company = Company.objects.filter(realm_id=params.get("realm_id", "")).first()
            if company is None:
                context["error"] = "Choose a company or name a new one."
                return render(request, "sandbox_quickbooks/authorize.html", context, status=400)
        code = AuthorizationCode.objects.create(
            code="AB" + secrets.token_urlsafe(32),
            company=company,
            client_id=client_id,
            redirect_uri=redirect_uri,
            scopes=scope.split(),
            expires_at=timezone.now() + CODE_LIFETIME,
        )
    return HttpResponseRedirect(
        _with_query(redirect_uri, {"code": code.code, "state": state, "realmId": company.realm_id})
    )


def _token_body(access: AccessToken, refresh: RefreshToken) -> dict:
    return {
        "token_type": "bearer",
        "access_token": access.token,
        "expires_in": int(ACCESS_LIFETIME.total_seconds()),
        "refresh_token": refresh.token,
        "x_refresh_token_expires_in": round((refresh.expires_at - timezone.now()).total_seconds()),
    }


def _token_account(request: HttpRequest, *args, **kwargs) -> str | None:
    if request.POST.get("grant_type") == "refresh_token":
        found = (
            RefreshToken.objects.filter(token=request.POST.get("refresh_token", ""))
            .select_related("company")
            .first()
        )
        return found.company.realm_id if found else None
    found = (
        AuthorizationCode.objects.filter(code=request.POST.get("code", ""))
        .select_related("company")
        .first()
    )
    return found.company.realm_id if found else None


@csrf_exempt
@require_POST
@emulated(QUICKBOOKS, _token_account)
def token(request: HttpRequest) -> JsonResponse:
    client_id, secret = client_credentials(request)
    if client_id != settings.QUICKBOOKS_CLIENT_ID or secret != settings.QUICKBOOKS_CLIENT_SECRET:
        return oauth_error("invalid_client", 401)
    grant = request.POST.get("grant_type")
    now = timezone.now()
    with transaction.atomic(using=SANDBOX_DB):
        if grant == "authorization_code":
            code = redeem_code(AuthorizationCode, request, client_id, now)
            if code is None:
                return oauth_error("invalid_grant")
            access, refresh = issue(code.company, client_id, code.scopes)
        elif grant == "refresh_token":
            old = live_refresh_token(RefreshToken, request, client_id, now)
            if old is None:
                return oauth_error("invalid_grant")
            old.revoked = True  # rotated: the old refresh token stops working at once
            old.save(update_fields=["revoked"])
            AccessToken.objects.filter(refresh_token=old).delete()
            forget_checked_tokens()
            access, refresh = issue(old.company, client_id, old.scopes)
        else:
            return oauth_error("unsupported_grant_type")
    return JsonResponse(_token_body(access, refresh))


@csrf_exempt
@require_POST
@emulated(QUICKBOOKS, no_account)
def revoke(request: HttpRequest) -> HttpResponse:
    client_id, secret = client_credentials(request)
    if client_id != settings.QUICKBOOKS_CLIENT_ID or secret != settings.QUICKBOOKS_CLIENT_SECRET:
        return oauth_error("invalid_client", 401)
    try:
        value = json.loads(request.body or b"{}").get("token", "")
    except (ValueError, AttributeError):
        return oauth_error("invalid_request")
    with transaction.atomic(using=SANDBOX_DB):
        refresh = RefreshToken.objects.filter(token=value).first()
        if refresh is None:
            access = AccessToken.objects.filter(token=value).select_related("refresh_token").first()
            refresh = access.refresh_token if access else None
        if refresh is not None:
            refresh.revoked = True
            refresh.save(update_fields=["revoked"])
            AccessToken.objects.filter(refresh_token=refresh).delete()
            forget_checked_tokens()
    return HttpResponse(status=200)


# Bearer tokens already checked: token → (expiry, company). Every API call needs this answer,
# so it is kept in memory and forgotten whenever tokens or companies change (refresh, revoke,
# a control-API edit, a reset) — all of which happen in this same process.
_checked: dict[str, tuple[object, Company]] = {}
MAX_CHECKED = 10_000


def forget_checked_tokens() -> None:
    _checked.clear()


def company_for_token(request: HttpRequest) -> Company | None:
    """The company a Bearer token was granted for, or None if it is unknown or expired.

    Intuit binds an access token to the one company consented to: the caller compares it
    with the realm in the URL and answers 403 AuthorizationFailed when they differ."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    token, now = header[7:], timezone.now()
    hit = _checked.get(token)
    if hit is None or hit[0] <= now:
        live = AccessToken.objects.filter(expires_at__gt=now, refresh_token__revoked=False)
        access = live.filter(token=token).select_related("company").first()
        if access is None:
            return None
        if len(_checked) >= MAX_CHECKED:
            _checked.clear()
        hit = _checked[token] = (access.expires_at, access.company)
    return hit[1]


RESET_HOOKS.append(forget_checked_tokens)
