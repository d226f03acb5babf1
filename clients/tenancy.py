"""The firm-scoping mechanism every view and API endpoint goes through.

- `CurrentFirmMiddleware` puts the user's chosen firm on the request.
- `member_required` guards a view: logged in, member of a firm, with at least a role.
- `get_for_firm` / `get_client_for_member` fetch tenant rows through `for_firm`, so another
  firm's id or slug is a 404, never its data.
"""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect

from .models import Client, Membership, Role

SESSION_FIRM_KEY = "firm_id"


def memberships_of(user) -> list[Membership]:
    return list(Membership.objects.filter(user=user).select_related("firm").order_by("firm__name"))


def member_required(
    minimum_role: str = Role.VIEWER,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Decorate a view that needs a logged-in member of the current firm with a role.

    Anonymous users go to the login page; users with no firm go to firm creation; members
    whose role is too low get 403.
    """

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if request.firm is None:
                return redirect("firm_create")
            if not request.membership.has_role(minimum_role):
                raise PermissionDenied("Your role in this firm does not allow this.")
            return view(request, *args, **kwargs)

        wrapper.minimum_role = minimum_role
        return wrapper

    return decorator


def get_for_firm[M: Model](request: HttpRequest, model: type[M], **lookup) -> M:
    """One row of a tenant model, only if it belongs to the request's firm; else 404."""
    return get_object_or_404(model.objects.for_firm(request.firm), **lookup)


def get_client_for_member(request: HttpRequest, client_slug: str) -> Client:
    return get_for_firm(request, Client, slug=client_slug)
