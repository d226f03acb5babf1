"""Tokens refresh before they expire, exactly once however many workers ask at once, and a
refused refresh is shown and emailed once — never silent."""

import threading
from datetime import timedelta

import pytest
import requests
from django.core import mail
from django.db import connections as db_connections
from django.urls import reverse
from django.utils import timezone

from connections.models import Connection, Status
from connections.refresh import ConnectionUnusable, access_token_for, refresh_expiring_tokens

from .sandbox.conftest import sandbox_db

pytestmark = sandbox_db
SYSTEMS = ["quickbooks", "hubspot", "xero", "jobber"]


def token_calls(sandbox: str, system: str) -> int:
    log = requests.get(f"{sandbox}/sandbox/control/requests", params={"system": system}, timeout=10)
    log.raise_for_status()
    rows = log.json()["requests"]
    return sum(r["count"] for r in rows if r["method"] == "POST" and "token" in r["route"])


def expire(connection: Connection) -> None:
    Connection.objects.filter(pk=connection.pk).update(
        access_expires_at=timezone.now() - timedelta(seconds=1)
    )


@pytest.mark.parametrize("system", SYSTEMS)
def test_it_refreshes_exactly_once_for_twenty_threads(connected, sandbox, system):
    connection = connected(system)
    expire(connection)
    before = token_calls(sandbox, system)
    tokens, errors = [], []
    barrier = threading.Barrier(20)

    def worker() -> None:
        try:
            barrier.wait()
            tokens.append(access_token_for(Connection.objects.get(pk=connection.pk)))
        except Exception as error:  # collected and asserted below
            errors.append(error)
        finally:
            db_connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert len(tokens) == 20 and len(set(tokens)) == 1, "everyone got the one new token"
    assert token_calls(sandbox, system) - before == 1, "exactly one refresh call"


@pytest.mark.parametrize("system", SYSTEMS)
def test_it_refreshes_on_schedule_before_expiry(connected, sandbox, system):
    connection = connected(system)
    Connection.objects.filter(pk=connection.pk).update(
        access_expires_at=timezone.now() + timedelta(minutes=3)
    )
    assert refresh_expiring_tokens() == 1
    connection.refresh_from_db()
    assert connection.access_expires_at > timezone.now() + timedelta(minutes=20)


@pytest.mark.parametrize("system", SYSTEMS)
def test_it_marks_a_refused_refresh_and_emails_staff_once(
    client, connected, two_firms, sandbox, system
):
    connection = connected(system)
    from connections.flows import flow_for

    flow_for(system).revoke(connection.refresh_token)  # the contractor revoked the app
    expire(connection)
    for _ in range(2):
        with pytest.raises(ConnectionUnusable):
            access_token_for(Connection.objects.get(pk=connection.pk))
    connection.refresh_from_db()
    assert connection.status == Status.NEEDS_REAUTH
    assert "refused" in connection.last_error
    assert len(mail.outbox) == 1, "one email, not one per attempt"
    assert mail.outbox[0].to == ["accountant@alpha.test"]
    assert "needs to be reconnected" in mail.outbox[0].subject
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert "Needs re-authorisation" in dashboard
