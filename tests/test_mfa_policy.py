"""A firm can require two-factor authentication of all staff or of its owners and admins;
someone it is required of without an authenticator app is sent to set one up."""

import importlib
import io

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from cryptography.fernet import Fernet
from django.apps import apps
from django.core.management import call_command
from django.urls import reverse

from clients.models import AuditEntry, MfaPolicy

pytestmark = pytest.mark.django_db


def current_code(secret: str) -> str:
    """The code an authenticator app would show now."""
    return format_hotp_value(hotp_value(secret, next(iter(yield_hotp_counters_from_time()))))


def require(firm, policy: str) -> None:
    firm.mfa_required = policy
    firm.save()


def test_an_owner_sets_the_policy_and_it_is_audited(client, two_firms):
    client.force_login(two_firms.owner_a)
    Authenticator.objects.create(user=two_firms.owner_a, type=Authenticator.Type.TOTP, data={})
    page = client.get(reverse("staff_list")).content.decode()
    assert "Two-factor authentication" in page and 'value="admins"' in page
    done = client.post(reverse("mfa_policy_update"), {"mfa_required": "staff"}, follow=True)
    assert "now required for: all staff" in done.content.decode()
    two_firms.firm_a.refresh_from_db()
    assert two_firms.firm_a.mfa_required == MfaPolicy.STAFF
    entry = AuditEntry.objects.get(action="firm.mfa_required")
    assert entry.before == {"mfa_required": "nobody"} and entry.after == {"mfa_required": "staff"}


def test_only_owners_change_it(client, two_firms):
    client.force_login(two_firms.accountant_a)
    response = client.post(reverse("mfa_policy_update"), {"mfa_required": "nobody"})
    assert response.status_code == 403
    assert "Only owners change this" in client.get(reverse("staff_list")).content.decode()


def test_staff_without_2fa_are_sent_to_set_it_up(client, two_firms):
    require(two_firms.firm_a, MfaPolicy.STAFF)
    client.force_login(two_firms.accountant_a)
    for url in (reverse("dashboard"), reverse("review_findings"), reverse("api_tokens")):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == reverse("mfa_activate_totp")
    setup = client.get(reverse("mfa_activate_totp"), follow=True)
    assert "Your firm requires two-factor authentication" in setup.content.decode()
    partial = client.get(reverse("dashboard"), HTTP_HX_REQUEST="true")
    assert partial["HX-Redirect"] == reverse("mfa_activate_totp")
    assert client.post(reverse("account_logout")).status_code == 302
    assert client.get(reverse("dashboard"))["Location"].startswith(reverse("account_login"))


def test_admins_and_owners_only_leaves_accountants_alone(client, two_firms):
    require(two_firms.firm_a, MfaPolicy.ADMINS)
    client.force_login(two_firms.accountant_a)
    assert client.get(reverse("dashboard")).status_code == 200
    client.force_login(two_firms.owner_a)
    assert client.get(reverse("dashboard"))["Location"] == reverse("mfa_activate_totp")


def test_with_an_authenticator_app_the_pages_open(client, two_firms):
    require(two_firms.firm_a, MfaPolicy.STAFF)
    Authenticator.objects.create(user=two_firms.accountant_a, type=Authenticator.Type.TOTP, data={})
    client.force_login(two_firms.accountant_a)
    assert client.get(reverse("dashboard")).status_code == 200


def test_another_firms_policy_does_not_reach_this_one(client, two_firms):
    require(two_firms.firm_a, MfaPolicy.STAFF)
    client.force_login(two_firms.owner_b)
    assert client.get(reverse("dashboard")).status_code == 200


def test_totp_secrets_are_encrypted_at_rest_and_still_verify(two_firms):
    secret = generate_totp_secret()
    totp = TOTP.activate(two_firms.accountant_a, secret)
    stored = Authenticator.objects.get(pk=totp.instance.pk).data["secret"]
    assert secret not in stored and stored.startswith("fernet:")
    assert TOTP(totp.instance).validate_code(current_code(secret))


def test_a_secret_stored_before_encryption_still_verifies(two_firms):
    secret = generate_totp_secret()
    plain = Authenticator.objects.create(
        user=two_firms.accountant_a, type=Authenticator.Type.TOTP, data={"secret": secret}
    )
    assert TOTP(plain).validate_code(current_code(secret))


def test_the_migration_encrypts_secrets_stored_in_the_clear(two_firms):
    plain = Authenticator.objects.create(
        user=two_firms.accountant_a, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DP"}
    )
    migration = importlib.import_module("clients.migrations.0003_encrypt_mfa_secrets")
    migration.encrypt_stored(apps, None)
    stored = Authenticator.objects.get(pk=plain.pk).data["secret"]
    assert "JBSWY3DP" not in stored and stored.startswith("fernet:")
    migration.encrypt_stored(apps, None)  # a second run leaves it as it is
    assert Authenticator.objects.get(pk=plain.pk).data["secret"] == stored


def test_key_rotation_re_encrypts_2fa_secrets(two_firms, settings):
    secret = generate_totp_secret()
    totp = TOTP.activate(two_firms.accountant_a, secret)
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, *settings.FIELD_ENCRYPTION_KEYS]
    call_command("rotate_encryption_keys", stdout=io.StringIO())
    settings.FIELD_ENCRYPTION_KEYS = [new_key]  # the old key is gone
    assert TOTP(Authenticator.objects.get(pk=totp.instance.pk)).validate_code(current_code(secret))
