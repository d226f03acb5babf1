import logging

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from connections.hubspot.subscriptions import ensure_subscriptions

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Subscribe the HubSpot app to the company and contact events customer sync uses."

    def handle(self, *args, **options):
        if not settings.HUBSPOT_DEVELOPER_API_KEY or not settings.HUBSPOT_APP_ID:
            raise CommandError("Set HUBSPOT_DEVELOPER_API_KEY and HUBSPOT_APP_ID first.")
        target = f"{settings.PUBLIC_BASE_URL.rstrip('/')}/webhooks/hubspot/"
        try:
            added = ensure_subscriptions(target)
        except Exception as error:
            # The client puts the developer key in the URL (`?hapikey=`), and the URL in the
            # exception: the traceback goes to the log, whose filter redacts it, and the
            # command's own error names only the kind of failure.
            logger.exception("Subscribing the HubSpot app failed")
            raise CommandError(
                f"HubSpot refused the subscription calls ({type(error).__name__}); see the log."
            ) from None
        self.stdout.write(f"{added} subscription(s) added; webhooks go to {target}.")
