from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .tenancy import SESSION_FIRM_KEY, memberships_of


class CurrentFirmMiddleware:
    """Sets `request.firm` and `request.membership` from the session's chosen firm.

    A firm id in the session that the user is no longer a member of is ignored, so a
    removed member loses access at their next request.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.firm = None
        request.membership = None
        request.memberships = []
        if request.user.is_authenticated:
            memberships = memberships_of(request.user)
            request.memberships = memberships
            chosen = request.session.get(SESSION_FIRM_KEY)
            current = next((m for m in memberships if m.firm_id == chosen), None)
            current = current or (memberships[0] if memberships else None)
            if current is not None:
                request.firm = current.firm
                request.membership = current
        return self.get_response(request)
