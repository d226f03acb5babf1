from django.core.management.base import BaseCommand
from django.db import transaction

from connections.models import Connection


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored token under the first key of FIELD_ENCRYPTION_KEYS. "
        "Put the new key first, run this, then remove the old key."
    )

    def handle(self, *args, **options) -> None:
        rotated = 0
        with transaction.atomic():
            # Reading decrypts with whichever key fits; saving encrypts with the first key.
            for connection in Connection.objects.select_for_update().only(
                "pk", "access_token", "refresh_token"
            ):
                connection.save(update_fields=["access_token", "refresh_token"])
                rotated += 1
        self.stdout.write(
            self.style.SUCCESS(f"Re-encrypted the tokens of {rotated} connection(s).")
        )
