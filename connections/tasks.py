"""Background work for connections (django-q2). Tasks take ids and are idempotent."""

import logging

from django.utils import timezone

from .hubspot import webhooks as hubspot
from .models import DeliveryStatus, WebhookDelivery
from .providers import System
from .quickbooks import webhooks as quickbooks
from .refresh import refresh_expiring_tokens

log = logging.getLogger(__name__)

PARSERS = {System.QUICKBOOKS: quickbooks.parse_events, System.HUBSPOT: hubspot.parse_events}


def process_webhook(delivery_id: int) -> int:
    """Claim a queued delivery and turn it into sync work; returns how many events it held.

    The claim is a conditional update, so two workers never process the same delivery.
    """
    claimed = WebhookDelivery.objects.filter(pk=delivery_id, status=DeliveryStatus.QUEUED).update(
        status=DeliveryStatus.PROCESSED, processed_at=timezone.now()
    )
    if not claimed:
        return 0
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    events = PARSERS[delivery.system](delivery.body.encode())
    log.info(
        "webhook %s: %s %s event(s) for %s",
        delivery.pk,
        len(events),
        delivery.system,
        delivery.account_id,
    )
    return len(events)


def refresh_tokens() -> int:
    """Scheduled every 10 minutes (see the migration that creates the schedule)."""
    return refresh_expiring_tokens()
