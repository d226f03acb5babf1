"""QuickBooks webhooks: after a write commits, POST the legacy notification payload to the
company's webhook URL, signed with the app's verifier token, from a background thread.

One request's changes make one notification. Notifications go through a single worker
thread and a queue, so they arrive in the order the writes committed (QBO delivers in
order) and a burst of writes never starts a burst of threads; the API response never waits.
The account's fault plan can lose or duplicate deliveries, deterministically from its seed.
"""

import base64
import hashlib
import hmac
import json
import logging
import queue
import threading

import requests
from django.conf import settings
from django.db import transaction

from sandbox.emulation import QUICKBOOKS, webhook_copies
from sandbox.routers import SANDBOX_DB

from .models import Company
from .store import Event

log = logging.getLogger(__name__)
_lock = threading.Lock()
_outbox: queue.SimpleQueue[tuple[str, bytes, int]] = queue.SimpleQueue()
_worker: threading.Thread | None = None


def collapse(events: list[Event]) -> list[Event]:
    """One event per entity per request, in first-touched order.

    A write touches some entities twice (a new payment is created, then its UnappliedAmt
    is settled); QBO reports the entity once, with the operation that matters: a Create
    followed by Updates stays a Create, anything else takes the latest operation.
    """
    latest: dict[tuple[str, str], Event] = {}
    for event in events:
        key = (event.name, event.entity_id)
        seen = latest.get(key)
        keep_create = seen is not None and seen.operation == "Create"
        operation = "Create" if keep_create and event.operation == "Update" else event.operation
        latest[key] = Event(event.name, event.entity_id, operation, event.last_updated)
    return list(latest.values())


def payload(realm_id: str, events: list[Event]) -> bytes:
    entities = [
        {"name": e.name, "id": e.entity_id, "operation": e.operation, "lastUpdated": e.last_updated}
        for e in collapse(events)
    ]
    body = {
        "eventNotifications": [{"realmId": realm_id, "dataChangeEvent": {"entities": entities}}]
    }
    return json.dumps(body).encode()


def sign(body: bytes, verifier_token: str) -> str:
    return base64.b64encode(
        hmac.new(verifier_token.encode(), body, hashlib.sha256).digest()
    ).decode()


def _work() -> None:
    while True:
        url, body, copies = _outbox.get()
        try:
            _deliver(url, body, copies)
        except Exception:  # the worker must outlive any one bad delivery
            log.exception("sandbox: QuickBooks webhook to %s failed", url)


def _enqueue(url: str, body: bytes, copies: int) -> None:
    global _worker
    with _lock:
        if _worker is None or not _worker.is_alive():
            _worker = threading.Thread(target=_work, name="qbo-webhooks", daemon=True)
            _worker.start()
    _outbox.put((url, body, copies))


def _deliver(url: str, body: bytes, copies: int) -> None:
    headers = {
        "Content-Type": "application/json",
        "intuit-signature": sign(body, settings.QUICKBOOKS_WEBHOOK_VERIFIER_TOKEN),
    }
    for _ in range(copies):
        try:
            # QBO gives a receiver 3 seconds; a slow one must not hold up the queue longer.
            requests.post(url, data=body, headers=headers, timeout=3)
        except requests.RequestException as error:
            log.info("sandbox: QuickBooks webhook to %s failed: %s", url, error)


def notify(company: Company, events: list[Event]) -> None:
    """Send the events once the sandbox transaction commits (never inside the request)."""
    if not events or not company.webhook_url:
        return
    url, realm_id, body = company.webhook_url, company.realm_id, payload(company.realm_id, events)

    def send() -> None:
        copies = webhook_copies(QUICKBOOKS, realm_id)
        if copies:
            _enqueue(url, body, copies)

    transaction.on_commit(send, using=SANDBOX_DB)
