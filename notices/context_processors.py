from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from .actions import unread


def notices(request: HttpRequest) -> dict:
    """How many unread notices the person has in the current firm, counted only when a page
    shows it (the header)."""
    firm = getattr(request, "firm", None)
    user = getattr(request, "user", None)
    if firm is None or user is None or not user.is_authenticated:
        return {"unread_notices": 0}
    return {"unread_notices": SimpleLazyObject(lambda: unread(firm, user).count())}
