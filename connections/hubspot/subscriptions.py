"""The HubSpot app's webhook subscriptions: which CRM events reach our receiver.

Subscriptions belong to the developer app, not to a portal, so this runs once per app
(`manage.py hubspot_subscriptions`; `connect_sandbox` does it for the sandbox). Property
changes are subscribed per property: the ones the default field maps read.
"""

from django.conf import settings
from hubspot import HubSpot
from hubspot.webhooks import SettingsChangeRequest, SubscriptionCreateRequest

from ..providers import hubspot_api_base

WATCHED = {
    "deal": ["dealstage", "amount", "closedate"],
    # A line added to or changed on a won deal after it was invoiced: its invoice is checked.
    "line_item": ["name", "hs_sku", "quantity", "price", "discount"],
    "company": ["name", "phone", "address", "city", "state", "zip", "country", "description"],
    "contact": [
        "firstname",
        "lastname",
        "email",
        "phone",
        "mobilephone",
        "address",
        "city",
        "state",
        "zip",
        "country",
    ],
}


def wanted() -> list[tuple[str, str | None]]:
    events: list[tuple[str, str | None]] = []
    for singular, properties in WATCHED.items():
        events.append((f"{singular}.creation", None))
        events.extend((f"{singular}.propertyChange", p) for p in properties)
    return events


def ensure_subscriptions(target_url: str | None = None) -> int:
    """Subscribe the app to every wanted event it lacks; returns how many were added."""
    api = HubSpot(api_key=settings.HUBSPOT_DEVELOPER_API_KEY, host=hubspot_api_base())
    app_id = int(settings.HUBSPOT_APP_ID)
    if target_url:
        api.webhooks.settings_api.configure(app_id, SettingsChangeRequest(target_url=target_url))
    have = {
        (s.event_type, s.property_name or None)
        for s in api.webhooks.subscriptions_api.get_all(app_id).results
    }
    added = 0
    for event_type, prop in wanted():
        if (event_type, prop) not in have:
            api.webhooks.subscriptions_api.create(
                app_id,
                SubscriptionCreateRequest(event_type=event_type, property_name=prop, active=True),
            )
            added += 1
    return added
