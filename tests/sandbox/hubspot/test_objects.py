import pytest
from hubspot.crm.objects import (
    BatchInputSimplePublicObjectBatchInput,
    BatchInputSimplePublicObjectBatchInputForCreate,
    BatchInputSimplePublicObjectId,
    BatchReadInputSimplePublicObjectId,
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
)

from tests.sandbox.conftest import sandbox_db
from tests.sandbox.hubspot.conftest import ApiError

pytestmark = sandbox_db


def test_it_creates_reads_updates_and_archives_a_deal(client):
    created = client.crm.deals.basic_api.create(
        SimplePublicObjectInputForCreate(
            properties={"dealname": "Roof", "amount": "1500.10", "dealstage": "closedwon"}
        )
    )
    assert created.properties["hs_object_id"] == created.id
    assert created.properties["amount"] == "1500.10"
    assert created.archived is False and created.created_at is not None

    fetched = client.crm.objects.basic_api.get_by_id(
        "0-3", created.id, properties=["dealname", "hs_is_closed_won", "pipeline"]
    )
    assert fetched.properties["hs_is_closed_won"] == "true"
    assert fetched.properties["pipeline"] == "default"

    updated = client.crm.deals.basic_api.update(
        created.id, SimplePublicObjectInput(properties={"dealstage": "closedlost"})
    )
    assert updated.properties["dealstage"] == "closedlost"
    assert updated.updated_at >= created.updated_at

    client.crm.deals.basic_api.archive(created.id)
    with pytest.raises(ApiError) as missing:
        client.crm.deals.basic_api.get_by_id(created.id)
    assert missing.value.status == 404
    archived = client.crm.deals.basic_api.get_page(archived=True)
    assert [d.id for d in archived.results] == [created.id]


def test_it_computes_line_item_amount_without_float(client):
    item = client.crm.line_items.basic_api.create(
        SimplePublicObjectInputForCreate(
            properties={"name": "Shingles", "price": "0.10", "quantity": "3", "discount": "0.05"}
        )
    )
    assert item.properties["amount"] == "0.25"


def test_it_refuses_unknown_and_read_only_properties(client):
    for props in ({"nonsense": "x"}, {"hs_object_id": "5"}):
        with pytest.raises(ApiError) as error:
            client.crm.companies.basic_api.create(
                SimplePublicObjectInputForCreate(properties={"name": "X", **props})
            )
        assert error.value.status == 400
        assert '"category":"VALIDATION_ERROR"' in error.value.body.replace(" ", "")


def test_it_rejects_a_duplicate_contact_email_with_conflict(client):
    first = client.crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(properties={"email": "Ann@Example.com"})
    )
    assert first.properties["email"] == "ann@example.com"
    assert "lastmodifieddate" in first.properties
    with pytest.raises(ApiError) as error:
        client.crm.contacts.basic_api.create(
            SimplePublicObjectInputForCreate(properties={"email": "ann@example.com"})
        )
    assert error.value.status == 409
    assert f"Contact already exists. Existing ID: {first.id}" in error.value.body


def test_it_pages_to_the_end_with_get_all(client):
    for start in (0, 100, 200):
        client.crm.products.batch_api.create(
            BatchInputSimplePublicObjectBatchInputForCreate(
                inputs=[
                    {"properties": {"name": f"P{i}", "price": "1.5"}}
                    for i in range(start, min(start + 100, 230))
                ]
            )
        )
    everything = client.crm.products.get_all(properties=["name"])
    assert len(everything) == 230
    assert len({p.id for p in everything}) == 230
    first_page = client.crm.products.basic_api.get_page()
    assert len(first_page.results) == 10 and first_page.paging.next.after
    last = client.crm.products.basic_api.get_page(limit=100, after=everything[199].id)
    assert len(last.results) == 30 and last.paging is None


def test_it_reports_partial_batch_failures_with_207(client):
    created = client.crm.companies.batch_api.create(
        BatchInputSimplePublicObjectBatchInputForCreate(
            inputs=[{"properties": {"name": "A"}}, {"properties": {"name": "B"}}]
        )
    )
    ids = [c.id for c in created.results]
    read = client.crm.companies.batch_api.read(
        BatchReadInputSimplePublicObjectId(
            inputs=[{"id": ids[0]}, {"id": "999999999"}], properties=["name"]
        )
    )
    assert read.num_errors == 1
    assert read.errors[0].category == "OBJECT_NOT_FOUND"
    assert read.errors[0].context["ids"] == ["999999999"]
    assert [r.id for r in read.results] == [ids[0]]

    updated = client.crm.companies.batch_api.update(
        BatchInputSimplePublicObjectBatchInput(
            inputs=[
                {"id": ids[1], "properties": {"name": "B2"}},
                {"id": "999999998", "properties": {}},
            ]
        )
    )
    assert updated.num_errors == 1 and updated.results[0].properties["name"] == "B2"

    client.crm.companies.batch_api.archive(BatchInputSimplePublicObjectId(inputs=[{"id": ids[0]}]))
    assert [c.id for c in client.crm.companies.get_all()] == [ids[1]]


def test_it_refuses_batches_over_100_inputs(client):
    with pytest.raises(ApiError) as error:
        client.crm.companies.batch_api.create(
            BatchInputSimplePublicObjectBatchInputForCreate(
                inputs=[{"properties": {"name": str(i)}} for i in range(101)]
            )
        )
    assert error.value.status == 400
    assert client.crm.companies.get_all() == []


def test_it_requires_a_valid_bearer_token(hubspot_host):
    from hubspot import HubSpot

    with pytest.raises(ApiError) as error:
        HubSpot(access_token="nope", host=hubspot_host).crm.deals.basic_api.get_page()
    assert error.value.status == 401
    assert "INVALID_AUTHENTICATION" in error.value.body
