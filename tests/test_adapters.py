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


def _hubspot_calls(connection: Connection, word: str) -> int:
    from sandbox import emulation

    rows = emulation.request_log("hubspot", connection.external_id)
    return sum(r["count"] for r in rows if word in r["route"])


def test_deals_listed_with_their_links_are_read_without_reading_the_links_again(connected, sandbox):
    """A month-end lists every deal: their line items, companies and contacts come with the
    listing, so the deals are read whole in one line-item read, with no association call;
    a deal read afresh (or changed since the listing) has its links read as before."""
    from sandbox import emulation

    from .sync_support import DEAL_TO_COMPANY, DEAL_TO_CONTACT, LINE_ITEM_TO_DEAL, _to

    connection = connected("hubspot")
    api = HubSpot(access_token=connection.access_token, host=f"{sandbox}/sandbox/hubspot")
    company = api.crm.companies.basic_api.create({"properties": {"name": "Cedar Roofing"}}).id
    contact = api.crm.contacts.basic_api.create({"properties": {"email": "a@cedar.test"}}).id
    deals = {}
    for n, lines in enumerate([1, 3, 0]):
        links = [_to(company, DEAL_TO_COMPANY)] + ([_to(contact, DEAL_TO_CONTACT)] if n else [])
        deal = api.crm.deals.basic_api.create(
            {"properties": {"dealname": f"Roof {n}", "amount": "100"}, "associations": links}
        ).id
        api.crm.line_items.batch_api.create(
            {
                "inputs": [
                    {
                        "properties": {"name": f"Shingles {k}", "quantity": "1", "price": "10"},
                        "associations": [_to(deal, LINE_ITEM_TO_DEAL)],
                    }
                    for k in range(lines)
                ]
            }
        ) if lines else None
        deals[deal] = lines
    emulation.request_log("hubspot", connection.external_id, clear=True)

    adapter = crm_adapter(connection)
    listed = adapter.records("deals").records
    read = {d.external_id: d for d in adapter.deals(listed)}
    assert {i: len(d.lines) for i, d in read.items()} == deals
    assert all(d.company_ids == (company,) for d in read.values())
    assert sorted(len(d.contact_ids) for d in read.values()) == [0, 1, 1]
    assert _hubspot_calls(connection, "associations") == 0
    assert _hubspot_calls(connection, "objects/(?P<object_type_name>[^/]+)/batch") == 1

    # A deal changed since the listing (a contact taken off it): its links are read again.
    first = next(i for i, n in deals.items() if n == 1)
    api.crm.deals.basic_api.update(first, {"properties": {"dealname": "Roof 1, redone"}})
    api.crm.associations.v4.basic_api.archive("deals", first, "contacts", contact)
    emulation.request_log("hubspot", connection.external_id, clear=True)
    changed = adapter.deals(adapter.read_records("deals", [first]))
    assert changed[0].contact_ids == () and len(changed[0].lines) == 1
    assert _hubspot_calls(connection, "associations") == 3  # lines, companies, contacts

    # Read afresh, not from a listing: the links are read by the association endpoint.
    fresh = crm_adapter(connection)
    reread = {d.external_id: d for d in fresh.deals(fresh.read_records("deals", list(deals)))}
    assert {i: len(d.lines) for i, d in reread.items()} == deals
    assert _hubspot_calls(connection, "associations") == 6


def test_a_deal_whose_links_hubspot_pages_is_read_whole_by_the_association_endpoint():
    """HubSpot sends a long list of links a page at a time: such a deal's listed links are
    not kept, so `deals` reads them whole instead of using the first page only."""
    from connections.hubspot.adapter import HubSpotAdapter, _record

    adapter = HubSpotAdapter(connection=None)
    listed = {
        "id": "7",
        "properties": {"dealname": "Big job"},
        "updatedAt": "2026-11-02T10:00:00.000Z",
        "associations": {
            "line items": {
                "results": [{"id": "1", "type": "deal_to_line_item"}],
                "paging": {"next": {"after": "1"}},
            }
        },
    }
    small = {
        **listed,
        "id": "8",
        "associations": {
            "companies": {"results": [{"id": "5"}]},
            "contacts": {"results": [{"id": "6"}]},
        },
    }
    records = [_record("deals", listed), _record("deals", small)]
    adapter._remember_links(records, [listed, small])
    assert "7" not in adapter._listed_links
    assert adapter._listed_links["8"][1] == {
        "line_items": [],
        "companies": ["5"],
        "contacts": ["6"],
    }


def test_a_listing_whose_links_are_not_as_asked_is_not_trusted_for_any_deal_on_it():
    """Links under a name syncfirm does not know, or a page where no deal has any link (the
    listing may have ignored the question), would read deals as having no lines: such a
    page's deals have their links read by the association endpoint."""
    from connections.hubspot.adapter import HubSpotAdapter, _record

    def page(*associations):
        return [
            {"id": str(n), "properties": {}, "updatedAt": None, "associations": a}
            for n, a in enumerate(associations)
        ]

    every = {k: {"results": [{"id": "9"}]} for k in ("line items", "companies", "contacts")}
    for results in (
        page({"deal_to_line_item": {"results": [{"id": "1"}]}}, {"companies": {"results": []}}),
        page(None, None),
        page({"line items": ["not an object"]}, every),
        # Companies and contacts answered, line items on no deal: perhaps left out.
        page({"companies": {"results": [{"id": "5"}]}}, {"contacts": {"results": []}}),
    ):
        adapter = HubSpotAdapter(connection=None)
        adapter._remember_links([_record("deals", r) for r in results], results)
        assert "0" not in adapter._listed_links, results
    trusted = page({"line items": {"results": [{"id": "1"}]}}, None, every)
    adapter = HubSpotAdapter(connection=None)
    adapter._remember_links([_record("deals", r) for r in trusted], trusted)
    assert adapter._listed_links["0"][1]["line_items"] == ["1"]
    assert adapter._listed_links["1"][1] == {"line_items": [], "companies": [], "contacts": []}
