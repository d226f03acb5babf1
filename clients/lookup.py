"""Finding a client by slug from the command line, where no firm is logged in."""

from django.core.management.base import CommandError

from .models import Client


def client_from_slug(slug: str, firm: str | None = None) -> Client:
    """The one client with this slug (in `firm`, when given); a clear error otherwise."""
    clients = Client.objects.filter(slug=slug)
    if firm:
        clients = clients.filter(firm__slug=firm)
    count = clients.count()
    if count == 0:
        raise CommandError(
            f"No client has the slug {slug!r}" + (f" in firm {firm!r}." if firm else ".")
        )
    if count > 1:
        raise CommandError(f"{count} clients have the slug {slug!r}; name the firm with --firm.")
    return clients.get()
