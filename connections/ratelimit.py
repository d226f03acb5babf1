"""Provider rate limits kept across every worker process and machine, not per process.

Each limit is counted in fixed windows of half the provider's period in a database row per
(account, limit, window), incremented atomically (`UPDATE … SET count = count + 1`), so any
number of qcluster processes share one count. A rolling period touches at most three
half-windows, so each half-window admits a third of the provider's limit: never over it,
at two thirds of its throughput. QuickBooks' "10 requests at once" is a counter held for
the length of each call. A 429 that still arrives (another app on the same account) is
waited out by the retry policy.

The database is the one shared thing every deployment has (SQLite in the demo, PostgreSQL
in production); one extra indexed UPDATE per provider call is cheap next to the call.
"""

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.utils import timezone

from .providers import System


@dataclass(frozen=True)
class Limit:
    name: str
    calls: int
    period: float  # seconds

    @property
    def window(self) -> float:
        return self.period / 2

    @property
    def per_window(self) -> int:
        return max(1, math.floor(self.calls / 3))


LIMITS: dict[str, list[Limit]] = {
    System.QUICKBOOKS: [Limit("minute", 500, 60.0)],
    System.HUBSPOT: [Limit("ten_seconds", 100, 10.0)],
    # Jobber's request guard; its query-cost bucket is waited out by its client (THROTTLED).
    System.JOBBER: [Limit("five_minutes", 2500, 300.0)],
}
CONCURRENCY: dict[str, int] = {System.QUICKBOOKS: 10}
POLL = 0.05
SLOT_TTL = timedelta(minutes=2)  # a slot a killed worker held is given back after this


class RateWindow(models.Model):
    """Calls counted in one window of one limit of one account (see module docstring)."""

    key = models.CharField(max_length=120, unique=True)
    count = models.IntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        app_label = "connections"

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"


def _bump(key: str, expires_at, by: int = 1) -> int:
    """Add `by` to the row's count (creating it) and return the count after."""
    updated = RateWindow.objects.filter(key=key).update(count=F("count") + by)
    if not updated:
        try:
            with transaction.atomic():
                RateWindow.objects.create(key=key, count=by, expires_at=expires_at)
            return by
        except IntegrityError:  # another worker created it first
            RateWindow.objects.filter(key=key).update(count=F("count") + by)
    return RateWindow.objects.filter(key=key).values_list("count", flat=True).first() or 0


def _wait_for_window(system: str, account: str, limit: Limit) -> None:
    while True:
        now = time.time()
        index = int(now // limit.window)
        key = f"{system}:{account}:{limit.name}:{index}"
        expires = timezone.now() + timedelta(seconds=limit.period * 2)
        if _bump(key, expires) <= limit.per_window:
            return
        time.sleep(max(POLL, (index + 1) * limit.window - now))


@contextmanager
def slot(system: str, account: str) -> Iterator[None]:
    """Hold a place under every limit of this account for the length of one call."""
    for limit in LIMITS.get(system, []):
        _wait_for_window(system, account, limit)
    most = CONCURRENCY.get(system)
    key = f"{system}:{account}:concurrent"
    if most:
        while _bump(key, timezone.now() + SLOT_TTL) > most:
            _bump(key, timezone.now() + SLOT_TTL, -1)
            time.sleep(POLL)
    try:
        yield
    finally:
        if most:
            _bump(key, timezone.now() + SLOT_TTL, -1)
        if int(time.time()) % 60 == 0:  # now and then, forget windows long past
            RateWindow.objects.filter(expires_at__lt=timezone.now()).delete()
