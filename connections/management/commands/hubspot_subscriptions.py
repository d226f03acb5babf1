from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from connections.hubspot.subscriptions import ensure_subscriptions


class Command(BaseCommand):
    help = "Subscribe the HubSpot app to the company and contact events customer sync uses."

    def handle(self, *args, **options):
        if not settings.HUBSPOT_DEVELOPER_API_KEY or not settings.HUBSPOT_APP_ID:
            raise CommandError("Set HUBSPOT_DEVELOPER_API_KEY and HUBSPOT_APP_ID first.")
        target = f"{settings.PUBLIC_BASE_URL.rstrip('/')}/webhooks/hubspot/"
        added = ensure_subscriptions(target)
        self.stdout.write(f"{added} subscription(s) added; webhooks go to {target}.")
