"""Creating, revoking and checking personal API tokens (writes audited in every firm the
person belongs to, since a token may act for any of them)."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from clients.actions import audit
from clients.mfa import MFA_MISSING, lacks_required_mfa
from clients.models import Membership, User

from .models import ApiToken, hash_key, new_key

MAX_DAYS = 365


def _audit_everywhere(user: User, action: str, token: ApiToken, before, after) -> None:
    for membership in Membership.objects.filter(user=user).select_related("firm"):
        audit(membership.firm, user, action, token, before, after)


@transaction.atomic
def do_create_api_token(user: User, name: str, days: int | None = None) -> tuple[ApiToken, str]:
    """A new token and its key; the key exists only in this return value."""
    if lacks_required_mfa(user):
        raise PermissionDenied(MFA_MISSING)
    lifetime = ApiToken.lifetime(days)
    if not 1 <= lifetime.days <= MAX_DAYS:
        raise ValidationError(f"A token lasts between 1 and {MAX_DAYS} days.")
    key, prefix = new_key()
    token = ApiToken.objects.create(
        user=user,
        name=name.strip() or "API token",
        prefix=prefix,
        key_hash=hash_key(key),
        expires_at=timezone.now() + lifetime,
    )
    after = {"name": token.name, "prefix": prefix, "expires_at": token.expires_at.isoformat()}
    _audit_everywhere(user, "api_token.create", token, None, after)
    return token, key


@transaction.atomic
def do_revoke_api_token(user: User, token: ApiToken) -> None:
    if token.user_id != user.pk:
        raise PermissionDenied("That is not your token.")
    if token.revoked_at is not None:
        return
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    _audit_everywhere(user, "api_token.revoke", token, {"name": token.name}, None)


def token_for_key(key: str) -> ApiToken | None:
    """The token a presented key stands for, whatever its state (callers say why not)."""
    return ApiToken.objects.select_related("user").filter(key_hash=hash_key(key)).first()
