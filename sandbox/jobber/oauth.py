"""Jobber's OAuth 2.0: the consent page, the token endpoint, and the bearer check.

Only the authorization-code grant (E2); scopes are fixed per app, so none are asked for.
Token requests may be form-encoded or JSON, with the client's id and secret in the body
(or Basic auth). The answer is `{access_token, refresh_token}`: no `expires_in`, the
access token is a JWT whose `exp` says when it ends (60 minutes). Refresh tokens rotate:
each refresh returns a new one and the one used is dead at once (apps made after
2024-01-02), so two refreshes racing lose the connection. An account whose app has
rotation off gets the same token back with Jobber's warning.
"""

import base64
import binascii
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

from sandbox.emulation import JOBBER, emulated
from sandbox.routers import SANDBOX_DB

from .models import AccessToken, Account, AuthorizationCode, RefreshToken

ACCESS_LIFETIME = timedelta(minutes=60)
REFRESH_LIFETIME = timedelta(days=3650)  # no documented end; only use or revocation ends it
CODE_LIFETIME = timedelta(minutes=10)
INVALID_GRANT = (
    "The provided authorization grant is invalid, expired, revoked, does not match the "
    "redirection URI used in the authorization request, or was issued to another client."
)
ROTATION_OFF_WARNING = (
    "Refresh token rotation is off. Please turn it on in the Developer Center to keep "
    "your app secure."
)


def no_account(request: HttpRequest, *args, **kwargs) -> None:
    return None


def _b64(value: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def _jwt(claims: dict) -> str:
    return f"{_b64({'alg': 'HS256', 'typ': 'JWT'})}.{_b64(claims)}.{secrets.token_urlsafe(32)}"


def issue_access(account: Account, client_id: str) -> AccessToken:
    now = timezone.now()
    claims = {
        "iat": int(now.timestamp()),
        "exp": int((now + ACCESS_LIFETIME).timestamp()),
        "client_id": client_id,
        "account_id": account.pk,
        "jti": uuid.uuid4().hex,
    }
    return AccessToken.objects.create(
        token=_jwt(claims),
        client_id=client_id,
        account=account,
        expires_at=now + ACCESS_LIFETIME,
    )


def issue(account: Account, client_id: str) -> tuple[AccessToken, RefreshToken]:
    refresh = RefreshToken.objects.create(
        token=secrets.token_hex(32),
        client_id=client_id,
        account=account,
        expires_at=timezone.now() + REFRESH_LIFETIME,
    )
    return issue_access(account, client_id), refresh


def _with_query(url: str, params: dict[str, str]) -> str:
    return url + ("&" if "?" in url else "?") + urlencode(params)


@require_http_methods(["GET", "POST"])
@emulated(JOBBER, no_account)
def authorize(request: HttpRequest) -> HttpResponse:
    """Jobber's consent page: choose the account (or create one), then allow."""
    params = request.POST if request.method == "POST" else request.GET
    client_id, redirect_uri = params.get("client_id", ""), params.get("redirect_uri", "")
    state = params.get("state", "")
    context = {
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "state": state,
        "response_type": params.get("response_type", "code"),
        "accounts": Account.objects.order_by("pk"),
    }
    template = "sandbox_jobber/authorize.html"
    if client_id != settings.JOBBER_CLIENT_ID or not redirect_uri.startswith(
        ("http://", "https://")
    ):
        error = "The client identifier provided is invalid or the redirect URI is missing."
        return render(request, template, {"error": error}, status=400)
    if request.method == "GET":
        return render(request, template, context)
    if params.get("decision") != "approve":
        return HttpResponseRedirect(
            _with_query(redirect_uri, {"error": "access_denied", "state": state})
        )
    with transaction.atomic(using=SANDBOX_DB):
        new_name = params.get("new_account_name", "").strip()
        if new_name:
            account = Account.objects.create(name=new_name)
        else:
            account = Account.objects.filter(pk=params.get("account_id") or 0).first()
        if account is None:
            context["error"] = "Choose an account or name a new one."
            return render(request, template, context, status=400)
        code = AuthorizationCode.objects.create(
            code=secrets.token_hex(32),
            client_id=client_id,
            redirect_uri=redirect_uri,
            account=account,
            expires_at=timezone.now() + CODE_LIFETIME,
        )
    return HttpResponseRedirect(_with_query(redirect_uri, {"code": code.code, "state": state}))


def token_params(request: HttpRequest) -> dict[str, str]:
    """The token request's fields, form-encoded or JSON."""
    if request.content_type == "application/json":
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            return {}
        return {k: str(v) for k, v in body.items()} if isinstance(body, dict) else {}
    return {k: request.POST.get(k, "") for k in request.POST}


def _credentials(request: HttpRequest, params: dict[str, str]) -> tuple[str, str]:
    header = request.headers.get("Authorization", "")
    if header.startswith("Basic "):
        try:
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
            return client_id, secret
        except (binascii.Error, UnicodeDecodeError):
            return "", ""
    return params.get("client_id", ""), params.get("client_secret", "")


def _token_account(request: HttpRequest, *args, **kwargs) -> int | None:
    """The account a code or refresh token was granted for, so its fault plan applies."""
    params = token_params(request)
    if params.get("grant_type") == "refresh_token":
        grant = RefreshToken.objects.filter(token=params.get("refresh_token", ""))
    else:
        grant = AuthorizationCode.objects.filter(code=params.get("code", ""))
    return grant.values_list("account_id", flat=True).first()


def _error(error: str, description: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": error, "error_description": description}, status=status)


@csrf_exempt
@require_POST
@emulated(JOBBER, _token_account)
def token(request: HttpRequest) -> JsonResponse:
    params = token_params(request)
    client_id, secret = _credentials(request, params)
    if client_id != settings.JOBBER_CLIENT_ID or secret != settings.JOBBER_CLIENT_SECRET:
        return _error("invalid_client", "Client authentication failed.", 401)
    grant, now = params.get("grant_type"), timezone.now()
    with transaction.atomic(using=SANDBOX_DB):
        if grant == "authorization_code":
            code = (
                AuthorizationCode.objects.select_for_update()
                .filter(code=params.get("code", ""))
                .first()
            )
            if (
                code is None
                or code.used
                or code.expires_at < now
                or code.client_id != client_id
                or code.redirect_uri != params.get("redirect_uri")
            ):
                return _error("invalid_grant", INVALID_GRANT)
            code.used = True
            code.save(update_fields=["used"])
            Account.objects.filter(pk=code.account_id).update(connected=True)
            access, refresh = issue(code.account, client_id)
            return JsonResponse({"access_token": access.token, "refresh_token": refresh.token})
        if grant == "refresh_token":
            old = (
                RefreshToken.objects.select_for_update()
                .select_related("account")
                .filter(token=params.get("refresh_token", ""))
                .first()
            )
            if (
                old is None
                or old.revoked
                or old.used_at is not None
                or old.expires_at < now
                or old.client_id != client_id
                or not old.account.connected
            ):
                return _error("invalid_grant", INVALID_GRANT)
            access = issue_access(old.account, client_id)
            if not old.account.refresh_token_rotation:
                return JsonResponse(
                    {
                        "access_token": access.token,
                        "refresh_token": old.token,
                        "warning": ROTATION_OFF_WARNING,
                    }
                )
            old.used_at = now  # dead from now on: a second use is invalid_grant
            old.save(update_fields=["used_at"])
            refresh = RefreshToken.objects.create(
                token=secrets.token_hex(32),
                client_id=client_id,
                account=old.account,
                expires_at=now + REFRESH_LIFETIME,
            )
            return JsonResponse({"access_token": access.token, "refresh_token": refresh.token})
    return _error("unsupported_grant_type", "The authorization grant type is not supported.")


def access_for(request: HttpRequest) -> AccessToken | None:
    """The live access token the request carries, or None."""
    header = request.headers.get("Authorization", "")
    value = header[7:].strip() if header.startswith("Bearer ") else ""
    if not value:
        return None
    access = AccessToken.objects.select_related("account").filter(token=value).first()
    if (
        access is None
        or access.revoked
        or access.expires_at <= timezone.now()
        or not access.account.connected
    ):
        return None
    return access


def disconnect(account: Account) -> None:
    """What appDisconnect and a control-side disconnect do: every grant of the app ends."""
    Account.objects.filter(pk=account.pk).update(connected=False)
    AccessToken.objects.filter(account=account).update(revoked=True)
    RefreshToken.objects.filter(account=account).update(revoked=True)
