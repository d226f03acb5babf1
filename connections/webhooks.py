"""Webhook receivers: verify the signature first, store the raw body, enqueue, answer fast.

- bad or missing signature → 401, nothing stored, one log line;
- a replay → 409, not stored again. A replay is known by its events' own identities (or,
  for a body that does not parse, its bytes), never by the signature's bytes: base64 has
  more than one spelling of the same HMAC, and HubSpot signs a fresh timestamp per send;
- unknown realm/portal/tenant → 200 and a log line, so the provider keeps the endpoint enabled.
- events for several companies in one delivery (Intuit's `eventNotifications` holds one
  entry per realm; HubSpot batches an app's events) → stored as one delivery per company,
  each holding only that company's events, each routed and replay-checked on its own.
  Only the connection that proved the company (see `connections.binding`) receives its
  events: at most one holds it, and a revoked or set-aside connection holds none;
- a body that is not a JSON object/array we can store, or is nested too deep → 400, not
  stored (`webhook_body.refused_body`);
- malformed body → stored as quarantined with the reason, 200.
Nothing is processed inside the request: `sync.tasks.process_webhook` does it.
"""

import hashlib
import json
import logging
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_q.tasks import async_task

from .hubspot import webhooks as hubspot
from .jobber import webhooks as jobber
from .models import BOUND_STATUSES, Connection, DeliveryStatus, WebhookDelivery
from .providers import System
from .quickbooks import webhooks as quickbooks
from .webhook_body import MalformedWebhook, refused_body
from .xero import webhooks as xero

log = logging.getLogger(__name__)

KEPT_HEADERS = (
    "Content-Type",
    "User-Agent",
    "intuit-signature",
    "X-HubSpot-Signature-v3",
    "X-HubSpot-Request-Timestamp",
    "x-xero-signature",
    jobber.HEADER,
)


def _connection_for(system: str, account_id: str) -> Connection | None:
    # `one_connection_per_company` makes this at most one row.
    return Connection.objects.filter(
        system=system, external_id=account_id, status__in=BOUND_STATUSES
    ).first()


def event_key(identities: list[str] | None, body: bytes) -> str:
    """The replay key of a delivery: its events' identities, order aside; the body's bytes
    only when it held no events we could read."""
    if identities is None:
        return hashlib.sha256(b"body:" + body).hexdigest()
    return hashlib.sha256("\n".join(sorted(set(identities))).encode()).hexdigest()


def _store(
    request: HttpRequest,
    system: str,
    signature: str,
    account_id: str,
    *,
    identities: list[str] | None = None,
    quarantine_reason: str = "",
    body: bytes | None = None,
) -> HttpResponse:
    body = request.body if body is None else body
    event_count = len(identities or ())
    connection = _connection_for(system, account_id) if account_id else None
    if account_id and connection is None and not quarantine_reason:
        log.warning("%s webhook for unknown account %s ignored", system, account_id)
        return JsonResponse({"status": "ignored", "reason": "unknown account"})
    delivery = WebhookDelivery(
        system=system,
        account_id=account_id,
        connection=connection,
        body=body.decode("utf-8", errors="replace"),
        body_sha256=hashlib.sha256(body).hexdigest(),
        event_key=event_key(identities, body),
        signature=signature[:200],
        headers={h: request.headers[h] for h in KEPT_HEADERS if h in request.headers},
        event_count=event_count,
        status=DeliveryStatus.QUARANTINED if quarantine_reason else DeliveryStatus.QUEUED,
        reason=quarantine_reason,
    )
    try:
        with transaction.atomic():
            delivery.save()
            if not quarantine_reason:
                transaction.on_commit(lambda: async_task("sync.tasks.process_webhook", delivery.pk))
    except IntegrityError:
        log.warning("%s webhook replay refused (events already received)", system)
        return JsonResponse({"status": "refused", "reason": "replayed delivery"}, status=409)
    status = "quarantined" if quarantine_reason else "queued"
    return JsonResponse({"status": status, "id": delivery.pk})


def _quickbooks_part(payload, realm: str):
    """The part of a verified QuickBooks body that is about `realm` (either shape)."""
    if isinstance(payload, dict):
        kept = [n for n in payload["eventNotifications"] if str(n["realmId"]) == realm]
        return {**payload, "eventNotifications": kept}
    return [event for event in payload if str(event["intuitaccountid"]) == realm]


def _hubspot_part(payload, portal: str):
    return [event for event in payload if str(event["portalId"]) == portal]


def _store_each_account(
    request: HttpRequest,
    system: str,
    signature: str,
    events: list,
    account_of: Callable,
    part_of: Callable,
) -> HttpResponse:
    """Store the delivery, or, when its events are about several companies, one delivery per
    company holding only its events: each company's events reach only the client holding
    it, and a replay is known per company. (Quarantining the whole delivery lost them all.)"""
    accounts = sorted({account_of(event) for event in events})
    if len(accounts) == 1:
        identities = [event.identity for event in events]
        return _store(request, system, signature, accounts[0], identities=identities)
    payload = json.loads(request.body)  # verified and parsed once already
    answers = [
        _store(
            request,
            system,
            signature,
            account,
            identities=[e.identity for e in events if account_of(e) == account],
            body=json.dumps(part_of(payload, account)).encode(),
        )
        for account in accounts
    ]
    if all(answer.status_code == 409 for answer in answers):
        return answers[0]
    return JsonResponse(
        {"status": "split", "parts": [json.loads(answer.content) for answer in answers]}
    )


def _unauthorised(system: str, why: str) -> HttpResponse:
    log.warning("%s webhook refused: %s", system, why)
    return JsonResponse({"status": "unauthorised"}, status=401)


def _parsed(
    request: HttpRequest, system: str, signature: str, parse
) -> tuple[list, HttpResponse | None]:
    """A verified body's events, or the answer instead: a 400 for an unusable body (not
    stored), the stored quarantine for one the provider's parser does not understand."""
    if refused := refused_body(system, request.body):
        return [], refused
    try:
        return parse(request.body), None
    except MalformedWebhook as error:
        return [], _store(request, system, signature, "", quarantine_reason=str(error))


@csrf_exempt
@require_POST
def quickbooks_webhook(request: HttpRequest) -> HttpResponse:
    signature = request.headers.get("intuit-signature", "")
    if not quickbooks.signature_valid(
        request.body, signature, settings.QUICKBOOKS_WEBHOOK_VERIFIER_TOKEN
    ):
        return _unauthorised(System.QUICKBOOKS, "bad or missing intuit-signature")
    events, answer = _parsed(request, System.QUICKBOOKS, signature, quickbooks.parse_events)
    if answer is not None:
        return answer
    return _store_each_account(
        request, System.QUICKBOOKS, signature, events, lambda e: e.realm_id, _quickbooks_part
    )


@csrf_exempt
@require_POST
def hubspot_webhook(request: HttpRequest) -> HttpResponse:
    signature = request.headers.get("X-HubSpot-Signature-v3", "")
    timestamp = request.headers.get("X-HubSpot-Request-Timestamp", "")
    if not hubspot.timestamp_fresh(timestamp):
        return _unauthorised(System.HUBSPOT, "missing or stale X-HubSpot-Request-Timestamp")
    if not hubspot.signature_valid(
        settings.HUBSPOT_CLIENT_SECRET,
        request.method,
        request.build_absolute_uri(),
        request.body,
        timestamp,
        signature,
    ):
        return _unauthorised(System.HUBSPOT, "bad or missing X-HubSpot-Signature-v3")
    events, answer = _parsed(request, System.HUBSPOT, signature, hubspot.parse_events)
    if answer is not None:
        return answer
    return _store_each_account(
        request, System.HUBSPOT, signature, events, lambda e: e.portal_id, _hubspot_part
    )


def _xero_answer(response: HttpResponse) -> HttpResponse:
    """Xero wants 200 with no body. A replay is answered 200 too: Xero retries anything else
    for a day, then disables the webhook, and the events were received the first time."""
    return HttpResponse(status=200 if response.status_code in (200, 409) else response.status_code)


@csrf_exempt
@require_POST
def xero_webhook(request: HttpRequest) -> HttpResponse:
    signature = request.headers.get("x-xero-signature", "")
    if not xero.signature_valid(request.body, signature, settings.XERO_WEBHOOK_KEY):
        _unauthorised(System.XERO, "bad or missing x-xero-signature")
        return HttpResponse(status=401)  # intent-to-receive: 401 with an empty body
    if xero.is_intent_to_receive(request.body):
        return HttpResponse(status=200)
    events, answer = _parsed(request, System.XERO, signature, xero.parse_events)
    if answer is not None:
        return _xero_answer(answer)
    return _xero_answer(
        _store_each_account(
            request, System.XERO, signature, events, lambda e: e.tenant_id, xero.part_of
        )
    )


@csrf_exempt
@require_POST
def jobber_webhook(request: HttpRequest) -> HttpResponse:
    """One event per delivery, sent at least once: a repeat is known by its event's
    identity, stored once, and answered 200 (Jobber disables endpoints that keep failing).
    """
    signature = request.headers.get(jobber.HEADER, "")
    if not jobber.signature_valid(request.body, signature, settings.JOBBER_CLIENT_SECRET):
        return _unauthorised(System.JOBBER, f"bad or missing {jobber.HEADER}")
    events, answer = _parsed(request, System.JOBBER, signature, jobber.parse_events)
    if answer is not None:
        return answer
    answer = _store(
        request,
        System.JOBBER,
        signature,
        events[0].account_id,
        identities=[event.identity for event in events],
    )
    if answer.status_code == 409:
        return JsonResponse({"status": "duplicate"})
    if events[0].topic == jobber.APP_DISCONNECT:
        _disconnected_at_provider(System.JOBBER, events[0].account_id, events[0].occurred_at)
    return answer


def _disconnected_at_provider(system: str, account_id: str, occurred_at: str = "") -> None:
    """The contractor removed syncfirm in the provider's own app: every token it gave is dead,
    so the connection needs their approval again, said at once rather than at the next
    refused call. A disconnect from before the connection was made (a late or replayed
    delivery) is about tokens already gone, not the new ones."""
    from django.utils.dateparse import parse_datetime

    from .actions import do_mark_needs_reauth
    from .models import Status

    connection = _connection_for(system, account_id)
    when = parse_datetime(occurred_at) if occurred_at else None
    connected = connection.connected_at if connection is not None else None
    # A minute's grace for the two clocks: in doubt, approval is asked again.
    if when is not None and connected is not None and when < connected - timedelta(minutes=1):
        return
    if connection is not None and connection.status == Status.ACTIVE:
        do_mark_needs_reauth(
            connection, f"syncfirm was disconnected in {connection.get_system_display()}."
        )
