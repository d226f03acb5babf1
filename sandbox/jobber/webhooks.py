"""Jobber webhooks: one signed delivery per event, after the write commits (api-facts E6).

The body is `{"data": {"webHookEvent": {topic, appId, accountId, itemId, occurredAt}}}`
(ids only: the receiver fetches the record by `itemId`), signed in `X-Jobber-Hmac-SHA256`
as base64(HMAC-SHA256(the app's client secret, raw body)). Delivery is at least once: a
receiver that fails or does not answer within a second is tried again (twice more), and
the fault plan can lose or duplicate deliveries, as for the other emulators.
"""

import json
import logging
import queue
import threading
import time
from datetime import UTC, datetime

import requests
from django.conf import settings
from django.db import transaction

from sandbox.emulation import JOBBER, webhook_copies
from sandbox.quickbooks.webhooks import sign
from sandbox.routers import SANDBOX_DB

from .ids import encode_id
from .models import Account

log = logging.getLogger(__name__)
HEADER = "X-Jobber-Hmac-SHA256"
TIMEOUT = 1.0  # Jobber's receivers must answer within a second
RETRY_DELAYS = (0.5, 2.0)
_lock = threading.Lock()
_outbox: queue.SimpleQueue[tuple[str, bytes, int]] = queue.SimpleQueue()
_worker: threading.Thread | None = None


def payload(account_id: int, topic: str, item_id: str) -> bytes:
    event = {
        "topic": topic,
        "appId": settings.JOBBER_CLIENT_ID,
        "accountId": encode_id("Account", account_id),
        "itemId": item_id,
        "occurredAt": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return json.dumps({"data": {"webHookEvent": event}}).encode()


def signature(body: bytes) -> str:
    return sign(body, settings.JOBBER_CLIENT_SECRET)


def _post(url: str, body: bytes) -> bool:
    headers = {"Content-Type": "application/json", HEADER: signature(body)}
    try:
        status = requests.post(url, data=body, headers=headers, timeout=TIMEOUT).status_code
    except requests.RequestException as error:
        log.info("sandbox: Jobber webhook to %s failed: %s", url, error)
        return False
    return 200 <= status < 300


def _deliver(url: str, body: bytes) -> None:
    for delay in (0.0, *RETRY_DELAYS):
        time.sleep(delay)
        if _post(url, body):
            return


def _work() -> None:
    while True:
        url, body, copies = _outbox.get()
        for _ in range(copies):
            _deliver(url, body)


def _enqueue(url: str, body: bytes, copies: int) -> None:
    global _worker
    with _lock:
        if _worker is None or not _worker.is_alive():
            _worker = threading.Thread(target=_work, name="jobber-webhooks", daemon=True)
            _worker.start()
    _outbox.put((url, body, copies))


def notify(account: Account, events: list[tuple[str, str]]) -> None:
    """Send (topic, encoded item id) events once the sandbox transaction commits."""
    if not events or not account.webhook_url or not account.connected:
        return
    url, account_id = account.webhook_url, account.pk

    def send() -> None:
        for topic, item_id in events:
            copies = webhook_copies(JOBBER, str(account_id))
            if copies:
                _enqueue(url, payload(account_id, topic, item_id), copies)

    transaction.on_commit(send, using=SANDBOX_DB)
