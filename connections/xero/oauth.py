"""Xero OAuth 2.0: the authorize URL built here, tokens and organisations through
`connections.xero.tokens`.

Unlike Intuit, Xero's callback does not say which organisation was approved: a person may
tick several on Xero's page. The new token's `/connections`, narrowed to this consent's
authentication event, lists them; one is this client's. With several, the tokens come back
with `choices` and no `external_id`, and the person picks on our page (`consent.choose`),
only among these.
"""

import logging
from dataclasses import replace

from django.conf import settings

from ..providers import System, provider, xero_authorize_url
from ..tokens import OAuthError, RefreshRefused, TokenSet, authorize_url
from . import tokens as identity

log = logging.getLogger(__name__)


class XeroOAuth:
    system = System.XERO

    def authorize_url(self, state: str, redirect_uri: str) -> str:
        return authorize_url(
            xero_authorize_url(), settings.XERO_CLIENT_ID, redirect_uri,
            provider(self.system).scope_names, state, response_type="code",
        )  # fmt: skip

    def exchange(self, code: str, redirect_uri: str, params) -> TokenSet:
        try:
            tokens = identity.exchange_code(code, redirect_uri)
        except RefreshRefused as error:
            raise OAuthError(
                "Xero refused this approval (the link may have been used already). "
                "Please start again."
            ) from error
        found = identity.tenants(tokens.access_token, identity.auth_event_id(tokens.access_token))
        if not found:
            raise OAuthError(
                "Xero says no organisation was connected in this approval, so nothing was "
                "connected. Please start again and tick the client's organisation."
            )
        if len(found) == 1:
            return replace(tokens, external_id=found[0].tenant_id, external_name=found[0].name)
        return replace(tokens, choices=[[t.tenant_id, t.name] for t in found])

    def refresh(self, refresh_token: str) -> TokenSet:
        try:
            return identity.refresh(refresh_token)
        except RefreshRefused as error:
            raise RefreshRefused(
                "Xero refused the saved authorisation (it was revoked, or not used for 60 days)."
            ) from error

    def revoke(self, refresh_token: str) -> None:
        identity.revoke(refresh_token)
