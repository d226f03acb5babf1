"""Which firm an API request acts for, and what the caller's role there allows.

Pages take the firm from the session; a token has no session, so the API takes it from the
`X-Firm` header (a firm slug) and, when absent, from the caller's only membership."""

from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import SAFE_METHODS, BasePermission

from clients.models import Membership, Role


def membership_for(request) -> Membership:
    cached = getattr(request, "_api_membership", None)
    if cached is not None:
        return cached
    memberships = Membership.objects.filter(user=request.user).select_related("firm")
    slug = request.headers.get("X-Firm", "").strip()
    if slug:
        found = memberships.filter(firm__slug=slug).first()
        if found is None:
            raise NotFound(f"You are not a member of a firm {slug!r}.")
    else:
        found_all = list(memberships[:2])
        if not found_all:
            raise NotFound("You are not a member of any firm.")
        if len(found_all) > 1:
            raise ValidationError({"X-Firm": "You belong to several firms: name one (its slug)."})
        found = found_all[0]
    request._api_membership = found
    return found


class FirmRole(BasePermission):
    """Read for every member; writes need `write_role` (accountant unless a view says)."""

    def has_permission(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        membership = membership_for(request)
        needed = Role.VIEWER if request.method in SAFE_METHODS else getattr(
            view, "write_role", Role.ACCOUNTANT
        )  # fmt: skip
        return membership.has_role(needed)
