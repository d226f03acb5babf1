"""A firm may require two-factor authentication of its staff (or of its owners and admins).

Someone a firm requires it of, and who has no authenticator app set up yet, is sent to set
one up before any page of the app (`RequireMfaMiddleware`), and their API tokens are
refused (`api.authentication`). Recovery codes alone do not count: they come with TOTP.
"""

from collections.abc import Callable, Iterable

from allauth.mfa.models import Authenticator
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from .models import Membership

MFA_MISSING = (
    "Your firm requires two-factor authentication. Set up an authenticator app to continue."
)


def has_totp(user) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def lacks_required_mfa(user, memberships: Iterable[Membership] | None = None) -> bool:
    """True when any of the user's firms requires 2FA of them and they have none."""
    if memberships is None:
        memberships = Membership.objects.filter(user=user).select_related("firm")
    return any(m.needs_mfa for m in memberships) and not has_totp(user)


# Paths a person without the required 2FA may still reach: setting it up (which asks for
# the password again), logging out, and the files pages need.
ALLOWED_PREFIXES = ("/accounts/2fa/", "/accounts/reauthenticate/", "/accounts/logout/")


class RequireMfaMiddleware:
    """After `CurrentFirmMiddleware`: sends a member who must have 2FA to set it up."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.user.is_authenticated
            and request.memberships
            and not self._allowed(request.path)
            and lacks_required_mfa(request.user, request.memberships)
        ):
            if request.method == "GET" and not getattr(request, "htmx", False):
                messages.warning(request, MFA_MISSING)
            response = redirect("mfa_activate_totp")
            if getattr(request, "htmx", False):
                response["HX-Redirect"] = reverse("mfa_activate_totp")
            return response
        return self.get_response(request)

    @staticmethod
    def _allowed(path: str) -> bool:
        from django.conf import settings

        return path.startswith(ALLOWED_PREFIXES) or path.startswith(
            "/" + settings.STATIC_URL.lstrip("/")
        )


# Where each kind of authenticator keeps the secret that MFAAdapter encrypts.
SECRET_FIELDS = {Authenticator.Type.TOTP: "secret", Authenticator.Type.RECOVERY_CODES: "seed"}


def reencrypt_mfa_secrets() -> int:
    """Every stored 2FA secret encrypted again under the first FIELD_ENCRYPTION_KEYS key
    (part of `rotate_encryption_keys`); returns how many authenticators were rewritten."""
    from .adapters import MFAAdapter

    adapter, count = MFAAdapter(), 0
    for authenticator in Authenticator.objects.select_for_update().filter(type__in=SECRET_FIELDS):
        field = SECRET_FIELDS[authenticator.type]
        if authenticator.data.get(field):
            authenticator.data[field] = adapter.encrypt(adapter.decrypt(authenticator.data[field]))
            authenticator.save(update_fields=["data"])
            count += 1
    return count
