"""What the emulators' OAuth 2.0 token endpoints share: reading the client's credentials and
checking a code or refresh token before a grant. The token bodies, lifetimes and rotation
rules stay with each provider (QuickBooks revokes a rotated refresh token at once, Xero
keeps it for a grace period)."""

import base64
import binascii
from datetime import datetime

from django.db.models import Model
from django.http import HttpRequest, JsonResponse


def client_credentials(request: HttpRequest) -> tuple[str, str]:
    """Basic auth (the providers' docs) or the form body (what some SDKs send)."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Basic "):
        try:
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
            return client_id, secret
        except (binascii.Error, UnicodeDecodeError):
            return "", ""
    return request.POST.get("client_id", ""), request.POST.get("client_secret", "")


def oauth_error(error: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": error}, status=status)


def redeem_code(codes: type[Model], request: HttpRequest, client_id: str, now: datetime):
    """The authorization code of this request, locked and marked used; None when it is
    unknown, used, expired, or issued to another client or redirect address. Inside a
    transaction on the sandbox database."""
    code = codes.objects.select_for_update().filter(code=request.POST.get("code", "")).first()
    if (
        code is None
        or code.used
        or code.expires_at < now
        or code.redirect_uri != request.POST.get("redirect_uri", "")
        or code.client_id != client_id
    ):
        return None
    code.used = True
    code.save(update_fields=["used"])
    return code


def live_refresh_token(tokens: type[Model], request: HttpRequest, client_id: str, now: datetime):
    """The refresh token of this request, locked; None when it is unknown, revoked, expired
    or another client's (each provider then applies its own rotation rule)."""
    old = (
        tokens.objects.select_for_update()
        .filter(token=request.POST.get("refresh_token", ""))
        .first()
    )
    if old is None or old.revoked or old.expires_at < now or old.client_id != client_id:
        return None
    return old
