import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings
from hubspot import HubSpot
from hubspot.crm.objects import (
    BatchInputSimplePublicObjectBatchInputForCreate,
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
)
from hubspot.utils.signature import Signature
from hubspot.webhooks import SettingsChangeRequest, SubscriptionCreateRequest

from sandbox.emulation import FaultPlan
from sandbox.hubspot import webhooks
from tests.sandbox.conftest import sandbox_db

pytestmark = sandbox_db


class Receiver:
    """A tiny local webhook endpoint that records what it receives."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                received.append({"path": self.path, "headers": self.headers, "body": body})
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/hubspot"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self) -> list[dict]:
        return [e for r in self.received for e in json.loads(r["body"])]

    def wait_for(self, count: int, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)


@pytest.fixture
def receiver():
    found = Receiver()
    yield found
    found.server.shutdown()


@pytest.fixture
def subscribed(hubspot_host, receiver):
    developer = HubSpot(api_key="dev-hapikey", host=hubspot_host)
    app_id = int(settings.HUBSPOT_APP_ID)
    developer.webhooks.settings_api.configure(
        app_id, SettingsChangeRequest(target_url=receiver.url)
    )
    for event_type, prop in (("contact.creation", None), ("contact.propertyChange", "lastname")):
        developer.webhooks.subscriptions_api.create(
            app_id,
            SubscriptionCreateRequest(event_type=event_type, property_name=prop, active=True),
        )
    return developer


def test_it_manages_settings_and_subscriptions_with_a_hapikey(subscribed, receiver):
    app_id = int(settings.HUBSPOT_APP_ID)
    assert subscribed.webhooks.settings_api.get_all(app_id).target_url == receiver.url
    types = {s.event_type for s in subscribed.webhooks.subscriptions_api.get_all(app_id).results}
    assert types == {"contact.creation", "contact.propertyChange"}


def test_it_delivers_signed_events_that_verify_and_fail_when_tampered(subscribed, receiver, client):
    contact = client.crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(properties={"email": "a@b.co", "lastname": "Ng"})
    )
    receiver.wait_for(1)
    delivery = receiver.received[0]
    events = json.loads(delivery["body"])
    assert {(e["subscriptionType"], e.get("propertyValue")) for e in events} == {
        ("contact.creation", None),
        ("contact.propertyChange", "Ng"),
    }
    assert all(e["objectId"] == int(contact.id) and e["attemptNumber"] == 0 for e in events)
    assert all(isinstance(e["occurredAt"], int) and e["eventId"] for e in events)
    headers = delivery["headers"]
    check = {
        "client_secret": settings.HUBSPOT_CLIENT_SECRET,
        "http_uri": receiver.url,
        "signature_version": "v3",
        "timestamp": headers["X-HubSpot-Request-Timestamp"],
    }
    signature = headers["X-HubSpot-Signature-v3"]
    assert Signature.is_valid(signature=signature, request_body=delivery["body"], **check)
    tampered = delivery["body"].replace('"Ng"', '"Xx"')
    assert not Signature.is_valid(signature=signature, request_body=tampered, **check)

    client.crm.contacts.basic_api.update(
        contact.id, SimplePublicObjectInput(properties={"firstname": "Ann"})
    )
    client.crm.contacts.basic_api.update(
        contact.id, SimplePublicObjectInput(properties={"lastname": "Ong"})
    )
    receiver.wait_for(2)
    time.sleep(0.2)
    assert len(receiver.received) == 2  # the firstname change has no subscription
    assert json.loads(receiver.received[1]["body"])[0]["propertyValue"] == "Ong"


def test_it_loses_every_event_when_the_fault_plan_says_so(
    subscribed, receiver, client, monkeypatch
):
    monkeypatch.setattr(webhooks, "fault_plan", lambda s, a: FaultPlan(webhook_loss_rate=1.0))
    client.crm.contacts.basic_api.create(SimplePublicObjectInputForCreate(properties={}))
    time.sleep(0.5)
    assert receiver.received == []


def test_it_duplicates_events_when_the_fault_plan_says_so(
    subscribed, receiver, client, monkeypatch
):
    monkeypatch.setattr(
        webhooks, "fault_plan", lambda s, a: FaultPlan(seed=7, webhook_duplicate_rate=1.0)
    )
    client.crm.contacts.batch_api.create(
        BatchInputSimplePublicObjectBatchInputForCreate(inputs=[{"properties": {}}] * 3)
    )
    receiver.wait_for(1)
    ids = [e["eventId"] for e in receiver.events()]
    assert len(ids) == 6 and len(set(ids)) == 3


def test_it_decides_losses_and_order_from_the_seed(monkeypatch):
    plan = FaultPlan(seed=42, webhook_loss_rate=0.5, webhook_duplicate_rate=0.3)
    monkeypatch.setattr(webhooks, "fault_plan", lambda s, a: plan)
    events = [{"eventId": i} for i in range(1, 41)]
    first = webhooks.apply_faults("9", [dict(e) for e in events])
    again = webhooks.apply_faults("9", [dict(e) for e in events])
    assert first == again
    assert 0 < len({e["eventId"] for e in first}) < 40
    monkeypatch.setattr(webhooks, "fault_plan", lambda s, a: FaultPlan(seed=43, **{
        "webhook_loss_rate": 0.5, "webhook_duplicate_rate": 0.3}))  # fmt: skip
    assert webhooks.apply_faults("9", [dict(e) for e in events]) != first
