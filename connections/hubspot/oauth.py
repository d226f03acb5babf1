"""HubSpot OAuth 2.0: the authorize URL built here, tokens through hubspot-api-client."""

import json
import logging

from django.conf import settings
from hubspot import HubSpot
from hubspot.oauth import ApiException

from ..providers import System, hubspot_api_base, hubspot_authorize_url, provider
from ..tokens import OAuthError, RefreshRefused, TokenSet, authorize_url

log = logging.getLogger(__name__)


def _api() -> HubSpot:
    return HubSpot(host=hubspot_api_base())


def _error_status(error: ApiException) -> str:
    try:
        body = json.loads(error.body or "{}")
    except ValueError:
        return ""
    return str(body.get("status") or body.get("error") or "")


class HubSpotOAuth:
    system = System.HUBSPOT

    def authorize_url(self, state: str, redirect_uri: str) -> str:
        return authorize_url(
            hubspot_authorize_url(), settings.HUBSPOT_CLIENT_ID, redirect_uri,
            provider(self.system).scope_names, state,
        )  # fmt: skip

    def exchange(self, code: str, redirect_uri: str, params) -> TokenSet:
        api = _api()
        try:
            tokens = api.oauth.tokens_api.create(
                grant_type="authorization_code",
                code=code,
                redirect_uri=redirect_uri,
                client_id=settings.HUBSPOT_CLIENT_ID,
                client_secret=settings.HUBSPOT_CLIENT_SECRET,
            )
            info = api.oauth.access_tokens_api.get(tokens.access_token)
        except ApiException as error:
            log.warning("HubSpot code exchange refused: HTTP %s", error.status)
            raise OAuthError(
                "HubSpot refused this approval (the link may have been used already). "
                "Please start again."
            ) from error
        return TokenSet(
            access_token=tokens.access_token,
            refresh_token=tokens.refresh_token,
            expires_in=int(tokens.expires_in),
            external_id=str(info.hub_id),
            external_name=info.hub_domain or "",
            scopes=list(info.scopes or provider(self.system).scope_names),
        )

    def refresh(self, refresh_token: str) -> TokenSet:
        try:
            tokens = _api().oauth.tokens_api.create(
                grant_type="refresh_token",
                refresh_token=refresh_token,
                client_id=settings.HUBSPOT_CLIENT_ID,
                client_secret=settings.HUBSPOT_CLIENT_SECRET,
            )
        except ApiException as error:
            if error.status in (400, 401):
                log.warning("HubSpot refused a refresh: %s", _error_status(error))
                raise RefreshRefused(
                    "HubSpot refused the saved authorisation (the app was uninstalled or "
                    "access was revoked)."
                ) from error
            raise OAuthError(f"HubSpot token refresh failed (HTTP {error.status}).") from error
        return TokenSet(
            access_token=tokens.access_token,
            refresh_token=tokens.refresh_token or refresh_token,
            expires_in=int(tokens.expires_in),
        )

    def revoke(self, refresh_token: str) -> None:
        try:
            _api().oauth.refresh_tokens_api.archive(refresh_token)
        except ApiException as error:
            raise OAuthError(
                f"HubSpot did not confirm the revocation (HTTP {error.status})."
            ) from error
