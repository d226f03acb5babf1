import pytest
from hubspot.crm.objects import (
    BatchInputSimplePublicObjectBatchInputForCreate,
    PublicObjectSearchRequest,
)

from sandbox.hubspot import search
from tests.sandbox.conftest import sandbox_db
from tests.sandbox.hubspot.conftest import ApiError

pytestmark = sandbox_db


@pytest.fixture
def deals(client):
    rows = [
        ("Alpha roof", "100", "closedwon"),
        ("Beta gutter", "250.5", "closedlost"),
        ("Gamma roof", "900", "appointmentscheduled"),
        ("Delta siding", "", "closedwon"),
    ]
    client.crm.deals.batch_api.create(
        BatchInputSimplePublicObjectBatchInputForCreate(
            inputs=[
                {"properties": {"dealname": n, "amount": a, "dealstage": s}} for n, a, s in rows
            ]
        )
    )
    return client


def names(page) -> list[str]:
    return [r.properties["dealname"] for r in page.results]


def test_it_ors_filter_groups_and_ands_filters(deals):
    page = deals.crm.deals.search_api.do_search(
        PublicObjectSearchRequest(
            filter_groups=[
                {"filters": [{"propertyName": "dealstage", "operator": "EQ", "value": "closedwon"},
                             {"propertyName": "amount", "operator": "HAS_PROPERTY"}]},
                {"filters": [{"propertyName": "amount", "operator": "GT", "value": "500"}]},
            ],
            sorts=[{"propertyName": "amount", "direction": "DESCENDING"}],
            properties=["dealname", "amount"],
        )
    )  # fmt: skip
    assert page.total == 2 and names(page) == ["Gamma roof", "Alpha roof"]


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        ({"operator": "BETWEEN", "propertyName": "amount", "value": "100", "highValue": "300"},
         ["Alpha roof", "Beta gutter"]),
        ({"operator": "IN", "propertyName": "dealstage", "values": ["closedlost", "x"]},
         ["Beta gutter"]),
        ({"operator": "NOT_IN", "propertyName": "dealstage", "values": ["closedwon"]},
         ["Beta gutter", "Gamma roof"]),
        ({"operator": "NOT_HAS_PROPERTY", "propertyName": "amount"}, ["Delta siding"]),
        ({"operator": "CONTAINS_TOKEN", "propertyName": "dealname", "value": "roof"},
         ["Alpha roof", "Gamma roof"]),
        ({"operator": "LTE", "propertyName": "amount", "value": "250.5"},
         ["Alpha roof", "Beta gutter"]),
        ({"operator": "NEQ", "propertyName": "dealstage", "value": "closedwon"},
         ["Beta gutter", "Gamma roof"]),
    ],
)  # fmt: skip
def test_it_applies_each_operator(deals, flt, expected):
    page = deals.crm.deals.search_api.do_search(
        PublicObjectSearchRequest(filter_groups=[{"filters": [flt]}], sorts=["dealname"])
    )
    assert names(page) == expected


def test_it_pages_with_limit_and_after_and_matches_a_query(deals):
    first = deals.crm.deals.search_api.do_search(
        PublicObjectSearchRequest(sorts=["-dealname"], limit=3)
    )
    assert names(first) == ["Gamma roof", "Delta siding", "Beta gutter"]
    rest = deals.crm.deals.search_api.do_search(
        PublicObjectSearchRequest(sorts=["-dealname"], limit=3, after=first.paging.next.after)
    )
    assert names(rest) == ["Alpha roof"] and rest.paging is None
    found = deals.crm.deals.search_api.do_search(PublicObjectSearchRequest(query="gut"))
    assert names(found) == ["Beta gutter"]


def test_it_refuses_to_page_past_the_result_cap(deals, monkeypatch):
    monkeypatch.setattr(search, "RESULT_CAP", 2)
    first = deals.crm.deals.search_api.do_search(PublicObjectSearchRequest(limit=2))
    assert first.total == 4
    with pytest.raises(ApiError) as error:
        deals.crm.deals.search_api.do_search(
            PublicObjectSearchRequest(limit=2, after=first.paging.next.after)
        )
    assert error.value.status == 400 and "VALIDATION_ERROR" in error.value.body


def test_it_refuses_a_limit_over_200(deals):
    with pytest.raises(ApiError) as error:
        deals.crm.deals.search_api.do_search(PublicObjectSearchRequest(limit=201))
    assert error.value.status == 400


def test_it_filters_on_last_modified_in_the_database(deals):
    everything = deals.crm.deals.search_api.do_search(PublicObjectSearchRequest(limit=10))
    cutoff = max(r.properties["hs_lastmodifieddate"] for r in everything.results)
    page = deals.crm.deals.search_api.do_search(
        PublicObjectSearchRequest(
            filter_groups=[{"filters": [{"propertyName": "hs_lastmodifieddate", "operator": "GTE",
                                         "value": cutoff}]}]
        )
    )  # fmt: skip
    assert page.total >= 1 and all(
        r.properties["hs_lastmodifieddate"] >= cutoff for r in page.results
    )
