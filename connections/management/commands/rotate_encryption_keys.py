from django.core.management.base import BaseCommand
from django.db import transaction

from clients.mfa import reencrypt_mfa_secrets
from connections.models import Connection


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored token and 2FA secret under the first key of "
        "FIELD_ENCRYPTION_KEYS. "
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
            # Two-factor secrets are under the same keys (clients.adapters.MFAAdapter).
            authenticators = reencrypt_mfa_secrets()
        self.stdout.write(
            self.style.SUCCESS(
                f"Re-encrypted the tokens of {rotated} connection(s) and the secrets of "
                f"{authenticators} two-factor authenticator(s)."
            )
        )
