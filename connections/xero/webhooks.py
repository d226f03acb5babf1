"""Xero webhook verification and parsing (pure functions).

A delivery is `{"events": [...], "firstEventSequence", "lastEventSequence", "entropy"}`,
signed in `x-xero-signature` as base64(HMAC-SHA256(webhook key, raw body)) (api-facts
C11). A delivery with no events is Xero's intent-to-receive probe: it only checks that the
receiver answers 200 to a good signature and 401 to a bad one. Xero sends no payment
events; the change feed catches those.
"""

import json
from dataclasses import dataclass

from ..signatures import base64_hmac_valid
from ..webhook_body import MalformedWebhook, parsed_json


@dataclass(frozen=True)
class XeroEvent:
    tenant_id: str
    category: str  # CONTACT, INVOICE, CREDITNOTE (SUBSCRIPTION is the app's, not a tenant's)
    event_type: str  # CREATE, UPDATE
    resource_id: str
    event_date: str

    @property
    def identity(self) -> str:
        """Xero gives an event no id: the record, what happened to it and when."""
        fields = (self.tenant_id, self.category, self.resource_id, self.event_type)
        return "|".join((*fields, self.event_date))


def signature_valid(body: bytes, signature: str, webhook_key: str) -> bool:
    """`x-xero-signature` is base64(HMAC-SHA256(webhook key, raw body))."""
    return base64_hmac_valid(body, signature, webhook_key)


def is_intent_to_receive(body: bytes) -> bool:
    """Xero's probe: a notification object with an empty `events` list."""
    try:
        payload = json.loads(body)
    except ValueError:
        return False
    return isinstance(payload, dict) and payload.get("events") == []


def parse_events(body: bytes) -> list[XeroEvent]:
    """The tenants' events of a delivery; SUBSCRIPTION events (about the app) are left out."""
    payload = parsed_json(body)
    if not isinstance(payload, dict) or not isinstance(payload.get("events"), list):
        raise MalformedWebhook("no events list")
    events: list[XeroEvent] = []
    try:
        for event in payload["events"]:
            if event.get("tenantType", "ORGANISATION") != "ORGANISATION":
                continue
            events.append(
                XeroEvent(
                    str(event["tenantId"]),
                    str(event["eventCategory"]),
                    str(event["eventType"]),
                    str(event["resourceId"]),
                    str(event.get("eventDateUtc", "")),
                )
            )
    except (KeyError, TypeError, AttributeError) as error:
        raise MalformedWebhook(f"missing or malformed field: {error}") from error
    if not events:
        raise MalformedWebhook("no organisation events in the notification")
    return events


def part_of(payload: dict, tenant_id: str) -> dict:
    """The part of a verified delivery that is about `tenant_id`."""
    kept = [e for e in payload["events"] if str(e.get("tenantId")) == tenant_id]
    return {**payload, "events": kept}


# Xero categories → the neutral kinds of record a sync run picks up.
CHANGE_KINDS = {"CONTACT": "customer", "INVOICE": "invoice", "CREDITNOTE": "credit"}


def changes(body: bytes) -> list[tuple[str, str]]:
    """(neutral kind, record id) of each change a delivery names."""
    return [(CHANGE_KINDS.get(e.category, ""), e.resource_id) for e in parse_events(body)]
