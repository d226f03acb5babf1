"""What every HubSpot API view shares: bearer auth, rate limits, JSON in and errors out."""

import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from sandbox.emulation import HUBSPOT, RESET_HOOKS, emulated

from . import ratelimit
from .errors import HubSpotError, validation
from .models import AccessToken, Portal

_CACHE_ATTR = "_sandbox_hubspot_token"


def iso(moment: datetime) -> str:
    """HubSpot's timestamp format: UTC with milliseconds and a Z."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


# Access tokens already looked up, with their portal. Every CRM call needs this answer, so it
# is kept in memory and forgotten whenever tokens or portals change (a refresh token deleted,
# a control-API edit, a reset) — all in this same process. Expiry is checked on each use.
_known_tokens: dict[str, AccessToken] = {}
MAX_KNOWN_TOKENS = 10_000


def forget_known_tokens() -> None:
    _known_tokens.clear()


RESET_HOOKS.append(forget_known_tokens)


def bearer_token(request: HttpRequest) -> AccessToken | None:
    """The access token the request presents (cached on the request), or None."""
    if not hasattr(request, _CACHE_ATTR):
        header = request.headers.get("Authorization", "")
        value = header[7:].strip() if header[:7].lower() == "bearer " else ""
        found = _known_tokens.get(value) if value else None
        if value and found is None:
            found = (
                AccessToken.objects.select_related("refresh_token__portal")
                .filter(token=value)
                .first()
            )
            if found is not None:
                if len(_known_tokens) >= MAX_KNOWN_TOKENS:
                    _known_tokens.clear()
                _known_tokens[value] = found
        setattr(request, _CACHE_ATTR, found)
    return getattr(request, _CACHE_ATTR)


def account_of(request: HttpRequest, **kwargs: Any) -> str | None:
    """The portal id behind the request's bearer token, for the emulation wrapper."""
    token = bearer_token(request)
    return str(token.refresh_token.portal_id) if token else None


def authenticated_portal(request: HttpRequest) -> Portal:
    token = bearer_token(request)
    if token is None:
        raise HubSpotError(
            401,
            "INVALID_AUTHENTICATION",
            "Authentication credentials not found. This API supports OAuth 2.0 authentication.",
        )
    if token.expires_at <= timezone.now():
        ago = int((timezone.now() - token.expires_at).total_seconds())
        raise HubSpotError(
            401,
            "EXPIRED_AUTHENTICATION",
            f"The OAuth token used to make this call expired {ago} second(s) ago.",
        )
    return token.refresh_token.portal


def json_body(request: HttpRequest) -> Any:
    """The request's JSON; numbers stay Decimal so values never pass through float."""
    if not request.body:
        return {}
    try:
        return json.loads(request.body, parse_float=Decimal)
    except ValueError as exc:
        raise validation(f"Invalid input JSON on line 1: {exc}") from exc


class HubSpotJSONEncoder(json.JSONEncoder):
    def default(self, o: Any) -> Any:
        if isinstance(o, Decimal):
            return str(o)
        return super().default(o)


def respond(data: Any, status: int = 200) -> JsonResponse:
    return JsonResponse(data, status=status, safe=False, encoder=HubSpotJSONEncoder)


View = Callable[..., HttpResponse]


def crm_api(methods: tuple[str, ...], search: bool = False) -> Callable[[View], View]:
    """Wrap a view taking `(request, portal, **kwargs)` as a HubSpot CRM endpoint."""

    def decorator(view: View) -> View:
        @wraps(view)
        def inner(request: HttpRequest, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                return HttpResponse(status=405)
            try:
                portal = authenticated_portal(request)
            except HubSpotError as exc:
                return exc.response()
            verdict = ratelimit.check(str(portal.pk), portal.rate_limits, search=search)
            if not verdict.allowed:
                return ratelimit.too_many(verdict)
            try:
                response = view(request, portal, **kwargs)
            except HubSpotError as exc:
                response = exc.response()
            return ratelimit.add_headers(response, verdict)

        return csrf_exempt(emulated(HUBSPOT, account_of)(inner))

    return decorator
