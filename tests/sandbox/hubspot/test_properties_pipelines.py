import pytest
from hubspot.crm.objects import SimplePublicObjectInputForCreate
from hubspot.crm.properties import PropertyCreate, PropertyGroupCreate

from tests.sandbox.conftest import sandbox_db
from tests.sandbox.hubspot.conftest import ApiError

pytestmark = sandbox_db


def test_it_lists_builtin_properties_and_reads_one(client):
    names = {p.name for p in client.crm.properties.core_api.get_all("deals").results}
    assert {"dealname", "amount", "dealstage", "pipeline", "closedate", "hs_object_id"} <= names
    amount = client.crm.properties.core_api.get_by_name("deals", "amount")
    assert amount.type == "number" and amount.hubspot_defined is True


def test_it_creates_a_custom_property_in_a_new_group_and_accepts_its_values(client):
    group = client.crm.properties.groups_api.create(
        "deals", PropertyGroupCreate(name="syncfirm", label="Syncfirm")
    )
    assert group.name == "syncfirm"
    assert "syncfirm" in {g.name for g in client.crm.properties.groups_api.get_all("deals").results}
    created = client.crm.properties.core_api.create(
        "deals",
        PropertyCreate(
            name="qbo_invoice_id", label="QBO invoice", type="string", field_type="text",
            group_name="syncfirm",
        ),
    )  # fmt: skip
    assert created.hubspot_defined is False
    deal = client.crm.deals.basic_api.create(
        SimplePublicObjectInputForCreate(properties={"dealname": "D", "qbo_invoice_id": "77"})
    )
    read = client.crm.deals.basic_api.get_by_id(deal.id, properties=["qbo_invoice_id"])
    assert read.properties["qbo_invoice_id"] == "77"
    with pytest.raises(ApiError) as duplicate:
        client.crm.properties.core_api.create(
            "deals",
            PropertyCreate(name="qbo_invoice_id", label="x", type="string", field_type="text",
                           group_name="syncfirm"),
        )  # fmt: skip
    assert duplicate.value.status == 409


def test_it_serves_the_default_deal_pipeline_and_its_stages(client):
    pipelines = client.crm.pipelines.pipelines_api.get_all("deals").results
    assert [p.id for p in pipelines] == ["default"]
    stages = client.crm.pipelines.pipeline_stages_api.get_all("deals", "default").results
    assert stages[0].id == "appointmentscheduled"
    won = next(s for s in stages if s.id == "closedwon")
    assert won.metadata == {"isClosed": "true", "probability": "1.0"}
    assert client.crm.pipelines.pipelines_api.get_by_id("deals", "default").label
    with pytest.raises(ApiError) as error:
        client.crm.pipelines.pipelines_api.get_by_id("deals", "nope")
    assert error.value.status == 404
