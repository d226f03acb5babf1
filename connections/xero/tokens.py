"""Xero's identity service over HTTP: the token endpoint (code exchange, refresh, revocation)
and `/connections`, the organisations a token reaches.

Access tokens live 30 minutes; refresh tokens rotate on every refresh and the one replaced
stays valid for 30 minutes, so a refresh whose answer was lost is retried with the same
token (api-facts C2). Callers keep the refresh token they hold until a new one is saved.
"""

import base64
import binascii
import json
import logging
from dataclasses import dataclass
from datetime import timedelta

import requests
from django.conf import settings

from ..providers import (
    System,
    provider,
    xero_connections_url,
    xero_revocation_url,
    xero_token_url,
)
from ..tokens import OAuthError, RefreshRefused, TokenSet

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 30
# Xero does not say in its answer; an unused refresh token lasts 60 days, and each refresh
# starts a new one.
REFRESH_LIFETIME = timedelta(days=60)
REFUSED_GRANTS = ("invalid_grant", "invalid_client", "unauthorized_client")


class AnswerLost(OAuthError):
    """The token endpoint's answer never came (cut, timed out, or a 5xx): Xero may have
    rotated the refresh token anyway, so only the old one, within its grace, can retry."""


@dataclass(frozen=True)
class Tenant:
    """An organisation the token reaches, as `/connections` lists it."""

    tenant_id: str
    name: str
    auth_event_id: str


def _credentials() -> tuple[str, str]:
    return settings.XERO_CLIENT_ID, settings.XERO_CLIENT_SECRET


def _error_code(answer: requests.Response) -> str:
    try:
        return str(answer.json().get("error", ""))
    except (ValueError, AttributeError):
        return ""


def _token_call(form: dict[str, str], what: str) -> dict:
    """POST the token endpoint with Basic client credentials (Xero's documented way)."""
    try:
        answer = requests.post(
            xero_token_url(), data=form, auth=_credentials(), timeout=TIMEOUT_SECONDS
        )
    except requests.RequestException as error:
        raise AnswerLost(f"Xero's sign-in service did not answer the {what}.") from error
    if answer.status_code >= 500:
        raise AnswerLost(f"Xero's sign-in service failed the {what} (HTTP {answer.status_code}).")
    if answer.status_code != 200:
        code = _error_code(answer)
        log.warning("Xero %s refused: HTTP %s %s", what, answer.status_code, code)
        if answer.status_code in (400, 401) and code in REFUSED_GRANTS:
            raise RefreshRefused(f"Xero refused the {what} ({code}).")
        raise OAuthError(f"Xero's sign-in service refused the {what} (HTTP {answer.status_code}).")
    try:
        body = answer.json()
    except ValueError as error:
        raise AnswerLost(f"Xero's answer to the {what} could not be read.") from error
    if not isinstance(body, dict) or not body.get("access_token"):
        raise AnswerLost(f"Xero's answer to the {what} had no access token.")
    return body


def _token_set(body: dict) -> TokenSet:
    if not body.get("refresh_token"):
        raise OAuthError(
            "Xero granted no refresh token (offline access was not allowed), so the "
            "connection would stop working after 30 minutes. Please start again."
        )
    return TokenSet(
        access_token=body["access_token"],
        refresh_token=body["refresh_token"],
        expires_in=int(body.get("expires_in") or 1800),
        refresh_expires_in=int(REFRESH_LIFETIME.total_seconds()),
        scopes=str(body.get("scope") or "").split() or provider(System.XERO).scope_names,
    )


def exchange_code(code: str, redirect_uri: str) -> TokenSet:
    """The authorisation code for tokens (no organisation yet: see `tenants`)."""
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    return _token_set(_token_call(form, "approval"))


def refresh(refresh_token: str) -> TokenSet:
    """A new access token and the refresh token that replaces `refresh_token`.

    A lost answer is retried once with the same refresh token: Xero keeps the replaced one
    valid for 30 minutes, so the retry gets a fresh pair instead of stranding the
    connection. If that is lost too, AnswerLost: the caller keeps the old token and tries
    again later (still within the grace)."""
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    try:
        body = _token_call(form, "token refresh")
    except AnswerLost as lost:
        log.warning("Xero refresh answer lost (%s); retrying with the same token", lost)
        body = _token_call(form, "token refresh")
    return _token_set(body)


def revoke(refresh_token: str) -> None:
    """Revoke the refresh token: Xero removes the connections it made too."""
    try:
        answer = requests.post(
            xero_revocation_url(),
            data={"token": refresh_token},
            auth=_credentials(),
            timeout=TIMEOUT_SECONDS,
        )
    except requests.RequestException as error:
        raise OAuthError("Xero did not confirm the revocation (no answer).") from error
    if answer.status_code != 200:
        raise OAuthError(f"Xero did not confirm the revocation (HTTP {answer.status_code}).")


def auth_event_id(access_token: str) -> str:
    """The consent (authentication event) an access token came from: a claim of the JWT.
    Read, not verified: it only narrows what `/connections` lists for this same token."""
    try:
        claims = access_token.split(".")[1]
        decoded = base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4))
        return str(json.loads(decoded).get("authentication_event_id") or "")
    except (IndexError, ValueError, binascii.Error, AttributeError):
        return ""


def tenants(access_token: str, event_id: str = "") -> list[Tenant]:
    """The organisations this token reaches, only those of consent `event_id` if given."""
    try:
        answer = requests.get(
            xero_connections_url(),
            params={"authEventId": event_id} if event_id else None,
            headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
            timeout=TIMEOUT_SECONDS,
        )
    except requests.RequestException as error:
        raise OAuthError("Xero did not say which organisations were connected.") from error
    if answer.status_code != 200:
        raise OAuthError(
            f"Xero did not say which organisations were connected (HTTP {answer.status_code})."
        )
    try:
        rows = answer.json()
        return [
            # Names are kept to what a connection stores (Connection.external_name).
            Tenant(
                str(row["tenantId"]),
                str(row.get("tenantName") or "")[:200],
                str(row["authEventId"]),
            )
            for row in rows
            # A practice (Xero HQ) is not a set of books.
            if row.get("tenantType", "ORGANISATION") == "ORGANISATION"
        ]
    except (ValueError, TypeError, KeyError) as error:
        raise OAuthError("Xero's list of connected organisations could not be read.") from error
