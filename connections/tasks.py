"""Background work for connections (django-q2): keeping tokens fresh."""

from .refresh import refresh_expiring_tokens


def refresh_tokens() -> int:
    """Scheduled every 10 minutes (see the migration that creates the schedule)."""
    return refresh_expiring_tokens()
