"""Xero webhooks: signed deliveries after writes commit, and the intent-to-receive check.

A delivery is `{"events": [...], "firstEventSequence", "lastEventSequence", "entropy"}`
signed in `x-xero-signature` as base64(HMAC-SHA256(webhook key, raw body)) (api-facts
C11). Events cover contacts, invoices and credit notes only: Xero sends none for payments.
Deliveries start only once the receiver has passed intent-to-receive: answered 200 to
every correctly signed probe and 401 to every wrongly signed one. The fault plan can
lose or duplicate deliveries, as for QuickBooks.
"""

import json
import logging
import queue
import secrets
import threading
from collections import Counter
from datetime import UTC, datetime

import requests
from django.conf import settings
from django.db import transaction

from sandbox.emulation import RESET_HOOKS, XERO, webhook_copies
from sandbox.quickbooks.webhooks import sign
from sandbox.routers import SANDBOX_DB

from .models import Organisation
from .store import Event

log = logging.getLogger(__name__)
RESOURCE = {"CONTACT": "Contacts", "INVOICE": "Invoices", "CREDITNOTE": "CreditNotes"}
_lock = threading.Lock()
_sequence: Counter[str] = Counter()
_outbox: queue.SimpleQueue[tuple[str, bytes, int]] = queue.SimpleQueue()
_worker: threading.Thread | None = None


def payload(tenant_id: str, events: list[Event], first_sequence: int) -> bytes:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
    seen, rows = set(), []
    for event in events:  # one event per record and kind, in order
        if (event.record_id, event.kind) in seen:
            continue
        seen.add((event.record_id, event.kind))
        rows.append(
            {
                "resourceUrl": f"https://api.xero.com/api.xro/2.0/"
                f"{RESOURCE[event.category]}/{event.record_id}",
                "resourceId": event.record_id,
                "eventDateUtc": now,
                "eventType": event.kind,
                "eventCategory": event.category,
                "tenantId": tenant_id,
                "tenantType": "ORGANISATION",
            }
        )
    body = {
        "events": rows,
        "firstEventSequence": first_sequence,
        "lastEventSequence": first_sequence + len(rows) - 1 if rows else first_sequence,
        "entropy": secrets.token_hex(10).upper(),
    }
    return json.dumps(body).encode()


def signature(body: bytes) -> str:
    return sign(body, settings.XERO_WEBHOOK_KEY)


def _post(url: str, body: bytes, signed: str) -> int | None:
    headers = {"Content-Type": "application/json", "x-xero-signature": signed}
    try:
        # Xero gives a receiver 5 seconds to answer.
        return requests.post(url, data=body, headers=headers, timeout=5).status_code
    except requests.RequestException as error:
        log.info("sandbox: Xero webhook to %s failed: %s", url, error)
        return None


def _work() -> None:
    while True:
        url, body, copies = _outbox.get()
        for _ in range(copies):
            _post(url, body, signature(body))


def _enqueue(url: str, body: bytes, copies: int) -> None:
    global _worker
    with _lock:
        if _worker is None or not _worker.is_alive():
            _worker = threading.Thread(target=_work, name="xero-webhooks", daemon=True)
            _worker.start()
    _outbox.put((url, body, copies))


def notify(organisation: Organisation, events: list[Event]) -> None:
    """Send the events once the sandbox transaction commits, if the webhook is enabled."""
    if not events or not organisation.webhook_url or not organisation.webhook_enabled:
        return
    url, tenant_id = organisation.webhook_url, organisation.tenant_id

    def send() -> None:
        with _lock:
            first = _sequence[tenant_id] + 1
            _sequence[tenant_id] += len(events)
        copies = webhook_copies(XERO, tenant_id)
        if copies:
            _enqueue(url, payload(tenant_id, events, first), copies)

    transaction.on_commit(send, using=SANDBOX_DB)


def intent_to_receive(organisation: Organisation, probes: int = 4) -> dict:
    """Probe the receiver as Xero does; enable deliveries only if it answered every probe right."""
    results = []
    for n in range(probes):
        body = payload(organisation.tenant_id, [], 0)
        good = n % 2 == 0
        signed = signature(body) if good else signature(body + b"tampered")
        status = _post(organisation.webhook_url, body, signed)
        results.append({"signed_correctly": good, "status": status})
    passed = all(r["status"] == (200 if r["signed_correctly"] else 401) for r in results)
    organisation.webhook_enabled = passed
    organisation.save(update_fields=["webhook_enabled"])
    return {"passed": passed, "probes": results}


def _forget_all() -> None:
    with _lock:
        _sequence.clear()


RESET_HOOKS.append(_forget_all)
