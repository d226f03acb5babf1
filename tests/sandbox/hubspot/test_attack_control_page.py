"""Attacks on the sandbox page's HubSpot controls (sandbox/control_page.py)."""

import requests
from django.test import Client
from django.urls import reverse

from sandbox import emulation
from tests.sandbox.conftest import sandbox_db

pytestmark = sandbox_db


def test_the_webhook_toggle_keeps_the_rest_of_the_fault_plan(make_portal, sandbox_url):
    """Held: stopping and restarting a portal's webhooks from the page keeps the plan's
    other faults (seed, error rate, duplicated webhooks); a bad portal id is a 404."""
    portal = make_portal("Faulty Roofing")
    account = str(portal["portal_id"])
    requests.put(
        f"{sandbox_url}/control/faults",
        json={"system": "hubspot", "account": account, "seed": 7, "error_rate": 0.25,
              "webhook_duplicate_rate": 0.5},
        timeout=10,
    ).raise_for_status()  # fmt: skip
    page = Client()
    toggle = reverse("sandbox_controls_hubspot_webhooks", args=[portal["portal_id"]])

    page.post(toggle, {"on": "0"})
    plan = emulation.fault_plan("hubspot", account)
    assert plan.webhook_loss_rate == 1.0
    assert (plan.seed, plan.error_rate, plan.webhook_duplicate_rate) == (7, 0.25, 0.5)
    page.post(toggle, {"on": "1"})
    plan = emulation.fault_plan("hubspot", account)
    assert plan.webhook_loss_rate == 0.0
    assert (plan.seed, plan.error_rate, plan.webhook_duplicate_rate) == (7, 0.25, 0.5)

    missing = reverse("sandbox_controls_hubspot_webhooks", args=[999999999])
    assert page.post(missing, {"on": "0"}).status_code == 404
    xss = reverse("sandbox_controls_hubspot_company", args=[portal["portal_id"]])
    answer = page.post(xss, {"name": "<script>alert(1)</script>" * 20}, follow=True)
    assert "<script>alert(1)" not in answer.content.decode()
