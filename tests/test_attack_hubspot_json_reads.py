"""Attack on decision 0039 (HubSpot reads as JSON, deals listed with their links): the
emulator's answers over HTTP, some of them doctored on the way in, as HubSpot or a proxy in
front of it might send them."""

import json

import pytest
from hubspot import HubSpot

from connections import retries
from connections.adapters import crm_adapter
from connections.hubspot import adapter as hubspot_adapter

from .sandbox.conftest import sandbox_db
from .sync_support import DEAL_TO_COMPANY, LINE_ITEM_TO_DEAL, _to

pytestmark = sandbox_db


@pytest.fixture
def no_waiting(monkeypatch):
    """Retries without the back-off's sleeps (the policy is what is under test, not time)."""
    monkeypatch.setattr(retries, "_backoff", lambda state: 0.0)
    monkeypatch.setattr(retries, "MAX_WAIT_SECONDS", 0.0)


def _portal(sandbox, connection):
    return HubSpot(access_token=connection.access_token, host=f"{sandbox}/sandbox/hubspot")


def _deal_with_lines(api, name: str, lines: int, company: str = "") -> str:
    links = [_to(company, DEAL_TO_COMPANY)] if company else []
    deal = api.crm.deals.basic_api.create(
        {"properties": {"dealname": name, "amount": str(10 * lines)}, "associations": links}
    ).id
    for k in range(lines):
        _add_line(api, deal, f"{name} line {k}")
    return deal


def _add_line(api, deal: str, name: str) -> str:
    return api.crm.line_items.basic_api.create(
        {
            "properties": {"name": name, "quantity": "1", "price": "10"},
            "associations": [_to(deal, LINE_ITEM_TO_DEAL)],
        }
    ).id


class _Answer:
    """A urllib3 response's two members the adapter reads."""

    def __init__(self, data: bytes):
        self.data = data

    def release_conn(self) -> None:
        pass


def _doctored(monkeypatch, change):
    """Every JSON body the adapter reads from the emulator passes through
    `change(describe, body)` on its way in (inside the retry policy, as a real answer)."""
    real = hubspot_adapter.HubSpotAdapter._json

    def doctored(self, describe, operation, *, patient=True):
        def changed(api):
            response = operation(api)
            try:
                body = json.loads(response.data)
            finally:
                response.release_conn()
            return _Answer(json.dumps(change(describe, body)).encode())

        return real(self, describe, changed, patient=patient)

    monkeypatch.setattr(hubspot_adapter.HubSpotAdapter, "_json", doctored)


def test_a_line_added_after_the_listing_is_on_the_deal_read_again(connected, sandbox):
    """A sync run lists the deals, then reads some again by id (its WRITING and approved
    invoices: `_sync_invoices`' retry and unsettled reads). Adding a line item does not
    change the deal's updatedAt, so the listing's links were used for the fresh read and
    the new line was missing: an invoice written without it. Before 0039 `deals` read the
    links at the time of the read and had the line."""
    connection = connected("hubspot")
    api = _portal(sandbox, connection)
    deal = _deal_with_lines(api, "Porch", 1)
    adapter = crm_adapter(connection)
    listed = adapter.records("deals").records
    assert [len(d.lines) for d in adapter.deals(listed)] == [1]

    _add_line(api, deal, "Porch railing")  # the deal's updatedAt does not move
    again = adapter.read_records("deals", [deal])
    assert again[0].updated_at == listed[0].updated_at
    assert [line.name for line in adapter.deals(again)[0].lines] == [
        "Porch line 0",
        "Porch railing",
    ]


def test_a_deal_listing_with_no_results_is_a_failed_read_not_an_empty_crm(
    connected, sandbox, monkeypatch, no_waiting
):
    """A 200 whose body has no `results` list (a proxy's `{}`, an error object with a 200)
    used to fail the read (the client's page model requires `results`); now it read as a
    page with no deals, so a month-end would find every invoice unmatched and a full sync
    nothing to invoice, with no error shown anywhere."""
    connection = connected("hubspot")
    _deal_with_lines(_portal(sandbox, connection), "Gutters", 1)
    for odd in ({}, {"results": None}, {"results": "[]"}, {"status": "error"}):
        _doctored(monkeypatch, lambda describe, body, odd=odd: odd)
        with pytest.raises(retries.ProviderError):
            crm_adapter(connection).records("deals")


@pytest.mark.parametrize(
    "odd",
    [
        pytest.param({"associations": ["line items"]}, id="associations-a-list"),
        pytest.param({"associations": "line items"}, id="associations-text"),
        pytest.param(
            {"associations": {"line items": {"results": [], "paging": "more"}}},
            id="link-paging-text",
        ),
        pytest.param(
            {"associations": {"line items": {"results": [], "paging": {"next": "x"}}}},
            id="link-paging-next-text",
        ),
    ],
)
def test_odd_links_on_one_listed_deal_do_not_stop_the_listing(connected, sandbox, monkeypatch, odd):
    """One deal's links in a shape not asked for (another deal on the page has sound ones)
    raised AttributeError out of `records("deals")`: the month-end and a full sync failed
    with a programming error. The odd deal must be read with its links from the
    association endpoint, the sound one from the listing."""
    connection = connected("hubspot")
    api = _portal(sandbox, connection)
    sound = _deal_with_lines(api, "Siding", 2)
    odd_deal = _deal_with_lines(api, "Skylight", 1)

    def change(describe, body):
        for result in body.get("results", []):
            if result.get("id") == odd_deal and "Listing" in describe:
                result.update(odd)
        return body

    _doctored(monkeypatch, change)
    adapter = crm_adapter(connection)
    listed = adapter.records("deals").records
    read = {d.external_id: len(d.lines) for d in adapter.deals(listed)}
    assert read == {sound: 2, odd_deal: 1}


@pytest.mark.parametrize(
    "paging",
    [pytest.param("next", id="text"), pytest.param({"next": ["a"]}, id="next-a-list")],
)
def test_an_odd_paging_object_is_a_failed_read_not_a_crash(
    connected, sandbox, monkeypatch, no_waiting, paging
):
    """`paging` that is not an object raised AttributeError from `_next_after` (outside the
    retry policy): the run failed as a programming error rather than a provider error."""
    connection = connected("hubspot")
    _doctored(monkeypatch, lambda describe, body: {**body, "paging": paging})
    adapter = crm_adapter(connection)
    try:
        page = adapter.companies()
    except retries.ProviderError:
        return
    assert page.next_cursor is None


def test_an_odd_association_row_is_a_failed_read_not_a_crash(
    connected, sandbox, monkeypatch, no_waiting
):
    """A v4 association row whose `from` is not an object raised AttributeError from
    `_linked`."""
    connection = connected("hubspot")
    deal = _deal_with_lines(_portal(sandbox, connection), "Deck", 1)

    def change(describe, body):
        if "associations" in describe:
            return {"results": [{"from": deal, "to": []}]}
        return body

    _doctored(monkeypatch, change)
    adapter = crm_adapter(connection)
    try:
        found = adapter.deals(adapter.read_records("deals", [deal]))
    except retries.ProviderError:
        return
    assert found[0].external_id == deal


def test_reads_ride_out_5xx_drops_and_a_401_over_hundreds_of_calls(systems, sandbox, no_waiting):
    """With `_preload_content=False` the client hands back the raw urllib3 response: every
    error status must still be translated and retried, and each connection released."""
    from connections.models import Connection

    connection = systems.hub_connection
    api = _portal(sandbox, connection)
    company = api.crm.companies.basic_api.create({"properties": {"name": "Oak Builders"}}).id
    deals = {_deal_with_lines(api, f"Job {n}", n, company): n for n in range(1, 4)}
    systems.faults("hubspot", seed=7, error_rate=0.15, drop_rate=0.1)
    adapter = crm_adapter(connection)
    for n in range(40):
        if n == 20:  # the token is refused: refreshed once, the reads carry on
            Connection.objects.filter(pk=connection.pk).update(access_token="revoked")
            adapter = crm_adapter(Connection.objects.get(pk=connection.pk))
        listed = adapter.records("deals").records
        read = {d.external_id: len(d.lines) for d in adapter.deals(listed)}
        assert read == deals
        fresh = adapter.deals(adapter.read_records("deals", list(deals)))
        assert {d.external_id: d.company_ids for d in fresh} == {d: (company,) for d in deals}


def test_a_deals_customer_does_not_depend_on_whether_it_was_listed_or_read(
    connected, sandbox, monkeypatch
):
    """A deal for two companies is invoiced to the first one linked to a customer
    (`_customer_for`). The month-end reads its companies from the listing, an incremental
    sync from the v4 association read; HubSpot documents no order for either. Listed in
    another order than the v4 read gives, the same deal was the other company's in the
    reconciliation than in the sync: a "wrong customer" finding for a right invoice."""
    connection = connected("hubspot")
    api = _portal(sandbox, connection)
    first = api.crm.companies.basic_api.create({"properties": {"name": "Ash Homes"}}).id
    second = api.crm.companies.basic_api.create({"properties": {"name": "Birch Homes"}}).id
    deal = api.crm.deals.basic_api.create(
        {
            "properties": {"dealname": "Shared job", "amount": "10"},
            "associations": [_to(first, DEAL_TO_COMPANY), _to(second, DEAL_TO_COMPANY)],
        }
    ).id
    _add_line(api, deal, "Shared line")

    def reversed_companies(describe, body):
        if "Listing" in describe:
            for result in body.get("results", []):
                companies = result.get("associations", {}).get("companies", {})
                companies.get("results", []).reverse()
        return body

    _doctored(monkeypatch, reversed_companies)
    listing = crm_adapter(connection)
    listed = listing.deals(listing.records("deals").records)[0]
    fresh = crm_adapter(connection)
    read = fresh.deals(fresh.read_records("deals", [deal]))[0]
    assert listed.company_ids == read.company_ids


def test_a_deal_with_150_line_items_is_listed_with_all_of_them(connected, sandbox):
    """More line items than one batch read takes (100): every one is on the deal."""
    connection = connected("hubspot")
    api = _portal(sandbox, connection)
    deal = api.crm.deals.basic_api.create({"properties": {"dealname": "Estate"}}).id
    for start in (0, 100):
        api.crm.line_items.batch_api.create(
            {
                "inputs": [
                    {
                        "properties": {"name": f"Item {k}", "quantity": "1", "price": "1"},
                        "associations": [_to(deal, LINE_ITEM_TO_DEAL)],
                    }
                    for k in range(start, min(start + 100, 150))
                ]
            }
        )
    adapter = crm_adapter(connection)
    read = adapter.deals(adapter.records("deals").records)[0]
    assert len(read.lines) == 150
    assert len({line.name for line in read.lines}) == 150
