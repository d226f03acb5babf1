"""Provider rate limits held across workers: counted in the database, not in one process.

Threads stand in for worker processes here (each has its own database connection; nothing
in `connections.ratelimit` is per process). The sandbox enforces HubSpot's rolling limit,
shrunk to 6 calls a second so the test is quick."""

import random
import threading
import time
from datetime import timedelta

import pytest
import requests
from django.db import connection as db_connection
from django.utils import timezone

from connections import ratelimit
from connections.adapters import crm_adapter
from sandbox.hubspot import ratelimit as sandbox_limits

from .sandbox.conftest import sandbox_db

pytestmark = sandbox_db


def hammer(connection, workers: int = 4, calls: int = 4) -> list[Exception]:
    errors = []

    def work():
        try:
            for _ in range(calls):
                crm_adapter(connection).companies()
        except Exception as error:
            errors.append(error)
        finally:
            db_connection.close()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def throttled(sandbox: str, portal: str) -> int:
    log = requests.delete(
        f"{sandbox}/sandbox/control/requests",
        params={"system": "hubspot", "account": portal},
        timeout=10,
    ).json()["requests"]
    return sum(r["count"] for r in log if r["status"] == 429)


def test_four_workers_stay_under_the_providers_limit_together(connected, sandbox, monkeypatch):
    monkeypatch.setattr(sandbox_limits, "TEN_SECOND_MAX", 6)
    monkeypatch.setattr(sandbox_limits, "TEN_SECOND_WINDOW", 1.0)
    connection = connected("hubspot")
    throttled(sandbox, connection.external_id)
    monkeypatch.setattr(ratelimit, "LIMITS", {"hubspot": [ratelimit.Limit("second", 6, 1.0)]})
    # The consent flow's own calls, a moment ago, are the portal's too: let them age out of
    # the emulator's rolling second, so only the workers' calls meet its limit.
    time.sleep(1.1)

    assert hammer(connection) == []
    assert throttled(sandbox, connection.external_id) == 0


def test_without_the_shared_count_the_same_load_is_throttled(connected, sandbox, monkeypatch):
    """The check above can fail: per-process counting (here: none) meets 429s."""
    monkeypatch.setattr(sandbox_limits, "TEN_SECOND_MAX", 6)
    monkeypatch.setattr(sandbox_limits, "TEN_SECOND_WINDOW", 1.0)
    monkeypatch.setattr("connections.retries._wait", lambda state: 0.2)
    connection = connected("hubspot")
    throttled(sandbox, connection.external_id)
    monkeypatch.setattr(ratelimit, "LIMITS", {})

    hammer(connection)
    assert throttled(sandbox, connection.external_id) > 0


def test_a_spent_daily_allowance_stops_calls_at_once_saying_when_they_resume(db, monkeypatch):
    """Not waited out inside a run (that would hold a worker for hours): refused in words,
    and the usage health reads counts every call."""
    daily = ratelimit.Limit("day", 3, 86_400.0, buckets=24, words="a day")
    monkeypatch.setattr(ratelimit, "LIMITS", {"xero": [daily]})
    for _ in range(3):
        with ratelimit.slot("xero", "org-1"):
            pass
    (use,) = ratelimit.usage("xero", "org-1")
    assert (use.used, use.limit.calls) == (3, 3)
    with pytest.raises(ratelimit.QuotaSpent) as spent, ratelimit.slot("xero", "org-1"):
        pass
    assert "the 3 calls a day this account allows are used up; calls resume in about" in str(
        spent.value
    )
    assert spent.value.resumes_at > timezone.now() + timedelta(minutes=1)
    assert ratelimit.usage("xero", "org-1")[0].used == 3  # the refused call is not counted
    with ratelimit.slot("xero", "org-2"):  # another organisation's allowance is its own
        pass


def test_a_rolling_limit_is_never_exceeded_by_calls_spread_over_its_windows(db, monkeypatch):
    """Calls made in every window of the period, then more: none beyond the limit is admitted
    while the period still holds them (counts read back from the shared table)."""
    clock = [1_000_000.0]
    monkeypatch.setattr(ratelimit, "_clock", lambda: clock[0])
    monkeypatch.setattr(ratelimit, "_sleep", lambda wait: clock.__setitem__(0, clock[0] + wait))
    limit = ratelimit.Limit("minute", 12, 60.0, buckets=6, words="a minute")
    monkeypatch.setattr(ratelimit, "LIMITS", {"quickbooks": [limit]})
    admitted, gaps = [], random.Random(5)  # noqa: S311 - test data
    for _ in range(200):
        with ratelimit.slot("quickbooks", "realm-1"):
            admitted.append(clock[0])
        clock[0] += gaps.choice([0.01, 0.01, 0.01, 3.0, 9.99, 25.0])
    for n, at in enumerate(admitted):
        in_minute = [t for t in admitted if at <= t < at + 60]
        assert len(in_minute) <= 12, (n, len(in_minute))
