"""The OAuth flow of each system, behind one shape the views and tasks use."""

from collections.abc import Mapping
from typing import Protocol

from .hubspot.oauth import HubSpotOAuth
from .jobber.oauth import JobberOAuth
from .providers import System
from .quickbooks.oauth import QuickBooksOAuth
from .tokens import TokenSet
from .xero.oauth import XeroOAuth


class OAuthFlow(Protocol):
    system: System

    def authorize_url(self, state: str, redirect_uri: str) -> str: ...

    def exchange(self, code: str, redirect_uri: str, params: Mapping[str, str]) -> TokenSet: ...

    def refresh(self, refresh_token: str) -> TokenSet: ...

    def revoke(self, refresh_token: str) -> None: ...


FLOWS: dict[str, OAuthFlow] = {
    System.QUICKBOOKS: QuickBooksOAuth(),
    System.HUBSPOT: HubSpotOAuth(),
    System.XERO: XeroOAuth(),
    System.JOBBER: JobberOAuth(),
}


def flow_for(system: str) -> OAuthFlow:
    return FLOWS[System(system)]
