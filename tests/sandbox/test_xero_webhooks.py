"""Xero webhooks: the intent-to-receive check, then signed deliveries after writes."""

import base64
import hashlib
import hmac
import json
import queue
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import requests
from django.conf import settings
from xero_python.accounting import Contact, Contacts

from tests.sandbox.conftest import sandbox_db

pytestmark = sandbox_db


def valid(body: bytes, signature: str) -> bool:
    key = settings.XERO_WEBHOOK_KEY.encode()
    expected = base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected, signature)


class Receiver:
    """A webhook endpoint on loopback: checks signatures (or, if `careless`, does not)."""

    def __init__(self, careless: bool = False) -> None:
        self.received: queue.Queue = queue.Queue()
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                ok = careless or valid(body, self.headers.get("x-xero-signature", ""))
                if ok:
                    received.put(json.loads(body))
                self.send_response(200 if ok else 401)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/xero"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def hook(sandbox_url: str, tenant: str, receiver: Receiver) -> dict:
    base = f"{sandbox_url}/control/xero/organisations/{tenant}"
    requests.patch(base, json={"webhook_url": receiver.url}, timeout=10).raise_for_status()
    return requests.post(f"{base}/intent-to-receive", timeout=30).json()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def test_it_delivers_signed_events_once_intent_to_receive_passed(sandbox_url, xero, receiver):
    check = hook(sandbox_url, xero.tenant, receiver)
    assert check["passed"] is True
    assert {p["status"] for p in check["probes"]} == {200, 401}
    while not receiver.received.empty():  # the probes that were signed correctly
        assert receiver.received.get()["events"] == []
    made = xero.create_contacts(xero.tenant, Contacts(contacts=[Contact(name="Ann Lee")]))
    delivery = receiver.received.get(timeout=10)
    (event,) = delivery["events"]
    assert event["resourceId"] == made.contacts[0].contact_id
    assert (event["eventCategory"], event["eventType"]) == ("CONTACT", "CREATE")
    assert event["tenantId"] == xero.tenant


def test_it_sends_nothing_to_a_receiver_that_skips_the_signature_check(sandbox_url, xero):
    careless = Receiver(careless=True)
    try:
        assert hook(sandbox_url, xero.tenant, careless)["passed"] is False
        while not careless.received.empty():
            careless.received.get()
        xero.create_contacts(xero.tenant, Contacts(contacts=[Contact(name="Ann Lee")]))
        with pytest.raises(queue.Empty):
            careless.received.get(timeout=2)
    finally:
        careless.close()
