"""Intuit OAuth through intuit-oauth, and signed webhooks a receiver can verify."""

import json
import queue
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.conf import settings
from intuitlib.client import AuthClient
from intuitlib.enums import Scopes
from intuitlib.exceptions import AuthClientError
from quickbooks import QuickBooks

from sandbox.consent import consent
from tests.sandbox.conftest import sandbox_db

from .conftest import customer

pytestmark = sandbox_db
REDIRECT = "http://127.0.0.1:9/callback"


def auth_client(sandbox_url: str, secret: str | None = None) -> AuthClient:
    return AuthClient(
        settings.QUICKBOOKS_CLIENT_ID,
        secret or settings.QUICKBOOKS_CLIENT_SECRET,
        REDIRECT,
        environment=f"{sandbox_url}/intuit/.well-known/openid_configuration",
    )


def approve(sandbox_url: str, **choice) -> dict[str, str]:
    client = auth_client(sandbox_url)
    url = client.get_authorization_url([Scopes.ACCOUNTING], state_token="st-1")
    callback = consent(url, "quickbooks", **choice)
    return {k: v[0] for k, v in parse_qs(urlsplit(callback).query).items()}


def test_it_runs_the_authorization_code_flow(sandbox_url):
    params = approve(sandbox_url, new_account_name="Cedar Builders")
    assert params["state"] == "st-1" and params["realmId"] and params["code"]
    client = auth_client(sandbox_url)
    client.get_bearer_token(params["code"], realm_id=params["realmId"])
    assert client.expires_in == 3600 and client.x_refresh_token_expires_in > 8_000_000
    qb = QuickBooks(
        auth_client=client,
        refresh_token=client.refresh_token,
        company_id=params["realmId"],
        minorversion=75,
    )
    qb.api_url_v3 = f"{sandbox_url}/quickbooks/v3"
    assert customer(qb, "First Customer").Id


def test_it_redirects_a_denial_with_access_denied(sandbox_url):
    params = approve(sandbox_url, approve=False)
    assert params == {"error": "access_denied", "state": "st-1"}


def test_it_refuses_a_code_used_twice(sandbox_url):
    params = approve(sandbox_url, new_account_name="Twice Co")
    auth_client(sandbox_url).get_bearer_token(params["code"], realm_id=params["realmId"])
    with pytest.raises(AuthClientError) as error:
        auth_client(sandbox_url).get_bearer_token(params["code"], realm_id=params["realmId"])
    assert error.value.status_code == 400 and b"invalid_grant" in error.value.content


def test_it_rotates_refresh_tokens(sandbox_url):
    params = approve(sandbox_url, new_account_name="Rotating Co")
    client = auth_client(sandbox_url)
    client.get_bearer_token(params["code"], realm_id=params["realmId"])
    old = client.refresh_token
    client.refresh(refresh_token=old)
    assert client.refresh_token != old
    with pytest.raises(AuthClientError) as error:
        auth_client(sandbox_url).refresh(refresh_token=old)
    assert b"invalid_grant" in error.value.content


def test_it_refuses_wrong_client_credentials(sandbox_url):
    params = approve(sandbox_url, new_account_name="Secretive Co")
    with pytest.raises(AuthClientError) as error:
        auth_client(sandbox_url, secret="wrong").get_bearer_token(
            params["code"], realm_id=params["realmId"]
        )
    assert error.value.status_code == 401


def test_it_revokes_a_refresh_token(sandbox_url):
    params = approve(sandbox_url, new_account_name="Leaving Co")
    client = auth_client(sandbox_url)
    client.get_bearer_token(params["code"], realm_id=params["realmId"])
    assert client.revoke(token=client.refresh_token) is True
    with pytest.raises(AuthClientError):
        auth_client(sandbox_url).refresh(refresh_token=client.refresh_token)


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

    def next(self, timeout: float = 10):
        return self.received.get(timeout=timeout)


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.server.shutdown()


def test_it_sends_signed_webhooks_a_receiver_can_verify(qbo, sandbox_url, receiver):
    requests.patch(
        f"{sandbox_url}/control/quickbooks/companies/{qbo.realm['realm_id']}",
        json={"webhook_url": receiver.url},
        timeout=10,
    ).raise_for_status()
    made = customer(qbo, "Webhook Wendy")
    headers, body = receiver.next()
    signature = headers["intuit-signature"]
    assert qbo.validate_webhook_signature(
        body.decode(), signature, settings.QUICKBOOKS_WEBHOOK_VERIFIER_TOKEN
    )
    event = json.loads(body)["eventNotifications"][0]
    assert event["realmId"] == qbo.realm["realm_id"]
    assert event["dataChangeEvent"]["entities"][0] == {
        "name": "Customer",
        "id": made.Id,
        "operation": "Create",
        "lastUpdated": event["dataChangeEvent"]["entities"][0]["lastUpdated"],
    }
    tampered = body.replace(made.Id.encode(), b"999999")
    assert not qbo.validate_webhook_signature(
        tampered.decode(), signature, settings.QUICKBOOKS_WEBHOOK_VERIFIER_TOKEN
    )


def test_it_loses_and_duplicates_webhooks_as_the_fault_plan_says(qbo, sandbox_url, receiver):
    realm = qbo.realm["realm_id"]
    requests.patch(
        f"{sandbox_url}/control/quickbooks/companies/{realm}",
        json={"webhook_url": receiver.url},
        timeout=10,
    )
    requests.put(
        f"{sandbox_url}/control/faults",
        json={"system": "quickbooks", "account": realm, "webhook_duplicate_rate": 1.0},
        timeout=10,
    ).raise_for_status()
    customer(qbo, "Twice Told")
    first, second = receiver.next(), receiver.next()
    assert first[1] == second[1]
    requests.put(
        f"{sandbox_url}/control/faults",
        json={"system": "quickbooks", "account": realm, "webhook_loss_rate": 1.0},
        timeout=10,
    ).raise_for_status()
    customer(qbo, "Never Told")
    with pytest.raises(queue.Empty):
        receiver.next(timeout=1.5)
