"""Jobber's webhook receiver: verified as the emulator signs (base64 HMAC-SHA256 of the raw
body with the app's client secret), stored raw, routed to the connection holding the
account, a repeat of an at-least-once delivery stored once; and what each topic names."""

import json

import pytest
from django.conf import settings

from connections.adapters import webhook_changes
from connections.jobber.webhooks import changes
from connections.models import DeliveryStatus, WebhookDelivery
from sandbox.jobber.ids import encode_id
from sandbox.jobber.webhooks import HEADER, payload, signature

from .factories import ConnectionFactory

pytestmark = pytest.mark.django_db

URL = "/webhooks/jobber/"
ACCOUNT = 77
CLIENT_ID = encode_id("Client", 145)
INVOICE_ID = encode_id("Invoice", 9)


@pytest.fixture
def jobber_connection(two_firms):
    return ConnectionFactory(
        client=two_firms.client_a, system="jobber", external_id=encode_id("Account", ACCOUNT)
    )


def post(client, body: bytes, signed: str | None = None):
    return client.post(
        URL, body, content_type="application/json", headers={HEADER: signed or signature(body)}
    )


def test_it_stores_a_signed_delivery_for_the_connection_holding_the_account(
    client, jobber_connection
):
    body = payload(ACCOUNT, "CLIENT_UPDATE", CLIENT_ID)
    response = post(client, body)
    assert response.status_code == 200 and response.json()["status"] == "queued"
    delivery = WebhookDelivery.objects.get()
    assert delivery.body.encode() == body
    assert (delivery.connection, delivery.event_count) == (jobber_connection, 1)
    assert delivery.status == DeliveryStatus.QUEUED and HEADER in delivery.headers


def test_it_refuses_a_forged_delivery_and_stores_nothing(client, jobber_connection):
    body = payload(ACCOUNT, "INVOICE_CREATE", INVOICE_ID)
    assert post(client, body, "bm90LWEtc2lnbmF0dXJl").status_code == 401
    tampered = body.replace(b"INVOICE_CREATE", b"INVOICE_DESTROY")
    assert post(client, tampered, signature(body)).status_code == 401
    assert not WebhookDelivery.objects.exists()


def test_a_repeated_delivery_is_stored_once_and_answered_200(client, jobber_connection):
    body = payload(ACCOUNT, "INVOICE_UPDATE", INVOICE_ID)
    assert post(client, body).status_code == 200
    again = post(client, body)
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert WebhookDelivery.objects.count() == 1


def test_an_unknown_account_is_acknowledged_and_a_malformed_event_quarantined(
    client, jobber_connection
):
    other = post(client, payload(ACCOUNT + 1, "CLIENT_CREATE", CLIENT_ID))
    assert other.status_code == 200 and other.json()["status"] == "ignored"
    odd = json.dumps({"data": {"somethingElse": {}}}).encode()
    assert post(client, odd).json()["status"] == "quarantined"
    assert WebhookDelivery.objects.get().status == DeliveryStatus.QUARANTINED


def test_a_disconnect_in_jobber_asks_for_approval_again(client, jobber_connection):
    body = payload(ACCOUNT, "APP_DISCONNECT", encode_id("Account", ACCOUNT))
    assert post(client, body).status_code == 200
    jobber_connection.refresh_from_db()
    assert jobber_connection.status == "needs_reauth"
    assert "disconnected in Jobber" in jobber_connection.last_error


def event(topic: str, item: str, **extra) -> bytes:
    body = {"topic": topic, "appId": settings.JOBBER_CLIENT_ID, "accountId": "A", "itemId": item}
    return json.dumps({"data": {"webHookEvent": body | extra}}).encode()


def test_topics_name_what_sync_reads():
    assert changes(event("CLIENT_UPDATE", "c1", occurredAt="2026-11-02T10:00:00Z")) == [
        ("companies", "c1"),
        ("contacts", "c1"),
    ]
    # The 2022 schema spells it occuredAt: read too.
    assert changes(event("INVOICE_CREATE", "i1", occuredAt="2026-11-02T10:00:00Z")) == [
        ("deals", "i1")
    ]
    assert changes(event("INVOICE_DESTROY", "i1")) == [("", "i1")]
    assert changes(event("JOB_UPDATE", "j1")) == [("", "j1")]
    assert changes(event("APP_DISCONNECT", "a1")) == [("", "a1")]
    assert webhook_changes("jobber", event("INVOICE_UPDATE", "i2")) == [("deals", "i2")]


DEEP = b"[" * 5000 + b"]" * 5000
DEEP_OBJECT = b'{"a":' * 500 + b"1" + b"}" * 500


@pytest.mark.parametrize(
    "body, words",
    [
        (DEEP, "nested deeper"),
        (DEEP_OBJECT, "nested deeper"),
        (b'"a string"', "expected an object or an array"),
        (b'{"data": {"webHookEvent": {"accountId": "\\u0000"}}}', "NUL character"),
    ],
)
def test_an_unusable_signed_body_is_a_400_and_nothing_is_stored(
    client, jobber_connection, body, words
):
    answer = post(client, body)
    assert answer.status_code == 400 and words in answer.json()["reason"]
    assert post(client, body, "bm90IGl0").status_code == 401  # the signature is checked first
    assert not WebhookDelivery.objects.exists()


def test_a_body_larger_than_any_notification_is_refused_unread(client, jobber_connection):
    huge = payload(ACCOUNT, "INVOICE_UPDATE", INVOICE_ID).replace(
        b"}}}", b"}}, " + b'"x": "' + b"a" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE + b'"}'
    )
    assert post(client, huge).status_code == 400  # Django: larger than DATA_UPLOAD_MAX_MEMORY_SIZE
    assert not WebhookDelivery.objects.exists()


def test_a_signed_delivery_replayed_for_another_clients_account_touches_only_that_account(
    client, jobber_connection, two_firms
):
    """The account in the body names the connection; a client's own signed event carries
    its own account id, and a body rewritten to name another account no longer verifies."""
    other = ConnectionFactory(
        client=two_firms.client_b, system="jobber", external_id=encode_id("Account", ACCOUNT + 5)
    )
    body = payload(ACCOUNT, "INVOICE_UPDATE", INVOICE_ID)
    assert post(client, body).status_code == 200
    moved = body.replace(
        json.dumps(encode_id("Account", ACCOUNT)).encode(),
        json.dumps(encode_id("Account", ACCOUNT + 5)).encode(),
    )
    assert moved != body
    assert post(client, moved, signature(body)).status_code == 401
    assert list(WebhookDelivery.objects.values_list("connection", flat=True)) == [
        jobber_connection.pk
    ]
    assert not WebhookDelivery.objects.filter(connection=other).exists()


def test_a_disconnect_from_before_the_connection_was_made_leaves_it_working(
    client, jobber_connection
):
    """A late or replayed APP_DISCONNECT (January's) for an account connected again today is
    about tokens already gone: the new connection stays active."""
    from django.utils import timezone

    jobber_connection.connected_at = timezone.now()
    jobber_connection.save(update_fields=["connected_at"])
    old = json.loads(payload(ACCOUNT, "APP_DISCONNECT", encode_id("Account", ACCOUNT)))
    old["data"]["webHookEvent"]["occurredAt"] = "2026-01-01T00:00:00Z"
    body = json.dumps(old).encode()
    assert post(client, body).status_code == 200
    jobber_connection.refresh_from_db()
    assert jobber_connection.status == "active", jobber_connection.last_error
