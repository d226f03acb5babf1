"""Adapters against the sandbox over HTTP: records out, rate limits and 401s absorbed."""

import pytest
from hubspot import HubSpot
from hubspot.crm.companies import (
    BatchInputSimplePublicObjectBatchInputForCreate,
    SimplePublicObjectBatchInputForCreate,
)

from connections.adapters import accounting_adapter, crm_adapter
from connections.models import Connection
from sandbox.hubspot import ratelimit

from .sandbox.conftest import sandbox_db

pytestmark = sandbox_db


def create_companies(sandbox: str, connection: Connection, count: int) -> None:
    api = HubSpot(access_token=connection.access_token, host=f"{sandbox}/sandbox/hubspot")
    inputs = [
        SimplePublicObjectBatchInputForCreate(
            properties={"name": f"Builder {n:03}", "city": "Austin", "zip": "78701"}
        )
        for n in range(count)
    ]
    for start in range(0, count, 100):
        api.crm.companies.batch_api.create(
            BatchInputSimplePublicObjectBatchInputForCreate(inputs=inputs[start : start + 100])
        )


def test_it_pages_through_hubspot_companies(connected, sandbox):
    connection = connected("hubspot")
    create_companies(sandbox, connection, 130)
    adapter = crm_adapter(connection)
    first = adapter.companies()
    assert len(first.records) == 100 and first.next_cursor
    second = adapter.companies(first.next_cursor)
    assert len(second.records) == 30 and second.next_cursor is None
    names = {c.name for c in first.records + second.records}
    assert len(names) == 130
    assert first.records[0].address.city == "Austin"
    connection.refresh_from_db()
    assert connection.last_success_at is not None


def test_it_reads_changed_companies_past_the_search_window(connected, sandbox, monkeypatch):
    """HubSpot's search pages stop at 10,000 results; the adapter starts a new search from
    the last modification time it saw. With the window shrunk to 400, 530 changed companies
    all come back."""
    from datetime import UTC, datetime, timedelta

    from connections.hubspot import adapter as hubspot_adapter

    connection = connected("hubspot")
    since = datetime.now(UTC) - timedelta(minutes=1)
    create_companies(sandbox, connection, 530)
    monkeypatch.setattr(hubspot_adapter, "SEARCH_WINDOW", 400)
    found = crm_adapter(connection).records_changed_since("companies", since)
    assert len({r.external_id for r in found}) == 530
    assert crm_adapter(connection).records_changed_since("companies", datetime.now(UTC)) == []


def test_it_waits_out_hubspot_rate_limits(connected, sandbox, monkeypatch):
    connection = connected("hubspot")
    monkeypatch.setattr(ratelimit, "TEN_SECOND_MAX", 2)
    monkeypatch.setattr(ratelimit, "TEN_SECOND_WINDOW", 0.5)
    adapter = crm_adapter(connection)
    for _ in range(6):  # three times the limit: some calls are answered 429 and retried
        assert adapter.companies().records == []


def test_it_refreshes_after_a_401_and_carries_on(connected, sandbox):
    connection = connected("hubspot")
    Connection.objects.filter(pk=connection.pk).update(access_token="revoked-by-provider")
    connection.refresh_from_db()
    assert crm_adapter(connection).companies().records == []
    connection.refresh_from_db()
    assert connection.access_token != "revoked-by-provider"


def test_it_reads_the_hubspot_account(connected, sandbox):
    connection = connected("hubspot")
    info = crm_adapter(connection).account_info()
    assert info.external_id == connection.external_id


def test_it_refuses_the_wrong_kind_of_adapter(connected, sandbox):
    with pytest.raises(ValueError, match="not an accounting system"):
        accounting_adapter(connected("hubspot"))


def test_it_pages_through_quickbooks_customers(connected, sandbox, monkeypatch):
    from quickbooks.batch import batch_create
    from quickbooks.objects.customer import Customer as QboCustomer

    from connections.quickbooks import adapter as qbo_adapter

    connection = connected("quickbooks")
    monkeypatch.setattr(qbo_adapter, "PAGE_SIZE", 20)
    adapter = accounting_adapter(connection)
    qb, _ = adapter._client()
    customers = []
    for n in range(25):
        c = QboCustomer()
        c.DisplayName = f"Homeowner {n:02}"
        c.PrimaryEmailAddr = {"Address": f"owner{n}@example.test"}
        customers.append(c)
    batch_create(customers, qb=qb)
    first = adapter.customers()
    second = adapter.customers(first.next_cursor)
    assert len(first.records) == 20 and len(second.records) == 5
    assert second.next_cursor is None
    record = first.records[0]
    assert record.display_name == "Homeowner 00" and record.email == "owner0@example.test"
    assert record.balance is not None and record.balance.currency == "USD"
    assert adapter.account_info().name == "Books"


def test_it_waits_out_quickbooks_throttling(connected, sandbox, settings):
    import requests

    connection = connected("quickbooks")
    requests.put(
        f"{sandbox}/sandbox/control/faults",
        json={"system": "quickbooks", "account": connection.external_id, "throttle": True},
        timeout=10,
    ).raise_for_status()
    adapter = accounting_adapter(connection)
    for _ in range(4):  # the sandbox answers 429 in bursts; every call still succeeds
        assert adapter.customers().records == []


def test_intuits_discovery_document_is_read_once_an_hour_not_once_a_call(connected, monkeypatch):
    """intuit-oauth reads it in every constructor; a sync makes one per QuickBooks call.
    Counted where the client asks for it: the second and third calls ask nobody."""
    import requests

    from connections.quickbooks import oauth

    adapter = accounting_adapter(connected("quickbooks"))
    oauth._discovery.clear()
    asked = []
    get = requests.Session.get

    def counting(self, url, **kwargs):
        if url.endswith("openid_configuration"):
            asked.append(url)
        return get(self, url, **kwargs)

    monkeypatch.setattr(requests.Session, "get", counting)
    for _ in range(3):
        assert adapter.account_info().name
    assert len(asked) == 1
    monkeypatch.setattr(oauth, "DISCOVERY_KEPT", 0.0)  # an hour later: read again
    adapter.account_info()
    assert len(asked) == 2
