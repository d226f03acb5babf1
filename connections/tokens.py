"""Token sets from providers, and the errors a token exchange or refresh can end in."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.utils import timezone


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_in: int | None = None
    external_id: str = ""
    external_name: str = ""
    scopes: list[str] = field(default_factory=list)
    # The accounts this token reaches when the provider leaves the choice to the person
    # (Xero organisations): [tenant id, name] pairs, `external_id` empty until one is chosen.
    choices: list[list[str]] = field(default_factory=list)

    def access_expires_at(self, now: datetime | None = None) -> datetime:
        return (now or timezone.now()) + timedelta(seconds=self.expires_in)

    def refresh_expires_at(self, now: datetime | None = None) -> datetime | None:
        if self.refresh_expires_in is None:
            return None
        return (now or timezone.now()) + timedelta(seconds=self.refresh_expires_in)

    def __repr__(self) -> str:  # tokens never reach a log through repr()
        return f"TokenSet(external_id={self.external_id!r}, expires_in={self.expires_in})"


class OAuthError(Exception):
    """A token exchange, refresh or revoke failed; the message is safe to show a person."""


class RefreshRefused(OAuthError):
    """The provider refused the refresh token for good (invalid_grant, revoked consent):
    only the contractor approving again can fix it."""


def authorize_url(base: str, client_id: str, redirect_uri: str, scopes: list[str], state: str,
                  **extra: str) -> str:  # fmt: skip
    """An OAuth 2.0 authorization-code request to `base` (HubSpot's, Xero's)."""
    query = {"client_id": client_id, "redirect_uri": redirect_uri, "scope": " ".join(scopes)}
    return f"{base}?{urlencode(query | extra | {'state': state})}"
