from hubspot.crm.associations.v4 import (
    AssociationSpec,
    BatchInputPublicAssociationMultiArchive,
    BatchInputPublicAssociationMultiPost,
    BatchInputPublicDefaultAssociationMultiPost,
    BatchInputPublicFetchAssociationsBatchRequest,
)
from hubspot.crm.objects import SimplePublicObjectInputForCreate

from tests.sandbox.conftest import sandbox_db

pytestmark = sandbox_db


def create(client, kind: str, **props):
    return client.crm.objects.basic_api.create(
        kind, SimplePublicObjectInputForCreate(properties=props)
    )


def test_it_links_line_items_to_a_deal_with_typed_and_default_associations(client):
    deal = create(client, "deals", dealname="Roof")
    first = create(client, "line_items", name="A", price="10", quantity="1")
    second = create(client, "line_items", name="B", price="5", quantity="2")

    made = client.crm.associations.v4.basic_api.create(
        "deals", deal.id, "line_items", first.id,
        [AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=19)],
    )  # fmt: skip
    assert (made.from_object_type_id, made.to_object_type_id) == ("0-3", "0-8")
    client.crm.associations.v4.batch_api.create_default(
        "deals", "line_items",
        BatchInputPublicDefaultAssociationMultiPost(
            inputs=[{"from": {"id": deal.id}, "to": {"id": second.id}}]
        ),
    )  # fmt: skip

    listed = client.crm.associations.v4.basic_api.get_page("deals", deal.id, "line_items")
    assert sorted(str(r.to_object_id) for r in listed.results) == sorted([first.id, second.id])
    assert {t.type_id for r in listed.results for t in r.association_types} == {19}
    back = client.crm.associations.v4.basic_api.get_page("line_items", first.id, "deals")
    assert [str(r.to_object_id) for r in back.results] == [deal.id]
    assert back.results[0].association_types[0].type_id == 20

    read = client.crm.deals.basic_api.get_by_id(deal.id, associations=["line_items"])
    assert sorted(a.id for a in read.associations["line items"].results) == sorted(
        [first.id, second.id]
    )

    client.crm.associations.v4.basic_api.archive("deals", deal.id, "line_items", first.id)
    listed = client.crm.associations.v4.basic_api.get_page("deals", deal.id, "line_items")
    assert [str(r.to_object_id) for r in listed.results] == [second.id]


def test_it_links_a_company_at_deal_create_time_and_in_batches(client):
    company = create(client, "companies", name="Acme")
    deal = client.crm.deals.basic_api.create(
        SimplePublicObjectInputForCreate(
            properties={"dealname": "With company"},
            associations=[{"to": {"id": company.id}, "types": [
                {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 5}]}],
        )
    )  # fmt: skip
    read = client.crm.deals.basic_api.get_by_id(deal.id, associations=["companies"])
    assert [(a.id, a.type) for a in read.associations["companies"].results] == [
        (company.id, "deal_to_company")
    ]

    other = create(client, "deals", dealname="Second")
    batch = client.crm.associations.v4.batch_api.create(
        "deals", "companies",
        BatchInputPublicAssociationMultiPost(inputs=[{
            "from": {"id": other.id}, "to": {"id": company.id},
            "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 341}]}]),
    )  # fmt: skip
    assert batch.results[0].to_object_id == company.id
    fetched = client.crm.associations.v4.batch_api.get_page(
        "companies", "deals",
        BatchInputPublicFetchAssociationsBatchRequest(inputs=[{"id": company.id}]),
    )  # fmt: skip
    type_ids = {t.type_id for r in fetched.results for to in r.to for t in to.association_types}
    assert type_ids == {6, 342}
    assert sorted(str(to.to_object_id) for to in fetched.results[0].to) == sorted(
        [deal.id, other.id]
    )
    client.crm.associations.v4.batch_api.archive(
        "deals", "companies",
        BatchInputPublicAssociationMultiArchive(
            inputs=[{"from": {"id": other.id}, "to": [{"id": company.id}]}]
        ),
    )  # fmt: skip
    left = client.crm.associations.v4.basic_api.get_page("companies", company.id, "deals")
    assert [str(r.to_object_id) for r in left.results] == [deal.id]
