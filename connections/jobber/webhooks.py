"""Jobber webhook verification and parsing (pure functions; api-facts E6).

One event per delivery, ids only: `{"data": {"webHookEvent": {topic, appId, accountId,
itemId, occurredAt}}}`, signed in `X-Jobber-Hmac-SHA256` as base64(HMAC-SHA256(the app's
OAuth client secret, raw body)). Delivery is at least once: a repeat is the same event
(topic, account, item, time) and is refused as a replay by the receiver.
"""

from dataclasses import dataclass

from ..signatures import base64_hmac_valid
from ..webhook_body import MalformedWebhook, parsed_json
from . import schema

HEADER = schema.WEBHOOK_SIGNATURE_HEADER
APP_DISCONNECT = schema.APP_DISCONNECT


@dataclass(frozen=True)
class JobberEvent:
    topic: str
    account_id: str
    item_id: str
    occurred_at: str

    @property
    def identity(self) -> str:
        return "|".join((self.account_id, self.topic, self.item_id, self.occurred_at))

    @property
    def object_name(self) -> str:
        """CLIENT, INVOICE, JOB, …; APP for the app's own topics."""
        return self.topic.rsplit("_", 1)[0]

    @property
    def destroyed(self) -> bool:
        return self.topic.endswith("_DESTROY")


def signature_valid(body: bytes, signature: str, secret: str) -> bool:
    return base64_hmac_valid(body, signature, secret)


def parse_events(body: bytes) -> list[JobberEvent]:
    payload = parsed_json(body)
    try:
        event = schema.webhook_event(payload)
    except (KeyError, TypeError, AttributeError) as error:
        raise MalformedWebhook(f"missing or malformed field: {error}") from error
    if not (event["topic"] and event["account_id"] and event["item_id"]):
        raise MalformedWebhook("the event has no topic, account or item")
    return [
        JobberEvent(event["topic"], event["account_id"], event["item_id"], event["occurred_at"])
    ]


def changes(body: bytes) -> list[tuple[str, str]]:
    """(CRM object type, record id) of each change a delivery names. A client may be a
    company or a person and the topic does not say: it is named as both, and sync's read
    finds it as the one it is. Deletions (left to reconciliation), jobs (their invoices
    carry what is posted and come with their own events) and other objects are ("", id)."""
    found = []
    for event in parse_events(body):
        kind = schema.TOPIC_OBJECTS.get(event.object_name, "")
        if event.destroyed or kind in ("", "jobs"):
            found.append(("", event.item_id))
        elif kind == "clients":
            found += [("companies", event.item_id), ("contacts", event.item_id)]
        else:
            found.append((kind, event.item_id))
    return found
