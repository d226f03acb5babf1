"""Provider rate limits held across workers: counted in the database, not in one process.

Threads stand in for worker processes here (each has its own database connection; nothing
in `connections.ratelimit` is per process). The sandbox enforces HubSpot's rolling limit,
shrunk to 6 calls a second so the test is quick."""

import threading

import requests
from django.db import connection as db_connection

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
