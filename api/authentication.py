"""`Authorization: Token <key>` against our hashed, expiring tokens (replaces DRF's authtoken,
which stored keys in plain text, never expired and ignored the firm's 2FA policy)."""

from datetime import timedelta

from django.utils import timezone
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from clients.mfa import MFA_MISSING, lacks_required_mfa

from .models import ApiToken
from .tokens import token_for_key

# `last_used_at` is written at most this often per token: a busy script should not turn
# every read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiTokenAuthentication(TokenAuthentication):
    """DRF's header parsing (keyword `Token`), our lookup."""

    def authenticate_credentials(self, key: str):
        token = token_for_key(key)
        if token is None or token.revoked_at is not None:
            raise AuthenticationFailed("Invalid or revoked token.")
        now = timezone.now()
        if token.expires_at <= now:
            raise AuthenticationFailed("This token has expired; create a new one.")
        if not token.user.is_active:
            raise AuthenticationFailed("User inactive or deleted.")
        if lacks_required_mfa(token.user):
            raise AuthenticationFailed(MFA_MISSING)
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token
