"""HubSpot webhook verification (signature v3) and parsing (pure functions)."""

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass

from ..webhook_body import MalformedWebhook, parsed_json

MAX_AGE_SECONDS = 300


@dataclass(frozen=True)
class HubSpotEvent:
    portal_id: str
    event_id: str
    subscription_type: str
    object_id: str
    property_name: str
    property_value: str
    occurred_at_ms: int

    @property
    def identity(self) -> str:
        """HubSpot says `eventId` alone is not guaranteed unique, so the event's other facts
        go with it; `attemptNumber` does not (a retry is the same event)."""
        fields = (self.portal_id, self.event_id, self.subscription_type, self.object_id,
                  str(self.occurred_at_ms), self.property_name, self.property_value)  # fmt: skip
        return "|".join(fields)


def signature_v3(secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    message = method.encode() + uri.encode() + body + timestamp.encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def timestamp_fresh(timestamp: str, now: float | None = None) -> bool:
    try:
        sent = int(timestamp) / 1000
    except (TypeError, ValueError):
        return False
    now = time.time() if now is None else now
    # A little skew into the future is tolerated; older than 5 minutes is refused.
    return -30 <= now - sent <= MAX_AGE_SECONDS


def signature_valid(
    secret: str, method: str, uri: str, body: bytes, timestamp: str, signature: str
) -> bool:
    if not (secret and signature and timestamp):
        return False
    expected = signature_v3(secret, method, uri, body, timestamp)
    return hmac.compare_digest(expected.encode(), signature.encode())


def parse_events(body: bytes) -> list[HubSpotEvent]:
    payload = parsed_json(body)
    if not isinstance(payload, list) or not payload:
        raise MalformedWebhook("expected a non-empty JSON array of events")
    events = []
    try:
        for event in payload:
            events.append(
                HubSpotEvent(
                    portal_id=str(event["portalId"]),
                    event_id=str(event["eventId"]),
                    # Some documentation calls it eventType.
                    subscription_type=str(event.get("subscriptionType") or event["eventType"]),
                    object_id=str(event["objectId"]),
                    property_name=str(event.get("propertyName", "")),
                    property_value=str(event.get("propertyValue", "")),
                    occurred_at_ms=int(event.get("occurredAt", 0)),
                )
            )
    except (KeyError, TypeError, ValueError, OverflowError) as error:  # occurredAt: 1e309
        raise MalformedWebhook(f"missing or malformed field: {error}") from error
    return events


# Subscription type prefix → the CRM object type sync reads.
CRM_OBJECT_TYPES = {
    "company": "companies",
    "contact": "contacts",
    "deal": "deals",
    "line_item": "line_items",  # read as the deals they belong to
}


def changes(body: bytes) -> list[tuple[str, str]]:
    """(CRM object type, record id) of each change a delivery names; deletions (left to
    reconciliation) and object types sync does not read come as ("", id)."""
    found = []
    for event in parse_events(body):
        crm_type = CRM_OBJECT_TYPES.get(event.subscription_type.split(".")[0], "")
        deleted = event.subscription_type.endswith(".deletion")
        found.append(("" if deleted else crm_type, event.object_id))
    return found
