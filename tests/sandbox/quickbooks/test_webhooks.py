"""Signed QBO webhooks delivered after commit to a receiver on loopback."""

import json
import queue
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import requests
from django.conf import settings
from quickbooks.objects.payment import Payment, PaymentLine

from sandbox import emulation
from sandbox.emulation import FaultPlan
from tests.sandbox.conftest import sandbox_db

from .conftest import customer, invoice, service_item

pytestmark = sandbox_db


class Receiver:
    """A tiny webhook endpoint on loopback that keeps what it is sent."""

    def __init__(self) -> None:
        self.received: queue.Queue = queue.Queue()
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.put((dict(self.headers), body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"

    def next(self, timeout: float = 10) -> tuple[dict, bytes]:
        return self.received.get(timeout=timeout)


@pytest.fixture
def receiver(qbo, sandbox_url):
    r = Receiver()
    requests.patch(
        f"{sandbox_url}/control/quickbooks/companies/{qbo.realm['realm_id']}",
        json={"webhook_url": r.url},
        timeout=10,
    ).raise_for_status()
    yield r
    r.server.shutdown()
    r.server.server_close()


def entities_of(body: bytes) -> list[dict]:
    return json.loads(body)["eventNotifications"][0]["dataChangeEvent"]["entities"]


def test_it_sends_signed_webhooks_a_receiver_can_verify(qbo, receiver):
    made = customer(qbo, "Webhook Wendy")
    headers, body = receiver.next()
    signature = headers["intuit-signature"]
    verifier = settings.QUICKBOOKS_WEBHOOK_VERIFIER_TOKEN
    assert qbo.validate_webhook_signature(body.decode(), signature, verifier)
    notification = json.loads(body)["eventNotifications"][0]
    assert notification["realmId"] == qbo.realm["realm_id"]
    (event,) = notification["dataChangeEvent"]["entities"]
    assert (event["name"], event["id"], event["operation"]) == ("Customer", made.Id, "Create")
    assert event["lastUpdated"] == made.MetaData["LastUpdatedTime"]
    tampered = body.replace(made.Id.encode(), b"999999")
    assert not qbo.validate_webhook_signature(tampered.decode(), signature, verifier)
    assert not qbo.validate_webhook_signature(body.decode(), signature, "another-verifier")


def test_it_batches_one_requests_changes_into_one_notification(qbo, receiver):
    who, item = customer(qbo, "Paying Pete"), service_item(qbo)
    inv = invoice(qbo, who, item)
    for _ in range(3):  # the customer, item and invoice creates (the account is standard)
        receiver.next()
    payment = Payment()
    payment.CustomerRef = who.to_ref()
    payment.TotalAmt = Decimal("300.00")
    line = PaymentLine()
    line.Amount = Decimal("300.00")
    line.LinkedTxn = [{"TxnId": inv.Id, "TxnType": "Invoice"}]
    payment.Line = [line]
    paid = payment.save(qb=qbo)
    _headers, body = receiver.next()
    changed = {(e["name"], e["id"]): e["operation"] for e in entities_of(body)}
    assert changed == {
        ("Payment", paid.Id): "Create",
        ("Invoice", inv.Id): "Update",
        ("Customer", who.Id): "Update",
    }
    with pytest.raises(queue.Empty):
        receiver.next(timeout=0.4)


def test_it_sends_nothing_for_a_write_that_failed(qbo, receiver):
    customer(qbo, "Only Once")
    receiver.next()
    with pytest.raises(Exception, match="Duplicate Name"):
        customer(qbo, "Only Once")
    with pytest.raises(queue.Empty):
        receiver.next(timeout=0.4)


def test_it_loses_and_duplicates_webhooks_as_the_fault_plan_says(qbo, receiver, monkeypatch):
    plan = {"value": FaultPlan(seed=7, webhook_duplicate_rate=1.0)}
    monkeypatch.setattr(emulation, "fault_plan", lambda system, account: plan["value"])
    customer(qbo, "Twice Told")
    first, second = receiver.next(), receiver.next()
    assert first[1] == second[1]
    plan["value"] = FaultPlan(seed=7, webhook_loss_rate=1.0)
    customer(qbo, "Never Told")
    with pytest.raises(queue.Empty):
        receiver.next(timeout=0.4)


def test_it_delivers_notifications_in_the_order_the_writes_committed(qbo, receiver):
    made = [customer(qbo, f"In Order {n}").Id for n in range(6)]
    delivered = [entities_of(receiver.next()[1])[0]["id"] for _ in made]
    assert delivered == made


def test_it_announces_only_the_batch_items_that_succeeded(qbo, receiver):
    who, item = customer(qbo, "Batch Payer"), service_item(qbo)
    inv = invoice(qbo, who, item, qty="1", price="50.00")
    for _ in range(3):  # the customer, item and invoice creates
        receiver.next()
    too_much = {
        "CustomerRef": {"value": who.Id},
        "TotalAmt": 80,
        "Line": [{"Amount": 80, "LinkedTxn": [{"TxnId": inv.Id, "TxnType": "Invoice"}]}],
    }
    answer = qbo.batch_operation(
        json.dumps(
            {
                "BatchItemRequest": [
                    {"bId": "ok", "operation": "create", "Customer": {"DisplayName": "Fresh"}},
                    {"bId": "bad", "operation": "create", "Payment": too_much},
                ]
            }
        )
    )
    assert "Fault" in {a["bId"]: a for a in answer["BatchItemResponse"]}["bad"]
    (event,) = entities_of(receiver.next()[1])
    assert (event["name"], event["operation"]) == ("Customer", "Create")
