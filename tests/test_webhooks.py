"""Webhook receivers: verified first, stored raw, enqueued, answered fast."""

import base64
import hashlib
import hmac
import json
import time

import pytest
from django.conf import settings
from django.urls import reverse

from connections.hubspot.webhooks import signature_v3
from connections.models import DeliveryStatus, WebhookDelivery

from .factories import ConnectionFactory

pytestmark = pytest.mark.django_db

QBO_URL = "/webhooks/quickbooks/"
HUBSPOT_URL = "/webhooks/hubspot/"


def qbo_body(realm: str, entity: str = "Invoice") -> bytes:
    event = {
        "name": entity,
        "id": "42",
        "operation": "Update",
        "lastUpdated": "2026-11-02T10:00:00-0700",
    }
    notification = {"realmId": realm, "dataChangeEvent": {"entities": [event]}}
    return json.dumps({"eventNotifications": [notification]}).encode()


def intuit_signature(body: bytes, token: str | None = None) -> str:
    key = (token or settings.QUICKBOOKS_WEBHOOK_VERIFIER_TOKEN).encode()
    return base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode()


def post_qbo(client, body: bytes, signature: str):
    return client.post(
        QBO_URL, body, content_type="application/json", headers={"intuit-signature": signature}
    )


def hubspot_body(portal: str, event_id: int = 1) -> bytes:
    return json.dumps(
        [
            {
                "objectId": 1246965,
                "propertyName": "dealstage",
                "propertyValue": "closedwon",
                "changeSource": "CRM_UI",
                "eventId": event_id,
                "subscriptionId": 25,
                "portalId": int(portal),
                "appId": 1160452,
                "occurredAt": int(time.time() * 1000),
                "subscriptionType": "deal.propertyChange",
                "attemptNumber": 0,
            }
        ]
    ).encode()


def post_hubspot(client, body: bytes, *, timestamp: str | None = None, secret: str | None = None):
    timestamp = timestamp or str(int(time.time() * 1000))
    signature = signature_v3(
        secret or settings.HUBSPOT_CLIENT_SECRET,
        "POST",
        f"http://testserver{HUBSPOT_URL}",
        body,
        timestamp,
    )
    return client.post(
        HUBSPOT_URL,
        body,
        content_type="application/json",
        headers={"X-HubSpot-Signature-v3": signature, "X-HubSpot-Request-Timestamp": timestamp},
    )


@pytest.fixture
def qbo_connection(two_firms):
    return ConnectionFactory(client=two_firms.client_a, system="quickbooks", external_id="9130001")


@pytest.fixture
def hubspot_connection(two_firms):
    return ConnectionFactory(client=two_firms.client_a, system="hubspot", external_id="4401")


def test_it_stores_and_enqueues_a_signed_quickbooks_delivery(
    client, qbo_connection, django_capture_on_commit_callbacks
):
    body = qbo_body("9130001")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post_qbo(client, body, intuit_signature(body))
    assert response.status_code == 200
    delivery = WebhookDelivery.objects.get()
    assert delivery.body.encode() == body, "the raw body is kept byte for byte"
    assert (delivery.connection, delivery.event_count) == (qbo_connection, 1)
    assert len(callbacks) == 1, "processing is enqueued after commit, not done in the request"
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PROCESSED  # the test cluster runs tasks inline


@pytest.mark.parametrize("signature", ["", "bm90LWEtc2lnbmF0dXJl", "%%%"])
def test_it_refuses_a_forged_quickbooks_delivery_and_stores_nothing(
    client, qbo_connection, signature
):
    assert post_qbo(client, qbo_body("9130001"), signature).status_code == 401
    assert not WebhookDelivery.objects.exists()


def test_it_refuses_a_tampered_quickbooks_body(client, qbo_connection):
    body = qbo_body("9130001")
    tampered = body.replace(b'"42"', b'"43"')
    assert post_qbo(client, tampered, intuit_signature(body)).status_code == 401
    assert not WebhookDelivery.objects.exists()


def test_it_refuses_a_replayed_quickbooks_delivery(client, qbo_connection):
    body = qbo_body("9130001")
    assert post_qbo(client, body, intuit_signature(body)).status_code == 200
    assert post_qbo(client, body, intuit_signature(body)).status_code == 409
    assert WebhookDelivery.objects.count() == 1


def test_it_acknowledges_an_unknown_realm_without_storing(client, qbo_connection, caplog):
    body = qbo_body("555")
    assert post_qbo(client, body, intuit_signature(body)).status_code == 200
    assert not WebhookDelivery.objects.exists()
    assert "unknown account 555" in caplog.text


def test_it_quarantines_a_malformed_body_with_the_reason(client, qbo_connection):
    body = b'{"eventNotifications": [{"realmId": "9130001"}]}'
    assert post_qbo(client, body, intuit_signature(body)).status_code == 200
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.QUARANTINED
    assert "dataChangeEvent" in delivery.reason


def test_it_accepts_quickbooks_cloudevents(client, qbo_connection):
    body = json.dumps(
        [
            {
                "specversion": "1.0",
                "id": "88cd52aa",
                "type": "qbo.invoice.updated.v1",
                "time": "2026-11-02T10:00:00Z",
                "intuitentityid": "42",
                "intuitaccountid": "9130001",
                "data": {},
            }
        ]
    ).encode()
    assert post_qbo(client, body, intuit_signature(body)).status_code == 200
    assert WebhookDelivery.objects.get().event_count == 1


def test_it_refuses_get_on_a_webhook(client):
    assert client.get(QBO_URL).status_code == 405


def test_it_stores_a_signed_fresh_hubspot_delivery(client, hubspot_connection):
    response = post_hubspot(client, hubspot_body("4401"))
    assert response.status_code == 200
    assert WebhookDelivery.objects.get().connection == hubspot_connection


def test_it_refuses_an_expired_hubspot_delivery(client, hubspot_connection):
    six_minutes_ago = str(int((time.time() - 360) * 1000))
    assert post_hubspot(client, hubspot_body("4401"), timestamp=six_minutes_ago).status_code == 401
    assert not WebhookDelivery.objects.exists()


def test_it_refuses_a_hubspot_delivery_signed_with_another_secret(client, hubspot_connection):
    assert post_hubspot(client, hubspot_body("4401"), secret="not-our-secret").status_code == 401
    assert not WebhookDelivery.objects.exists()


def test_it_refuses_a_replayed_hubspot_delivery(client, hubspot_connection):
    body = hubspot_body("4401")
    timestamp = str(int(time.time() * 1000))
    assert post_hubspot(client, body, timestamp=timestamp).status_code == 200
    assert post_hubspot(client, body, timestamp=timestamp).status_code == 409
    assert WebhookDelivery.objects.count() == 1


def test_it_names_webhook_routes(client):
    assert reverse("webhook_quickbooks") == QBO_URL
    assert reverse("webhook_hubspot") == HUBSPOT_URL


def same_bytes_other_spelling(signature: str) -> str:
    """The same HMAC in another base64 spelling: the character before the `=` padding carries
    two unused bits, so changing them decodes to the very same 32 bytes."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = alphabet.index(signature[-2])
    respelled = signature[:-2] + alphabet[last ^ 0b01] + signature[-1]
    assert base64.b64decode(respelled) == base64.b64decode(signature) and respelled != signature
    return respelled


def test_it_refuses_a_quickbooks_replay_with_the_signature_respelled(client, qbo_connection):
    """Finding 6 (replays): the replay check knows the events, not the signature's bytes."""
    body = qbo_body("9130001")
    signature = intuit_signature(body)
    assert post_qbo(client, body, signature).status_code == 200
    replay = post_qbo(client, body, same_bytes_other_spelling(signature))
    assert replay.status_code == 409
    assert WebhookDelivery.objects.count() == 1


def test_it_refuses_the_same_quickbooks_events_reencoded(client, qbo_connection):
    """The same notification with its JSON spaced differently is the same events: a replay."""
    body = qbo_body("9130001")
    spaced = json.dumps(json.loads(body), indent=2).encode()
    assert post_qbo(client, body, intuit_signature(body)).status_code == 200
    assert post_qbo(client, spaced, intuit_signature(spaced)).status_code == 409


def test_it_refuses_a_replayed_cloudevent_by_its_id(client, qbo_connection):
    def cloudevent(time_: str) -> bytes:
        event = {"specversion": "1.0", "id": "88cd52aa-1", "type": "qbo.customer.updated.v1",
                 "time": time_, "intuitentityid": "7", "intuitaccountid": "9130001",
                 "data": {}}  # fmt: skip
        return json.dumps([event]).encode()

    first, again = cloudevent("2026-11-02T10:00:00Z"), cloudevent("2026-11-02T10:00:00.000Z")
    assert post_qbo(client, first, intuit_signature(first)).status_code == 200
    assert post_qbo(client, again, intuit_signature(again)).status_code == 409


def test_it_accepts_a_new_event_for_the_same_record(client, qbo_connection):
    body = qbo_body("9130001")
    later = body.replace(b"10:00:00", b"10:05:00")
    assert post_qbo(client, body, intuit_signature(body)).status_code == 200
    assert post_qbo(client, later, intuit_signature(later)).status_code == 200
    assert WebhookDelivery.objects.count() == 2


def test_it_refuses_the_same_hubspot_events_under_a_new_timestamp(client, hubspot_connection):
    """HubSpot signs the timestamp too, so a resend has new signature bytes: same events."""
    body = hubspot_body("4401", event_id=77)
    assert post_hubspot(client, body).status_code == 200
    later = str(int(time.time() * 1000) + 1500)
    assert post_hubspot(client, body, timestamp=later).status_code == 409


def test_a_delivery_whose_company_left_the_client_is_not_processed_for_it(
    client, qbo_connection, django_capture_on_commit_callbacks
):
    """Stored while the client held the company, processed after staff moved the company
    away: the events are not this client's any more, so no sync of it starts."""
    from sync.models import SyncRun
    from sync.tasks import process_webhook

    body = qbo_body("9130001", entity="Customer")
    with django_capture_on_commit_callbacks(execute=False):
        assert post_qbo(client, body, intuit_signature(body)).status_code == 200
    qbo_connection.status = "revoked"
    qbo_connection.save()
    assert process_webhook(WebhookDelivery.objects.get().pk) == 1
    assert not SyncRun.objects.exists()


def test_a_quickbooks_delivery_about_two_companies_reaches_each_of_their_clients(
    client, two_firms, qbo_connection
):
    """Intuit's eventNotifications holds one entry per company; two of ours in one delivery
    (here of two firms) must each get their own events, not be quarantined together (the
    whole delivery was lost), and never see the other's."""
    other = ConnectionFactory(client=two_firms.client_b, system="quickbooks", external_id="77")
    first, second = json.loads(qbo_body("9130001")), json.loads(qbo_body("77", "Customer"))
    body = json.dumps(
        {"eventNotifications": first["eventNotifications"] + second["eventNotifications"]}
    ).encode()
    answer = post_qbo(client, body, intuit_signature(body))
    assert answer.status_code == 200
    stored = {d.account_id: d for d in WebhookDelivery.objects.all()}
    assert set(stored) == {"9130001", "77"}
    assert all(d.status == DeliveryStatus.QUEUED for d in stored.values())
    assert stored["9130001"].connection == qbo_connection and stored["77"].connection == other
    assert "77" not in stored["9130001"].body and "Customer" not in stored["9130001"].body
    assert "9130001" not in stored["77"].body and stored["77"].event_count == 1
    from sync.pending import delivery_request

    for delivery in stored.values():  # each part reads as a delivery of its own
        assert delivery_request(delivery.system, delivery.body)[0] == 1
    # The same delivery again is a replay, of both parts.
    assert post_qbo(client, body, intuit_signature(body)).status_code == 409
    assert WebhookDelivery.objects.count() == 2


def test_a_hubspot_batch_of_two_portals_stores_the_known_one_only(client, hubspot_connection):
    events = json.loads(hubspot_body("4401", event_id=5)) + json.loads(hubspot_body("999", 6))
    body = json.dumps(events).encode()
    assert post_hubspot(client, body).status_code == 200
    delivery = WebhookDelivery.objects.get()
    assert delivery.account_id == "4401" and delivery.status == DeliveryStatus.QUEUED
    assert json.loads(delivery.body) == events[:1]
