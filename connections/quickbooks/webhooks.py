"""QuickBooks webhook verification and parsing (pure functions)."""

from dataclasses import dataclass

from ..signatures import base64_hmac_valid
from ..webhook_body import MalformedWebhook, parsed_json


@dataclass(frozen=True)
class QuickBooksEvent:
    realm_id: str
    entity: str
    entity_id: str
    operation: str
    last_updated: str
    event_id: str = ""  # CloudEvents `id`; the legacy shape has none

    @property
    def identity(self) -> str:
        """What makes this event itself: its CloudEvents id, or (legacy) the record, the
        operation and when it happened."""
        if self.event_id:
            return f"id:{self.event_id}"
        fields = (self.realm_id, self.entity, self.entity_id, self.operation, self.last_updated)
        return "|".join(fields)


def signature_valid(body: bytes, signature: str, verifier_token: str) -> bool:
    """`intuit-signature` is base64(HMAC-SHA256(verifier token, raw body))."""
    return base64_hmac_valid(body, signature, verifier_token)


def parse_events(body: bytes) -> list[QuickBooksEvent]:
    """Events from the legacy `eventNotifications` shape or the CloudEvents array."""
    payload = parsed_json(body)
    events: list[QuickBooksEvent] = []
    try:
        if isinstance(payload, dict) and "eventNotifications" in payload:
            for notification in payload["eventNotifications"]:
                realm = str(notification["realmId"])
                for entity in notification["dataChangeEvent"]["entities"]:
                    events.append(
                        QuickBooksEvent(
                            realm,
                            str(entity["name"]),
                            str(entity["id"]),
                            str(entity["operation"]),
                            str(entity.get("lastUpdated", "")),
                        )
                    )
        elif isinstance(payload, list):
            for event in payload:
                # qbo.<entity>.<verb>.v1
                _, entity, verb, _version = str(event["type"]).split(".")
                events.append(
                    QuickBooksEvent(
                        str(event["intuitaccountid"]),
                        entity.capitalize(),
                        str(event["intuitentityid"]),
                        verb.capitalize(),
                        str(event.get("time", "")),
                        str(event["id"]),
                    )
                )
        else:
            raise MalformedWebhook("neither eventNotifications nor a CloudEvents array")
    except (KeyError, TypeError, ValueError) as error:
        raise MalformedWebhook(f"missing or malformed field: {error}") from error
    if not events:
        raise MalformedWebhook("no events in the notification")
    return events


# QuickBooks entities → the neutral kinds of record a sync run picks up.
CHANGE_KINDS = {
    "Customer": "customer",
    "Invoice": "invoice",
    "Payment": "payment",
    "CreditMemo": "credit",
}


def changes(body: bytes) -> list[tuple[str, str]]:
    """(neutral kind, record id) of each change a delivery names; kinds sync does not read
    (an Item, an Account) come as ("", id)."""
    return [(CHANGE_KINDS.get(e.entity, ""), e.entity_id) for e in parse_events(body)]
