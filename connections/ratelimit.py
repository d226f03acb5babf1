"""Provider rate limits kept across every worker process and machine, not per process.

Each limit's period is counted in `buckets` fixed windows, a database row per (account,
limit, window), incremented atomically (`UPDATE … SET count = count + 1`), so any number of
qcluster processes share one count. A rolling period touches at most `buckets + 1` windows,
so a call is admitted only while those windows (and the ones a call in flight may still be
counted in) together hold no more than the limit: never over it, rolling or fixed (Xero's
fixed windows start at a time we cannot know), at about `buckets / (buckets + 2)` of its
throughput. QuickBooks' "10 requests at once" and Xero's 5
are a counter held for the length of each call. A 429 that still arrives (another app on
the same account) is waited out by the retry policy.

A daily quota (Xero's 5,000 calls a day) is not waited out inside a call: when it is spent
the call fails at once with `QuotaSpent`, saying when calls resume, and `usage` lets health
warn before then.

The database is the one shared thing every deployment has (SQLite in the demo, PostgreSQL
in production); one extra indexed UPDATE and one read per provider call are cheap next to
the call.
"""

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.utils import timezone

from .providers import System
from .retries import ProviderError


@dataclass(frozen=True)
class Limit:
    name: str
    calls: int
    period: float  # seconds
    buckets: int = 6  # windows the period is counted in
    words: str = ""  # "a minute", "a day"

    @property
    def window(self) -> float:
        return self.period / self.buckets

    @property
    def daily(self) -> bool:
        return self.period >= 86_400


LIMITS: dict[str, list[Limit]] = {
    System.QUICKBOOKS: [Limit("minute", 500, 60.0, words="a minute")],
    System.HUBSPOT: [Limit("ten_seconds", 100, 10.0, buckets=5, words="in 10 seconds")],
    # Jobber's request guard; its query-cost bucket is waited out by its client (THROTTLED).
    System.JOBBER: [Limit("five_minutes", 2500, 300.0, buckets=5, words="in 5 minutes")],
    # Per organisation (api-facts C10); Starter-tier apps get 1,000 a day, not 5,000.
    System.XERO: [
        Limit("minute", 60, 60.0, words="a minute"),
        Limit("day", 5000, 86_400.0, buckets=24, words="a day"),
    ],
}
CONCURRENCY: dict[str, int] = {System.QUICKBOOKS: 10, System.XERO: 5}
POLL = 0.05
IN_FLIGHT = 0.5  # seconds a call may take from admission to the provider counting it
LONGEST_WAIT = 60.0  # seconds a call waits for a daily allowance inside a run; longer: QuotaSpent
SLOT_TTL = timedelta(minutes=2)  # a slot a killed worker held is given back after this


class QuotaSpent(ProviderError):
    """The account's allowance is used up for longer than a run should wait: said, not
    retried; `resumes_at` is when calls are admitted again."""

    def __init__(self, message: str, resumes_at: datetime):
        super().__init__(message, code="quota")
        self.resumes_at = resumes_at


@dataclass(frozen=True)
class Usage:
    limit: Limit
    used: int  # calls counted in the last period

    @property
    def share(self) -> float:
        return self.used / self.limit.calls


class RateWindow(models.Model):
    """Calls counted in one window of one limit of one account (see module docstring)."""

    key = models.CharField(max_length=120, unique=True)
    count = models.IntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        app_label = "connections"

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"


def _bump(key: str, expires_at, by: int = 1, *, read: bool = True) -> int | None:
    """Add `by` to the row's count (creating it) and return the count after, or None when
    not `read` (every call passes here: the read is one query more than a window needs)."""
    updated = RateWindow.objects.filter(key=key).update(count=F("count") + by)
    if not updated:
        try:
            with transaction.atomic():
                RateWindow.objects.create(key=key, count=by, expires_at=expires_at)
            return by
        except IntegrityError:  # another worker created it first
            RateWindow.objects.filter(key=key).update(count=F("count") + by)
    if not read:
        return None
    return RateWindow.objects.filter(key=key).values_list("count", flat=True).first() or 0


def _clock() -> float:
    return time.time()


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


def _keys(system: str, account: str, limit: Limit, index: int) -> list[str]:
    """The windows a rolling period ending in window `index` may touch, oldest first, and
    as many more as cover a call's way to the provider (admitted here, counted there a
    moment later: without them a loaded machine saw 7 calls in a rolling second of 6)."""
    first = index - limit.buckets - math.ceil(IN_FLIGHT / limit.window)
    return [f"{system}:{account}:{limit.name}:{n}" for n in range(first, index + 1)]


def _counts(keys: list[str]) -> list[int]:
    found = dict(RateWindow.objects.filter(key__in=keys).values_list("key", "count"))
    return [found.get(key, 0) for key in keys]


def _wait_for_window(system: str, account: str, limit: Limit) -> None:
    while True:
        now = _clock()
        index = int(now // limit.window)
        keys = _keys(system, account, limit, index)
        expires = timezone.now() + timedelta(seconds=limit.period * 2)
        _bump(keys[-1], expires, read=False)
        counts = _counts(keys)
        if sum(counts) <= limit.calls:
            return
        _bump(keys[-1], expires, -1, read=False)
        # The oldest windows leave the period one by one (counts[n] at the start of window
        # index + n + 1): wait until enough calls have left with them.
        over, leaves = sum(counts) - limit.calls, index + 1
        for n, count in enumerate(counts[:-1]):
            over -= count
            leaves = index + n + 1
            if over <= 0:
                break
        wait = max(POLL, leaves * limit.window - now)
        if limit.daily and wait > LONGEST_WAIT:
            resumes = timezone.now() + timedelta(seconds=wait)
            raise QuotaSpent(
                f"the {limit.calls:,} calls {limit.words} this account allows are used up; "
                f"calls resume in about {math.ceil(wait / 60)} minutes",
                resumes,
            )
        _sleep(wait)


def usage(system: str, account: str) -> list[Usage]:
    """Calls counted against each of the account's limits over its last period."""
    found = []
    for limit in LIMITS.get(system, []):
        index = int(_clock() // limit.window)
        keys = _keys(system, account, limit, index)[-limit.buckets :]  # the period only
        found.append(Usage(limit, sum(_counts(keys))))
    return found


@contextmanager
def slot(system: str, account: str) -> Iterator[None]:
    """Hold a place under every limit of this account for the length of one call."""
    for limit in LIMITS.get(system, []):
        _wait_for_window(system, account, limit)
    most = CONCURRENCY.get(system)
    key = f"{system}:{account}:concurrent"
    if most:
        while (_bump(key, timezone.now() + SLOT_TTL) or 0) > most:
            _bump(key, timezone.now() + SLOT_TTL, -1, read=False)
            time.sleep(POLL)
    try:
        yield
    finally:
        if most:
            _bump(key, timezone.now() + SLOT_TTL, -1, read=False)
        if int(time.time()) % 60 == 0:  # now and then, forget windows long past
            RateWindow.objects.filter(expires_at__lt=timezone.now()).delete()
