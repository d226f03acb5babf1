"""syncfirm's own app at each provider, checked now and then for what a client's health
needs and no client's calls would show: HubSpot's webhook subscriptions belong to the app,
not to a portal, so one paused there silences every HubSpot client. QuickBooks, Xero and
Jobber keep webhook settings in their developer portals with no API to read; for them the
scheduled pull's missed-webhooks check is what tells.

One `AppCheck` row per provider, at most once a `CHECK_EVERY`, while any client is connected
to it. A check that fails keeps the last gaps and says why in `error`: a quiet check is no
all-clear.
"""

import logging
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from .models import BOUND_STATUSES, AppCheck, Connection
from .providers import System

log = logging.getLogger(__name__)

CHECK_EVERY = timedelta(hours=1)


def _hubspot_gaps() -> list[str]:
    from .hubspot.subscriptions import subscription_gaps

    return subscription_gaps()


def _hubspot_configured() -> bool:
    return bool(settings.HUBSPOT_DEVELOPER_API_KEY and settings.HUBSPOT_APP_ID)


# system → (is the app's key configured, what it lacks in words, how it is mended)
CHECKS: dict[str, tuple[Callable[[], bool], Callable[[], list[str]], str]] = {
    System.HUBSPOT: (
        _hubspot_configured,
        _hubspot_gaps,
        "Nothing to mend from the client's side: whoever runs syncfirm for the firm "
        "subscribes it again (manage.py hubspot_subscriptions).",
    ),
}


def check_apps(now=None) -> list[AppCheck]:
    """Each provider's app checked, when due; the rows as they stand."""
    now = now or timezone.now()
    rows = []
    for system, (configured, gaps, _) in CHECKS.items():
        if not configured():
            continue
        if not Connection.objects.filter(system=system, status__in=BOUND_STATUSES).exists():
            continue
        row, new = AppCheck.objects.get_or_create(system=system, defaults={"checked_at": now})
        if new or now - row.checked_at >= CHECK_EVERY:
            try:
                row.gaps, row.error = gaps(), ""
            except Exception as error:  # a read; its failure is told, not raised
                log.warning("%s app check failed: %r", system, error)
                row.error = f"{type(error).__name__}: {error}"[:500]
            row.checked_at = now
            row.save()
        rows.append(row)
    return rows


def app_gaps(system: str) -> tuple[tuple[str, ...], str]:
    """What the provider's app lacks, in words, and how it is mended; nothing when unknown."""
    row = AppCheck.objects.filter(system=system).first()
    if row is None or not row.gaps or system not in CHECKS:
        return (), ""
    return tuple(row.gaps), CHECKS[system][2]
