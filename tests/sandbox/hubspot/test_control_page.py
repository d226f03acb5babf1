"""The sandbox page's HubSpot controls: a portal's webhooks stopped and sent again, and a
company added as in HubSpot (the demo's way to see a client turn degraded and back)."""

from django.test import Client
from django.urls import reverse

from sandbox import emulation
from sandbox.hubspot.models import CrmObject
from tests.sandbox.conftest import sandbox_db

pytestmark = sandbox_db


def test_webhooks_stop_and_start_again_for_one_portal_only(make_portal):
    quiet, other = make_portal("Quiet Roofing"), make_portal("Other Roofing")
    page = Client()
    stop = reverse("sandbox_controls_hubspot_webhooks", args=[quiet["portal_id"]])

    answer = page.post(stop, {"on": "0"}, follow=True).content.decode()

    assert "HubSpot stopped sending Quiet Roofing" in answer and "Stopped" in answer
    assert emulation.fault_plan("hubspot", str(quiet["portal_id"])).webhook_loss_rate == 1.0
    assert emulation.fault_plan("hubspot", str(other["portal_id"])).webhook_loss_rate == 0.0

    answer = page.post(stop, {"on": "1"}, follow=True).content.decode()
    assert "HubSpot sends Quiet Roofing" in answer and "webhooks again" in answer
    assert emulation.fault_plan("hubspot", str(quiet["portal_id"])).webhook_loss_rate == 0.0


def test_a_company_is_added_by_name_and_a_blank_name_is_refused(portal):
    page = Client()
    add = reverse("sandbox_controls_hubspot_company", args=[portal["portal_id"]])

    assert "Give the company a name" in page.post(add, {"name": "  "}, follow=True).content.decode()
    answer = page.post(add, {"name": "Quiet Harbor Builders", "zip": "78702"}, follow=True)

    assert "Quiet Harbor Builders added" in answer.content.decode()
    made = CrmObject.objects.using("sandbox").get(portal_id=portal["portal_id"])
    assert made.properties["name"] == "Quiet Harbor Builders" and made.properties["zip"] == "78702"
