"""A client's integration health changed (degraded, broken, resolved): the staff who were
emailed get the same news as a notice, linked to the client's health section."""

from django.urls import reverse

from clients.models import User

from .actions import notify


def tell_health(sender=None, *, client, emails: list[str], text: str, **kwargs) -> None:
    """The receiver of `sync.signals.health_told`."""
    notify(
        client.firm,
        User.objects.filter(email__in=emails),
        text,
        link=reverse("client_detail", args=[client.slug]) + "#health-title",
        timezone_name=client.timezone,
    )
