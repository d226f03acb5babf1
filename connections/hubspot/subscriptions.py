"""The HubSpot app's webhook subscriptions: which CRM events reach our receiver.

Subscriptions belong to the developer app, not to a portal, so this runs once per app
(`manage.py hubspot_subscriptions`; `connect_sandbox` does it for the sandbox). Property
changes are subscribed per property: the ones the default field maps read.
"""

from django.conf import settings
from hubspot import HubSpot
from hubspot.webhooks import (
    SettingsChangeRequest,
    SubscriptionCreateRequest,
    SubscriptionPatchRequest,
)

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


def _api() -> tuple[HubSpot, int]:
    api = HubSpot(api_key=settings.HUBSPOT_DEVELOPER_API_KEY, host=hubspot_api_base())
    return api, int(settings.HUBSPOT_APP_ID)


# What a person calls each object's records, for the gaps said on a client's page.
PLURALS = {
    "deal": "deals",
    "line_item": "deal lines",
    "company": "companies",
    "contact": "contacts",
}


def _named(event_type: str, prop: str | None) -> str:
    """An event as an accountant reads it, HubSpot's own name after it for whoever mends it:
    "new deals (deal.creation)", "deals' dealstage changing (deal.propertyChange)"."""
    singular, _, kind = event_type.partition(".")
    things = PLURALS.get(singular, singular)
    words = f"{things}' {prop} changing" if prop else f"new {things}"
    return f"{words} ({event_type})" if kind else event_type


def ensure_subscriptions(target_url: str | None = None) -> int:
    """Subscribe the app to every wanted event it lacks, and turn on any that was paused;
    returns how many were added or turned on."""
    api, app_id = _api()
    if target_url:
        api.webhooks.settings_api.configure(app_id, SettingsChangeRequest(target_url=target_url))
    have = {
        (s.event_type, s.property_name or None): s
        for s in api.webhooks.subscriptions_api.get_all(app_id).results
    }
    added = 0
    for event_type, prop in wanted():
        found = have.get((event_type, prop))
        if found is None:
            api.webhooks.subscriptions_api.create(
                app_id,
                SubscriptionCreateRequest(event_type=event_type, property_name=prop, active=True),
            )
            added += 1
        elif not found.active:
            api.webhooks.subscriptions_api.update(
                found.id, app_id, SubscriptionPatchRequest(active=True)
            )
            added += 1
    return added


def subscription_gaps() -> list[str]:
    """The wanted events the app is not actively subscribed to, in words ("new deals
    (deal.creation)", "deals' dealstage changing (deal.propertyChange)"): each one a change
    that reaches syncfirm only at the
    scheduled pull. Raises what the HubSpot client raises when the check cannot be made."""
    api, app_id = _api()
    active = {
        (s.event_type, s.property_name or None)
        for s in api.webhooks.subscriptions_api.get_all(app_id).results
        if s.active
    }
    return [_named(e, p) for e, p in wanted() if (e, p) not in active]
