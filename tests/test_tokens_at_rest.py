"""OAuth tokens are encrypted at rest, rotate to new keys, and never appear in pages."""

import io
import json

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection as db
from django.urls import reverse

from connections.models import Connection
from connections.tokens import TokenSet

from .factories import ConnectionFactory

pytestmark = pytest.mark.django_db

ACCESS = "access-SECRET-value-123"
REFRESH = "refresh-SECRET-value-456"


def raw_columns(pk: int) -> tuple[str, str]:
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT access_token, refresh_token FROM connections_connection WHERE id = %s", [pk]
        )
        return cursor.fetchone()


def test_it_stores_no_token_in_plain_text(two_firms):
    conn = ConnectionFactory(client=two_firms.client_a, access_token=ACCESS, refresh_token=REFRESH)
    raw_access, raw_refresh = raw_columns(conn.pk)
    assert ACCESS not in raw_access and REFRESH not in raw_refresh
    assert raw_access.startswith("gAAAA"), "Fernet ciphertext"
    fresh = Connection.objects.get(pk=conn.pk)
    assert (fresh.access_token, fresh.refresh_token) == (ACCESS, REFRESH)


def test_it_re_encrypts_under_a_new_key(two_firms, settings):
    conn = ConnectionFactory(client=two_firms.client_a, access_token=ACCESS, refresh_token=REFRESH)
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    call_command("rotate_encryption_keys")
    settings.FIELD_ENCRYPTION_KEYS = [new_key]  # the old key is gone
    assert Connection.objects.get(pk=conn.pk).refresh_token == REFRESH
    assert Fernet(new_key.encode()).decrypt(raw_columns(conn.pk)[1].encode()).decode() == REFRESH


def test_it_never_shows_a_token_in_pages(client, two_firms):
    ConnectionFactory(client=two_firms.client_a, access_token=ACCESS, refresh_token=REFRESH)
    client.force_login(two_firms.accountant_a)
    for url in (reverse("dashboard"), reverse("client_detail", args=["alpha-roofing"])):
        body = client.get(url).content.decode()
        assert ACCESS not in body and REFRESH not in body


def test_it_keeps_tokens_out_of_reprs():
    tokens = TokenSet(access_token=ACCESS, refresh_token=REFRESH, expires_in=3600)
    assert ACCESS not in repr(tokens) and REFRESH not in repr(tokens)


def test_dumpdata_exports_ciphertext_and_loaddata_restores_it(two_firms, tmp_path):
    """`dumpdata` wrote the tokens decrypted (issue 13, 6); now only ciphertext leaves."""
    conn = ConnectionFactory(client=two_firms.client_a, access_token=ACCESS, refresh_token=REFRESH)
    out = io.StringIO()
    call_command("dumpdata", "connections.connection", stdout=out)
    dumped = out.getvalue()
    assert ACCESS not in dumped and REFRESH not in dumped
    row = next(r for r in json.loads(dumped) if r["pk"] == conn.pk)
    assert row["fields"]["access_token"].startswith("fernet:gAAAA")

    fixture = tmp_path / "connections.json"
    fixture.write_text(dumped)
    Connection.objects.filter(pk=conn.pk).update(access_token="", refresh_token="")
    call_command("loaddata", str(fixture), verbosity=0)
    restored = Connection.objects.get(pk=conn.pk)
    assert (restored.access_token, restored.refresh_token) == (ACCESS, REFRESH)
