"""DRF's authtoken kept keys in plain text; each becomes one of our hashed tokens (it keeps
working, now expiring API_TOKEN_DAYS after this migration) and the plain table is dropped.
See docs/decisions/0016-api-tokens-and-firm-security.md."""

import hashlib
from datetime import timedelta

from django.conf import settings
from django.db import migrations
from django.utils import timezone

DRF_TABLE = "authtoken_token"


def import_and_drop(apps, schema_editor):
    connection = schema_editor.connection
    if DRF_TABLE not in connection.introspection.table_names():
        return
    ApiToken = apps.get_model("api", "ApiToken")
    expires = timezone.now() + timedelta(days=settings.API_TOKEN_DAYS)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key, user_id, created FROM {DRF_TABLE}")  # noqa: S608
        rows = cursor.fetchall()
    for key, user_id, created in rows:
        ApiToken.objects.create(
            user_id=user_id,
            name="Imported from the old API token",
            prefix=key[:8],
            key_hash=hashlib.sha256(key.encode()).hexdigest(),
            created_at=created,
            expires_at=expires,
        )
    schema_editor.execute(f"DROP TABLE {DRF_TABLE}")


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0001_api_tokens"),
    ]

    operations = [migrations.RunPython(import_and_drop, migrations.RunPython.noop)]
