"""Intuit OAuth 2.0 through the official intuit-oauth client."""

import json
import logging
import time

import requests
from django.conf import settings
from intuitlib.client import AuthClient
from intuitlib.enums import Scopes
from intuitlib.exceptions import AuthClientError

from ..providers import System, provider, quickbooks_discovery_url
from ..tokens import OAuthError, RefreshRefused, TokenSet

log = logging.getLogger(__name__)


DISCOVERY_KEPT = 3600.0  # seconds a fetched discovery document is reused by this process
_discovery: dict[str, tuple[float, requests.Response]] = {}


class _KeptDiscovery(AuthClient):
    """intuit-oauth fetches Intuit's discovery document in every constructor, and one is
    built per API call: a third of a sync's requests were that document (bench/multi_worker).
    Its answer is kept for an hour per process (Intuit changes it rarely); nothing else of the
    client is shared."""

    def get(self, url, **kwargs):
        if url != self.environment:
            return super().get(url, **kwargs)
        kept = _discovery.get(url)
        if kept and time.monotonic() - kept[0] < DISCOVERY_KEPT:
            return kept[1]
        answer = super().get(url, **kwargs)
        if answer.status_code == 200:
            _discovery[url] = (time.monotonic(), answer)
        return answer


def auth_client(redirect_uri: str = "") -> AuthClient:
    # environment= takes the discovery document's URL: Intuit's, or the sandbox's. The
    # constructor reads that document (kept for an hour: `_KeptDiscovery`).
    try:
        return _KeptDiscovery(
            settings.QUICKBOOKS_CLIENT_ID,
            settings.QUICKBOOKS_CLIENT_SECRET,
            redirect_uri or f"{settings.PUBLIC_BASE_URL}/oauth/quickbooks/callback/",
            environment=quickbooks_discovery_url(),
        )
    except AuthClientError as error:
        raise OAuthError(
            f"Intuit's sign-in service could not be reached (HTTP {error.status_code})."
        ) from error
    except OSError as error:
        raise OAuthError("Intuit's sign-in service could not be reached.") from error


def _error_code(error: AuthClientError) -> str:
    try:
        return json.loads(error.content).get("error", "")
    except (TypeError, ValueError, AttributeError):
        return ""


def proven_company(client: AuthClient, realm_id: str) -> str:
    """Prove the callback's `realmId` with the new token: read that company's CompanyInfo.

    The realmId travels in the redirect URL, so anyone can edit it; the token cannot be
    edited, and Intuit answers only for the company it was granted for (403 for another).
    Returns the company's name; raises OAuthError when QuickBooks does not confirm it.
    """
    from quickbooks import QuickBooks
    from quickbooks.exceptions import QuickbooksException
    from quickbooks.objects.company_info import CompanyInfo

    from ..providers import quickbooks_api_base

    try:
        qb = QuickBooks(
            auth_client=client,
            refresh_token=client.refresh_token,
            company_id=realm_id,
            minorversion=75,
        )
        qb.api_url_v3 = quickbooks_api_base()
        info = CompanyInfo.get(realm_id, qb=qb)
    except (QuickbooksException, OSError, ValueError, KeyError) as error:
        log.warning(
            "QuickBooks did not confirm the company of a new token: %s", type(error).__name__
        )
        raise OAuthError(
            "QuickBooks did not confirm which company this approval is for, so nothing was "
            "connected. Please start again from syncfirm (do not edit the address)."
        ) from error
    return info.CompanyName or ""


class QuickBooksOAuth:
    system = System.QUICKBOOKS

    def authorize_url(self, state: str, redirect_uri: str) -> str:
        scopes = [Scopes(name) for name in provider(self.system).scope_names]
        return auth_client(redirect_uri).get_authorization_url(scopes, state_token=state)

    def exchange(self, code: str, redirect_uri: str, params) -> TokenSet:
        realm_id = params.get("realmId", "")
        if not realm_id:
            raise OAuthError("QuickBooks did not say which company was connected (no realmId).")
        client = auth_client(redirect_uri)
        try:
            client.get_bearer_token(code, realm_id=realm_id)
        except AuthClientError as error:
            log.warning("QuickBooks code exchange refused: HTTP %s", error.status_code)
            raise OAuthError(
                "QuickBooks refused this approval (the link may have been used already). "
                "Please start again."
            ) from error
        return TokenSet(
            access_token=client.access_token,
            refresh_token=client.refresh_token,
            expires_in=int(client.expires_in),
            refresh_expires_in=int(client.x_refresh_token_expires_in or 0) or None,
            external_id=realm_id,
            external_name=proven_company(client, realm_id),
            scopes=provider(self.system).scope_names,
        )

    def refresh(self, refresh_token: str) -> TokenSet:
        client = auth_client()
        try:
            client.refresh(refresh_token=refresh_token)
        except AuthClientError as error:
            if error.status_code in (400, 401) and _error_code(error) in (
                "invalid_grant",
                "invalid_client",
            ):
                raise RefreshRefused(
                    "QuickBooks refused the saved authorisation (it was revoked or has expired)."
                ) from error
            raise OAuthError(
                f"QuickBooks token refresh failed (HTTP {error.status_code})."
            ) from error
        return TokenSet(
            access_token=client.access_token,
            refresh_token=client.refresh_token,
            expires_in=int(client.expires_in),
            refresh_expires_in=int(client.x_refresh_token_expires_in or 0) or None,
        )

    def revoke(self, refresh_token: str) -> None:
        try:
            auth_client().revoke(token=refresh_token)
        except AuthClientError as error:
            raise OAuthError(
                f"QuickBooks did not confirm the revocation (HTTP {error.status_code})."
            ) from error
