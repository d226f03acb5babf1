"""A connection's last answered call, as health reads it: never left reading "failing" after
a call answered."""

import pytest

from connections import retries
from connections.calls import call_for_connection
from connections.models import Connection

from .factories import ConnectionFactory

pytestmark = pytest.mark.django_db


def test_a_call_that_answers_after_a_failure_reads_answered_at_once(monkeypatch):
    monkeypatch.setattr(retries, "_wait", lambda state: 0)
    connection = ConnectionFactory(system="hubspot")
    call_for_connection(connection, lambda: "ok", "read deals")

    def refused():
        raise retries.Transient("502 from HubSpot")

    with pytest.raises(retries.ProviderError):
        call_for_connection(connection, refused, "read deals", attempts=1)
    call_for_connection(connection, lambda: "ok", "read deals")

    stamps = Connection.objects.get(pk=connection.pk)
    assert stamps.last_error_at is not None
    assert stamps.last_success_at >= stamps.last_error_at
