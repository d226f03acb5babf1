"""Webhook deliveries for CRM changes, signed with HubSpot's v3 signature.

Deliveries go to the portal's `webhook_url` when the control API set one, else to the
app's `targetUrl` from the webhooks management API. Events of one API request are sent as
one JSON array, from a background thread started after the sandbox transaction commits.
The portal's fault plan may lose, duplicate or reorder events; every decision comes from
a `random.Random` seeded with the plan's seed and the event id, so a run repeats exactly.
"""

import base64
import hashlib
import hmac
import json
import logging
import random
import threading
import time
import urllib.request
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction

from sandbox.emulation import HUBSPOT, fault_plan
from sandbox.routers import SANDBOX_DB

from .models import Portal, WebhookSettings, WebhookSubscription
from .records import Change, next_event_ids

logger = logging.getLogger(__name__)
DELIVERY_TIMEOUT_SECONDS = 5
CHANGE_SOURCE = "API"


def app_id() -> str:
    return str(settings.HUBSPOT_APP_ID or "0")


def sign_v3(secret: str, method: str, url: str, body: str, timestamp: str) -> str:
    message = f"{method}{url}{body}{timestamp}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def queue(portal: Portal, singular: str, changes: Iterable[Change]) -> None:
    """Turn a request's changes into events for active subscriptions; send on commit."""
    changes = list(changes)
    target = portal.webhook_url or (
        WebhookSettings.objects.filter(app_id=app_id()).values_list("target_url", flat=True).first()
    )
    if not target or not changes:
        return
    subscriptions = list(
        WebhookSubscription.objects.filter(
            app_id=app_id(), active=True, event_type__startswith=f"{singular}."
        )
    )
    matched = []
    for change in changes:
        for sub in subscriptions:
            if sub.event_type != f"{singular}.{change.kind}":
                continue
            if change.kind == "propertyChange" and sub.property_name != change.property_name:
                continue
            matched.append((sub, change))
    if not matched:
        return
    occurred = int(time.time() * 1000)
    events = []
    for event_id, (sub, change) in zip(next_event_ids(portal, len(matched)), matched, strict=True):
        event = {
            "objectId": change.object_id,
            "changeSource": CHANGE_SOURCE,
            "eventId": event_id,
            "subscriptionId": sub.pk,
            "portalId": portal.pk,
            "appId": int(app_id()) if app_id().isdigit() else app_id(),
            "occurredAt": occurred,
            "subscriptionType": sub.event_type,
            "attemptNumber": 0,
        }
        if change.kind == "propertyChange":
            event["propertyName"] = change.property_name
            event["propertyValue"] = change.property_value
        events.append(event)
    events = apply_faults(str(portal.pk), events)
    if events:
        transaction.on_commit(lambda: start_delivery(target, events), using=SANDBOX_DB)


def apply_faults(portal_id: str, events: list[dict]) -> list[dict]:
    plan = fault_plan(HUBSPOT, portal_id)
    if not (plan.webhook_loss_rate or plan.webhook_duplicate_rate):
        return events
    kept = []
    for event in events:
        rng = random.Random(f"{plan.seed}:{portal_id}:{event['eventId']}")  # noqa: S311 - fault injection, not security
        if rng.random() < plan.webhook_loss_rate:
            continue
        kept.append(event)
        if rng.random() < plan.webhook_duplicate_rate:
            kept.append(dict(event))
    if kept:
        random.Random(f"{plan.seed}:{portal_id}:{kept[0]['eventId']}:order").shuffle(kept)  # noqa: S311 - fault injection
    return kept


def start_delivery(target: str, events: list[dict]) -> None:
    threading.Thread(target=deliver, args=(target, events), daemon=True).start()


def deliver(target: str, events: list[dict]) -> int | None:
    """POST the events once; returns the receiver's status or None when unreachable."""
    body = json.dumps(events)
    timestamp = str(int(time.time() * 1000))
    request = urllib.request.Request(  # noqa: S310 - the target is an http(s) URL set via the API
        target,
        data=body.encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "HubSpot Connect 2.0 (http://dev.hubspot.com/) (sandbox)",
            "X-HubSpot-Signature-v3": sign_v3(
                settings.HUBSPOT_CLIENT_SECRET, "POST", target, body, timestamp
            ),
            "X-HubSpot-Signature-Version": "v3",
            "X-HubSpot-Request-Timestamp": timestamp,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=DELIVERY_TIMEOUT_SECONDS) as response:  # noqa: S310 - see above
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        logger.warning("HubSpot sandbox webhook to %s failed", target, exc_info=True)
        return None
