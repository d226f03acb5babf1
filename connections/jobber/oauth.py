"""Jobber OAuth 2.0 (api-facts E2): authorization code only, scopes fixed per app (none in
the authorize URL), and refresh tokens that rotate: each refresh answers a new refresh
token and the one used is dead at once (apps made after 2024-01-02).

So a refresh is sent once per saved token, under the connection's row lock
(`connections.refresh`), and the new token is saved in that same transaction before
anything else: two refreshes racing, or a retry with the old token, would lose the
connection. A refresh whose answer never came is not retried here (the old token may be
dead already); the saved token is kept and a later refresh tries it, or the contractor
approves again.

The token answer has no `expires_in`: the access token is a JWT whose `exp` claim says
when it ends. There is no revocation endpoint; disconnecting is the `appDisconnect`
mutation, which needs an access token.
"""

import base64
import binascii
import json
import logging
import time
from urllib.parse import urlencode

import requests
from django.conf import settings

from .. import retries
from ..providers import System, jobber_authorize_url, jobber_token_url, provider
from ..tokens import OAuthError, RefreshRefused, TokenSet
from . import graphql, schema

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 30
DEFAULT_LIFETIME = 3600  # when the access token says nothing (Jobber's are 60 minutes)
REFUSED_GRANTS = ("invalid_grant", "invalid_client", "unauthorized_client")
DISCONNECT = "mutation Disconnect { appDisconnect { userErrors { message path } } }"


def expires_in(access_token: str, now: float | None = None) -> int:
    """Seconds the access token has left, from its JWT `exp` (read, not verified: it only
    says when to refresh)."""
    try:
        claims = access_token.split(".")[1]
        exp = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))["exp"]
        return max(0, int(exp - (time.time() if now is None else now)))
    except (IndexError, KeyError, TypeError, ValueError, binascii.Error):
        return DEFAULT_LIFETIME


def _token_call(form: dict[str, str], what: str) -> dict:
    body = form | {
        "client_id": settings.JOBBER_CLIENT_ID,
        "client_secret": settings.JOBBER_CLIENT_SECRET,
    }
    try:
        answer = requests.post(jobber_token_url(), data=body, timeout=TIMEOUT_SECONDS)
    except requests.RequestException as error:
        raise OAuthError(f"Jobber's sign-in service did not answer the {what}.") from error
    if answer.status_code >= 500:
        raise OAuthError(f"Jobber's sign-in service failed the {what} (HTTP {answer.status_code}).")
    try:
        found = answer.json()
    except ValueError:
        found = {}
    if answer.status_code != 200:
        code = str(found.get("error", "")) if isinstance(found, dict) else ""
        log.warning("Jobber %s refused: HTTP %s %s", what, answer.status_code, code)
        if answer.status_code in (400, 401) and code in REFUSED_GRANTS:
            raise RefreshRefused(f"Jobber refused the {what} ({code}).")
        raise OAuthError(
            f"Jobber's sign-in service refused the {what} (HTTP {answer.status_code})."
        )
    if (
        not isinstance(found, dict)
        or not found.get("access_token")
        or not found.get("refresh_token")
    ):
        raise OAuthError(f"Jobber's answer to the {what} had no tokens.")
    if found.get("warning"):
        log.warning("Jobber %s: %s", what, found["warning"])
    return found


def _token_set(body: dict, **more) -> TokenSet:
    return TokenSet(
        access_token=body["access_token"],
        refresh_token=body["refresh_token"],
        expires_in=int(body.get("expires_in") or expires_in(body["access_token"])),
        scopes=provider(System.JOBBER).scope_names,
        **more,
    )


class JobberOAuth:
    system = System.JOBBER

    def authorize_url(self, state: str, redirect_uri: str) -> str:
        # Scopes are the app's, set in Jobber's Developer Center: none is sent (E2).
        query = {
            "client_id": settings.JOBBER_CLIENT_ID,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "state": state,
        }
        return f"{jobber_authorize_url()}?{urlencode(query)}"

    def exchange(self, code: str, redirect_uri: str, params) -> TokenSet:
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        try:
            body = _token_call(form, "approval")
        except RefreshRefused as error:
            raise OAuthError(
                "Jobber refused this approval (the link may have been used already). "
                "Please start again."
            ) from error
        try:
            account_id, name = schema.account_of(
                graphql.post(body["access_token"], schema.ACCOUNT).data
            )
        except (retries.ProviderError, retries.Transient, retries.RateLimited,
                retries.Unauthorised, KeyError, TypeError) as error:  # fmt: skip
            raise OAuthError(
                "Jobber did not say which account was connected; nothing was stored. "
                "Please start again."
            ) from error
        return _token_set(body, external_id=account_id, external_name=name[:200])

    def refresh(self, refresh_token: str) -> TokenSet:
        try:
            form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
            return _token_set(_token_call(form, "token refresh"))
        except RefreshRefused as error:
            raise RefreshRefused(
                "Jobber refused the saved authorisation (the app was disconnected, or the "
                "token was already used)."
            ) from error

    def revoke(self, refresh_token: str) -> None:
        """Jobber has no revocation endpoint: a fresh access token, then `appDisconnect`."""
        tokens = self.refresh(refresh_token)
        try:
            answer = graphql.post(tokens.access_token, DISCONNECT)
            graphql.raise_user_errors(answer.data.get("appDisconnect"), "Disconnecting Jobber")
        except (retries.ProviderError, retries.Transient, retries.RateLimited,
                retries.Unauthorised) as error:  # fmt: skip
            raise OAuthError(f"Jobber did not confirm the disconnection ({error}).") from error
