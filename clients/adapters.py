from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from django.http import HttpRequest
from django.urls import reverse

from syncfirm import crypto

# The same marker as serialized OAuth tokens: Fernet ciphertext follows.
MFA_SECRET_PREFIX = crypto.SERIALIZED_PREFIX


class AccountAdapter(DefaultAccountAdapter):
    """After login, people without a firm are sent to create one (or accept an invitation)."""

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        url = super().get_login_redirect_url(request)
        if url == reverse("dashboard") and not request.user.memberships.exists():
            return reverse("firm_create")
        return url


class MFAAdapter(DefaultMFAAdapter):
    """TOTP secrets and recovery-code seeds encrypted at rest with FIELD_ENCRYPTION_KEYS
    (allauth stores them in the clear unless told otherwise). A value stored before this
    had no marker and is read as it is, so existing authenticators keep working."""

    def encrypt(self, text: str) -> str:
        return MFA_SECRET_PREFIX + crypto.encrypt(text)

    def decrypt(self, encrypted_text: str) -> str:
        if encrypted_text.startswith(MFA_SECRET_PREFIX):
            return crypto.decrypt(encrypted_text.removeprefix(MFA_SECRET_PREFIX))
        return encrypted_text
