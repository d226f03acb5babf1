from django.conf import settings
from django.http import HttpRequest


def firm(request: HttpRequest) -> dict:
    """The current firm and membership for the navigation bar."""
    return {
        "current_firm": getattr(request, "firm", None),
        "current_membership": getattr(request, "membership", None),
        "user_memberships": getattr(request, "memberships", []),
        # The demo's providers are the sandbox's: its page stands in for their screens.
        "sandbox_on": settings.SANDBOX,
    }
