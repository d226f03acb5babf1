from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest
from django.urls import reverse


class AccountAdapter(DefaultAccountAdapter):
    """After login, people without a firm are sent to create one (or accept an invitation)."""

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        url = super().get_login_redirect_url(request)
        if url == reverse("dashboard") and not request.user.memberships.exists():
            return reverse("firm_create")
        return url
