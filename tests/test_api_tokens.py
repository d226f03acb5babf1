"""Personal API tokens: hashed at rest, shown once, expiring, revocable from the account's
API tokens page (audited), refused while the firm requires 2FA the person lacks."""

import importlib
import io
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from allauth.mfa.models import Authenticator
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from api.models import ApiToken
from clients.models import AuditEntry, MfaPolicy

pytestmark = pytest.mark.django_db

KEY_IN_PAGE = re.compile(r'<code id="new-token-key">([^<]+)</code>')


def api_status(key: str) -> tuple[int, str]:
    response = APIClient().get("/api/v1/clients/", HTTP_AUTHORIZATION=f"Token {key}")
    return response.status_code, response.content.decode()


def create_on_page(client, user, name="month-end script", days=90) -> str:
    client.force_login(user)
    page = client.post(reverse("api_tokens"), {"name": name, "days": days})
    assert page.status_code == 200
    assert page["Cache-Control"] == "no-store"
    return KEY_IN_PAGE.search(page.content.decode()).group(1)


def test_the_page_shows_the_key_once_and_stores_only_its_hash(client, two_firms):
    key = create_on_page(client, two_firms.accountant_a)
    assert api_status(key)[0] == 200
    token = ApiToken.objects.get(user=two_firms.accountant_a)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM api_apitoken WHERE id = %s", [token.pk])
        row = " ".join(str(v) for v in cursor.fetchone())
    assert key not in row and key.split("_")[-1] not in row
    assert key.startswith(f"sf_{token.prefix}_")
    listing = client.get(reverse("api_tokens")).content.decode()
    assert "month-end script" in listing and f"{token.prefix}…" in listing
    assert key not in listing and "new-token-key" not in listing
    assert AuditEntry.objects.filter(action="api_token.create", actor=two_firms.accountant_a)


def test_a_token_expires(client, two_firms, settings):
    settings.API_TOKEN_DAYS = 30
    client.force_login(two_firms.accountant_a)
    form = client.get(reverse("api_tokens")).content.decode()
    assert 'value="30"' in form  # the configured default lifetime
    key = create_on_page(client, two_firms.accountant_a, days=30)
    token = ApiToken.objects.get()
    assert abs(token.expires_at - (timezone.now() + timedelta(days=30))) < timedelta(minutes=1)
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    status, body = api_status(key)
    assert status == 401 and "expired" in body
    assert "expired" in client.get(reverse("api_tokens")).content.decode()


def test_a_revoked_token_is_refused_and_the_revocation_audited(client, two_firms):
    key = create_on_page(client, two_firms.accountant_a)
    token = ApiToken.objects.get()
    done = client.post(reverse("api_token_revoke", args=[token.pk]))
    assert done["Location"] == reverse("api_tokens")
    assert api_status(key)[0] == 401
    assert AuditEntry.objects.filter(action="api_token.revoke", object_id=str(token.pk)).exists()


def test_nobody_else_revokes_my_token(client, two_firms):
    create_on_page(client, two_firms.accountant_a)
    token = ApiToken.objects.get()
    client.force_login(two_firms.owner_b)
    assert client.post(reverse("api_token_revoke", args=[token.pk])).status_code == 404
    assert client.get(reverse("api_token_revoke", args=[token.pk])).status_code == 405
    assert ApiToken.objects.get().revoked_at is None


def test_last_use_is_recorded(client, two_firms):
    key = create_on_page(client, two_firms.accountant_a)
    api_status(key)
    assert ApiToken.objects.get().last_used_at is not None


def test_a_token_is_refused_while_the_firm_requires_2fa_the_user_lacks(client, two_firms):
    key = create_on_page(client, two_firms.accountant_a)
    two_firms.firm_a.mfa_required = MfaPolicy.STAFF
    two_firms.firm_a.save()
    status, body = api_status(key)
    assert status == 401 and "two-factor" in body
    with pytest.raises(CommandError, match="two-factor"):
        call_command("create_api_token", "accountant@alpha.test", stdout=io.StringIO())
    Authenticator.objects.create(user=two_firms.accountant_a, type=Authenticator.Type.TOTP, data={})
    assert api_status(key)[0] == 200


def test_the_command_prints_the_key_once_with_a_lifetime(two_firms):
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_token", "Accountant@alpha.test", "--days", "7", stdout=out, stderr=err)
    key = out.getvalue().strip()
    assert api_status(key)[0] == 200
    token = ApiToken.objects.get()
    assert (token.expires_at - timezone.now()).days == 6  # 7 days less a moment
    assert key not in err.getvalue() and token.prefix in err.getvalue()
    with pytest.raises(CommandError):
        call_command("create_api_token", "accountant@alpha.test", "--days", "0")


def test_old_plain_drf_tokens_are_hashed_and_keep_working(two_firms):
    """GIVEN a database with DRF's plain-text authtoken table WHEN migrating THEN each key
    works as one of our hashed tokens and the plain table is gone."""
    plain = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, "
            "created timestamp with time zone NOT NULL, user_id bigint NOT NULL)"
        )
        cursor.execute(
            "INSERT INTO authtoken_token VALUES (%s, %s, %s)",
            [plain, timezone.now(), two_firms.owner_a.pk],
        )
    migration = importlib.import_module("api.migrations.0002_import_drf_tokens")
    # What the migration uses of Django's schema editor (SQLite's refuses to open inside
    # the test's transaction).
    with connection.cursor() as cursor:
        editor = SimpleNamespace(connection=connection, execute=cursor.execute)
        migration.import_and_drop(apps, editor)
    assert "authtoken_token" not in connection.introspection.table_names()
    assert api_status(plain)[0] == 200
    token = ApiToken.objects.get(user=two_firms.owner_a)
    assert token.prefix == plain[:8] and plain not in token.key_hash
    assert token.expires_at > timezone.now()
