"""Webhooks v3 management API (developer app settings and subscriptions).

The real API authenticates with the developer's `hapikey`; the sandbox accepts any
non-empty one, because it has no developer accounts.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from sandbox.emulation import HUBSPOT, emulated

from .api import iso, json_body, respond
from .errors import HubSpotError, not_found, validation
from .models import WebhookSettings, WebhookSubscription
from .oauth import no_account

EVENT_OBJECTS = ("contact", "company", "deal", "ticket", "product", "line_item")
EVENT_KINDS = ("creation", "deletion", "propertyChange", "merge", "restore", "associationChange")


def developer_api(methods: tuple[str, ...]) -> Callable:
    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def inner(request: HttpRequest, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                return HttpResponse(status=405)
            if not request.GET.get("hapikey"):
                return HubSpotError(
                    401, "INVALID_AUTHENTICATION", "This API requires a developer hapikey."
                ).response()
            try:
                return view(request, **kwargs)
            except HubSpotError as exc:
                return exc.response()

        return csrf_exempt(emulated(HUBSPOT, no_account)(inner))

    return decorator


def _settings_json(found: WebhookSettings) -> dict:
    return {
        "targetUrl": found.target_url,
        "throttling": {
            "maxConcurrentRequests": found.max_concurrent_requests,
            "period": "SECONDLY",
        },
        "createdAt": iso(found.created_at),
        "updatedAt": iso(found.updated_at),
    }


@developer_api(("GET", "PUT", "DELETE"))
def settings_view(request: HttpRequest, app_id: str) -> HttpResponse:
    found = WebhookSettings.objects.filter(app_id=app_id).first()
    if request.method == "GET":
        if found is None:
            raise not_found(f"No webhook settings for app {app_id}")
        return respond(_settings_json(found))
    if request.method == "DELETE":
        WebhookSettings.objects.filter(app_id=app_id).delete()
        return HttpResponse(status=204)
    body = json_body(request)
    target = str(body.get("targetUrl") or "")
    if not target.startswith(("http://", "https://")):
        raise validation("targetUrl must be an http(s) URL")
    concurrent = int((body.get("throttling") or {}).get("maxConcurrentRequests") or 10)
    found, _ = WebhookSettings.objects.update_or_create(
        app_id=app_id, defaults={"target_url": target, "max_concurrent_requests": concurrent}
    )
    return respond(_settings_json(found))


def _subscription_json(sub: WebhookSubscription) -> dict:
    body = {
        "id": str(sub.pk),
        "eventType": sub.event_type,
        "active": sub.active,
        "createdAt": iso(sub.created_at),
        "updatedAt": iso(sub.updated_at),
    }
    if sub.property_name:
        body["propertyName"] = sub.property_name
    return body


@developer_api(("GET", "POST"))
def subscriptions(request: HttpRequest, app_id: str) -> HttpResponse:
    if request.method == "GET":
        subs = WebhookSubscription.objects.filter(app_id=app_id).order_by("pk")
        return respond({"results": [_subscription_json(s) for s in subs]})
    body = json_body(request)
    event_type = str(body.get("eventType") or "")
    prefix, _, kind = event_type.partition(".")
    if prefix not in EVENT_OBJECTS or kind not in EVENT_KINDS:
        raise validation(f"Unknown eventType {event_type!r}")
    if kind == "propertyChange" and not body.get("propertyName"):
        raise validation("propertyChange subscriptions require propertyName")
    sub = WebhookSubscription.objects.create(
        app_id=app_id,
        event_type=event_type,
        property_name=str(body.get("propertyName") or ""),
        active=bool(body.get("active", False)),
    )
    return respond(_subscription_json(sub), status=201)


@developer_api(("GET", "PATCH", "DELETE"))
def subscription(request: HttpRequest, app_id: str, subscription_id: int) -> HttpResponse:
    sub = WebhookSubscription.objects.filter(app_id=app_id, pk=subscription_id).first()
    if sub is None:
        raise not_found(f"No subscription {subscription_id}")
    if request.method == "DELETE":
        sub.delete()
        return HttpResponse(status=204)
    if request.method == "PATCH":
        body = json_body(request)
        if "active" in body:
            sub.active = bool(body["active"])
        sub.save()
    return respond(_subscription_json(sub))
