"""Xero identity: consent page, token and revocation endpoints, and /connections.

Access tokens live 30 minutes. Refresh tokens are issued only with `offline_access`, last
60 days unused, and rotate on every refresh; the one replaced stays usable for 30 minutes,
so a client whose refresh answer was lost can retry (api-facts C2). Access tokens are
JWT-shaped, carrying `authentication_event_id` as Xero's do; nothing verifies them.
"""

import base64
import json
import secrets
import uuid
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from sandbox.emulation import XERO, emulated
from sandbox.oauth_grants import client_credentials, live_refresh_token, oauth_error, redeem_code
from sandbox.routers import SANDBOX_DB

from .formats import problem
from .models import AccessToken, AuthorizationCode, Connection, Organisation, RefreshToken

ACCESS_LIFETIME = timedelta(minutes=30)
REFRESH_LIFETIME = timedelta(days=60)
REFRESH_GRACE = timedelta(minutes=30)
CODE_LIFETIME = timedelta(minutes=5)


def no_account(request: HttpRequest, *args, **kwargs) -> None:
    return None


def _b64(value: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def _jwt(claims: dict) -> str:
    return f"{_b64({'alg': 'RS256', 'typ': 'JWT'})}.{_b64(claims)}.{secrets.token_urlsafe(32)}"


def issue(
    client_id: str, scopes: list[str], auth_event_id: str, refresh: RefreshToken | None = None
) -> tuple[AccessToken, RefreshToken | None]:
    """A new access token, and a new refresh token when `offline_access` was granted."""
    now = timezone.now()
    if "offline_access" in scopes:
        refresh = RefreshToken.objects.create(
            token=secrets.token_hex(32),
            client_id=client_id,
            scopes=scopes,
            auth_event_id=auth_event_id,
            expires_at=now + REFRESH_LIFETIME,
        )
    claims = {
        "nbf": int(now.timestamp()),
        "exp": int((now + ACCESS_LIFETIME).timestamp()),
        "iss": "https://identity.xero.com",
        "aud": "https://identity.xero.com/resources",
        "client_id": client_id,
        "sub": "sandbox-user",
        "xero_userid": "00000000-0000-0000-0000-000000000001",
        "authentication_event_id": auth_event_id,
        "jti": uuid.uuid4().hex,
        "scope": scopes,
    }
    access = AccessToken.objects.create(
        token=_jwt(claims),
        refresh_token=refresh,
        client_id=client_id,
        auth_event_id=auth_event_id,
        expires_at=now + ACCESS_LIFETIME,
    )
    return access, refresh


def connect(organisation: Organisation, client_id: str, auth_event_id: str) -> Connection:
    """Connect an organisation to the app; a reconnection keeps its id, bumps its update."""
    connection, _ = Connection.objects.update_or_create(
        organisation=organisation,
        client_id=client_id,
        defaults={"auth_event_id": auth_event_id, "updated_at": timezone.now()},
    )
    return connection


def _with_query(url: str, params: dict[str, str]) -> str:
    return url + ("&" if "?" in url else "?") + urlencode(params)


@require_http_methods(["GET", "POST"])
@emulated(XERO, no_account)
def authorize(request: HttpRequest) -> HttpResponse:
    """Xero's consent page: tick one or more organisations (or create one), then allow."""
    params = request.POST if request.method == "POST" else request.GET
    client_id, redirect_uri = params.get("client_id", ""), params.get("redirect_uri", "")
    state, scope = params.get("state", ""), params.get("scope", "")
    context = {
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "state": state,
        "scope": scope,
        "scopes": scope.split(),
        "organisations": Organisation.objects.order_by("pk"),
        "response_type": params.get("response_type", "code"),
    }
    template = "sandbox_xero/authorize.html"
    if client_id != settings.XERO_CLIENT_ID or not redirect_uri.startswith(("http://", "https://")):
        error = "unauthorized_client: unknown client_id or redirect_uri."
        return render(request, template, {"error": error}, status=400)
    if request.method == "GET":
        return render(request, template, context)
    if params.get("decision") != "approve":
        return HttpResponseRedirect(
            _with_query(redirect_uri, {"error": "access_denied", "state": state})
        )
    auth_event_id = str(uuid.uuid4())
    with transaction.atomic(using=SANDBOX_DB):
        chosen = list(Organisation.objects.filter(tenant_id__in=params.getlist("tenant_id")))
        new_name = params.get("new_organisation_name", "").strip()
        if new_name:
            chosen.append(Organisation.objects.create(name=new_name))
        if not chosen:
            context["error"] = "Choose an organisation or name a new one."
            return render(request, template, context, status=400)
        for organisation in chosen:
            connect(organisation, client_id, auth_event_id)
        code = AuthorizationCode.objects.create(
            code=secrets.token_hex(32),
            client_id=client_id,
            redirect_uri=redirect_uri,
            scopes=scope.split(),
            auth_event_id=auth_event_id,
            expires_at=timezone.now() + CODE_LIFETIME,
        )
    return HttpResponseRedirect(
        _with_query(redirect_uri, {"code": code.code, "scope": scope, "state": state})
    )


def _token_body(access: AccessToken, refresh: RefreshToken | None, scopes: list[str]) -> dict:
    body = {
        "access_token": access.token,
        "expires_in": int(ACCESS_LIFETIME.total_seconds()),
        "token_type": "Bearer",
        "scope": " ".join(scopes),
    }
    if refresh is not None:
        body["refresh_token"] = refresh.token
    if "openid" in scopes:
        body["id_token"] = _jwt({"sub": "sandbox-user", "email": "owner@sandbox.test"})
    return body


def _token_account(request: HttpRequest, *args, **kwargs) -> str | None:
    """The organisation a code or refresh token was granted for (the first, when a consent
    ticked several), so a fault plan set for it applies to its token calls too."""
    if request.POST.get("grant_type") == "refresh_token":
        grant = RefreshToken.objects.filter(token=request.POST.get("refresh_token", ""))
    else:
        grant = AuthorizationCode.objects.filter(code=request.POST.get("code", ""))
    event = grant.values_list("auth_event_id", flat=True).first()
    if not event:
        return None
    found = Connection.objects.filter(auth_event_id=event).order_by("pk")
    return found.values_list("organisation__tenant_id", flat=True).first()


@csrf_exempt
@require_POST
@emulated(XERO, _token_account)
def token(request: HttpRequest) -> JsonResponse:
    client_id, secret = client_credentials(request)
    if client_id != settings.XERO_CLIENT_ID or secret != settings.XERO_CLIENT_SECRET:
        return oauth_error("invalid_client")
    grant, now = request.POST.get("grant_type"), timezone.now()
    with transaction.atomic(using=SANDBOX_DB):
        if grant == "authorization_code":
            code = redeem_code(AuthorizationCode, request, client_id, now)
            if code is None:
                return oauth_error("invalid_grant")
            access, refresh = issue(client_id, code.scopes, code.auth_event_id)
            return JsonResponse(_token_body(access, refresh, code.scopes))
        if grant == "refresh_token":
            old = live_refresh_token(RefreshToken, request, client_id, now)
            past_grace = (
                old is not None
                and old.replaced_at is not None
                and (now - old.replaced_at > REFRESH_GRACE)
            )
            if old is None or past_grace:
                return oauth_error("invalid_grant")
            if old.replaced_at is None:
                old.replaced_at = now  # rotated: usable for the grace period from now on
                old.save(update_fields=["replaced_at"])
            access, refresh = issue(client_id, old.scopes, old.auth_event_id)
            return JsonResponse(_token_body(access, refresh, old.scopes))
    return oauth_error("unsupported_grant_type")


@csrf_exempt
@require_POST
@emulated(XERO, no_account)
def revoke(request: HttpRequest) -> HttpResponse:
    """Revoke a refresh token: its whole lineage and the connections it made go."""
    client_id, secret = client_credentials(request)
    if client_id != settings.XERO_CLIENT_ID or secret != settings.XERO_CLIENT_SECRET:
        return oauth_error("invalid_client")
    with transaction.atomic(using=SANDBOX_DB):
        found = RefreshToken.objects.filter(token=request.POST.get("token", "")).first()
        if found is not None:
            event = found.auth_event_id
            RefreshToken.objects.filter(auth_event_id=event).update(revoked=True)
            AccessToken.objects.filter(auth_event_id=event).delete()
            Connection.objects.filter(client_id=client_id, auth_event_id=event).delete()
    return HttpResponse(status=200)


def access_for(request: HttpRequest) -> AccessToken | HttpResponse:
    """The live access token the request carries, or Xero's 401."""
    header = request.headers.get("Authorization", "")
    value = header[7:] if header.startswith("Bearer ") else ""
    access = AccessToken.objects.filter(token=value).first() if value else None
    if access is None or (access.refresh_token and access.refresh_token.revoked):
        return problem(401, "Unauthorized", "AuthenticationUnsuccessful")
    if access.expires_at <= timezone.now():
        when = access.expires_at.strftime("%m/%d/%Y %H:%M:%S")
        return problem(401, "Unauthorized", f"TokenExpired: token expired at {when}")
    return access


def _connection_json(connection: Connection) -> dict:
    return {
        "id": connection.connection_id,
        "authEventId": connection.auth_event_id,
        "tenantId": connection.organisation.tenant_id,
        "tenantType": "ORGANISATION",
        "tenantName": connection.organisation.name,
        "createdDateUtc": connection.created_at.strftime("%Y-%m-%dT%H:%M:%S.%f0"),
        "updatedDateUtc": connection.updated_at.strftime("%Y-%m-%dT%H:%M:%S.%f0"),
    }


@csrf_exempt
@require_http_methods(["GET"])
@emulated(XERO, no_account)
def connections(request: HttpRequest) -> HttpResponse:
    access = access_for(request)
    if isinstance(access, HttpResponse):
        return access
    rows = Connection.objects.filter(client_id=access.client_id).select_related("organisation")
    if request.GET.get("authEventId"):
        rows = rows.filter(auth_event_id=request.GET["authEventId"])
    return JsonResponse([_connection_json(c) for c in rows.order_by("pk")], safe=False)


@csrf_exempt
@require_http_methods(["DELETE"])
@emulated(XERO, no_account)
def connection(request: HttpRequest, connection_id: str) -> HttpResponse:
    access = access_for(request)
    if isinstance(access, HttpResponse):
        return access
    deleted, _ = Connection.objects.filter(
        client_id=access.client_id, connection_id=connection_id
    ).delete()
    return HttpResponse(status=204 if deleted else 404)
