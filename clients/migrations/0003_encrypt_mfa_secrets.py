"""TOTP secrets and recovery-code seeds stored in the clear before `MFA_ADAPTER` encrypted
them: encrypt them in place (clients.adapters.MFAAdapter reads both forms)."""

from django.db import migrations

SECRET_KEYS = {"totp": "secret", "recovery_codes": "seed"}


def encrypt_stored(apps, schema_editor):
    from clients.adapters import MFA_SECRET_PREFIX
    from syncfirm import crypto

    Authenticator = apps.get_model("mfa", "Authenticator")
    for authenticator in Authenticator.objects.filter(type__in=SECRET_KEYS):
        key = SECRET_KEYS[authenticator.type]
        value = authenticator.data.get(key)
        if value and not value.startswith(MFA_SECRET_PREFIX):
            authenticator.data[key] = MFA_SECRET_PREFIX + crypto.encrypt(value)
            authenticator.save(update_fields=["data"])


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0002_mfa_policy"),
        ("mfa", "0003_authenticator_type_uniq"),
    ]

    operations = [migrations.RunPython(encrypt_stored, migrations.RunPython.noop)]
