"""Settings saved before they were checked are brought within the limits the form now
keeps (issue 15): payment terms of 99,999,999,999 days made every later sync fail with an
OverflowError. Each value moves to the nearest it may take; nothing else changes."""

from django.db import migrations
from django.db.models import Q

# (field, least, most) as `sync/forms.py` LIMITS, copied: a migration must not
# change when the form does.
LIMITS = (
    ("payment_terms_days", 0, 365),
    ("schedule_minutes", 5, 1440),
    ("stale_after_days", 1, 1095),
)


def within_limits(apps, schema_editor):
    SyncSettings = apps.get_model("connections", "SyncSettings")
    for field, least, most in LIMITS:
        SyncSettings.objects.filter(**{f"{field}__gt": most}).update(**{field: most})
        SyncSettings.objects.filter(**{f"{field}__lt": least}).update(**{field: least})
    for settings in SyncSettings.objects.filter(~Q(books_currency__regex=r"^[A-Z]{3}$")):
        settings.books_currency = (settings.books_currency or "").strip().upper()[:3] or "USD"
        settings.save(update_fields=["books_currency"])


class Migration(migrations.Migration):
    dependencies = [("connections", "0015_unmatched_item")]

    operations = [migrations.RunPython(within_limits, migrations.RunPython.noop)]
