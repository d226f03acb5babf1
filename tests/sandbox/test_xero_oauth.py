"""Xero OAuth, connections and the tenant header, driven by xero-python over HTTP."""

import base64
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from django.conf import settings
from django.utils import timezone
from xero_python.accounting import AccountingApi, Contact, Contacts
from xero_python.exceptions import HTTPStatusException
from xero_python.identity import IdentityApi

from sandbox.consent import consent
from sandbox.xero.models import RefreshToken
from tests.sandbox.conftest import sandbox_db

pytestmark = sandbox_db
REDIRECT = "http://127.0.0.1:9/callback"


def authorize(sandbox_url: str, scope: str, **choice) -> dict[str, str]:
    query = urlencode(
        {
            "response_type": "code",
            "client_id": settings.XERO_CLIENT_ID,
            "redirect_uri": REDIRECT,
            "scope": scope,
            "state": "st-1",
        }
    )
    location = consent(f"{sandbox_url}/xero/identity/connect/authorize?{query}", "xero", **choice)
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def exchange(sandbox_url: str, code: str) -> requests.Response:
    """The code exchange as Xero documents it: Basic client credentials."""
    basic = base64.b64encode(
        f"{settings.XERO_CLIENT_ID}:{settings.XERO_CLIENT_SECRET}".encode()
    ).decode()
    return requests.post(
        f"{sandbox_url}/xero/identity/connect/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
        headers={"Authorization": f"Basic {basic}"},
        timeout=10,
    )


def test_it_connects_through_consent_and_lists_the_tenant(sandbox_url, xero_client):
    callback = authorize(
        sandbox_url, "offline_access accounting.contacts", new_account_name="Kiwi Plumbing"
    )
    assert callback["state"] == "st-1"
    token = exchange(sandbox_url, callback["code"]).json()
    assert token["expires_in"] == 1800 and token["token_type"] == "Bearer"
    assert token["refresh_token"]
    client = xero_client(
        {
            "access_token": token["access_token"],
            "refresh_token": token["refresh_token"],
            "scopes": token["scope"].split(),
        }
    )
    connections = IdentityApi(client, base_url=f"{sandbox_url}/xero").get_connections()
    assert [c.tenant_name for c in connections] == ["Kiwi Plumbing"]
    accounting = AccountingApi(client, base_url=f"{sandbox_url}/xero/api.xro/2.0")
    made = accounting.create_contacts(
        connections[0].tenant_id, Contacts(contacts=[Contact(name="Ann Lee")])
    )
    assert made.contacts[0].name == "Ann Lee"
    # The code is single-use.
    assert exchange(sandbox_url, callback["code"]).json() == {"error": "invalid_grant"}


def test_it_issues_no_refresh_token_without_offline_access(sandbox_url):
    callback = authorize(sandbox_url, "accounting.contacts", new_account_name="Short Stay Ltd")
    token = exchange(sandbox_url, callback["code"]).json()
    assert "refresh_token" not in token and token["access_token"]


def test_it_redirects_with_access_denied_when_the_user_cancels(sandbox_url):
    callback = authorize(sandbox_url, "offline_access", approve=False)
    assert callback == {"error": "access_denied", "state": "st-1"}


def test_it_refuses_calls_without_a_tenant_header_or_for_an_unconnected_tenant(
    sandbox_url, make_xero_org, xero_client
):
    org = make_xero_org()
    other = make_xero_org("Not Connected Ltd", connect=False)
    api = AccountingApi(xero_client(org), base_url=f"{sandbox_url}/xero/api.xro/2.0")
    for tenant in ("", other["tenant_id"], "not-a-tenant"):
        with pytest.raises(HTTPStatusException) as refused:
            api.get_contacts(tenant)
        assert refused.value.status == 403
        assert b"AuthenticationUnsuccessful" in refused.value.body
    assert api.get_contacts(org["tenant_id"]).contacts == []


def test_it_forgets_a_deleted_connection(sandbox_url, make_xero_org, xero_client):
    org = make_xero_org()
    client = xero_client(org)
    identity = IdentityApi(client, base_url=f"{sandbox_url}/xero")
    identity.delete_connection(org["connection_id"])
    assert identity.get_connections() == []
    with pytest.raises(HTTPStatusException) as refused:
        AccountingApi(client, base_url=f"{sandbox_url}/xero/api.xro/2.0").get_contacts(
            org["tenant_id"]
        )
    assert refused.value.status == 403


def test_it_rotates_the_refresh_token_and_honours_the_old_one_for_thirty_minutes(
    sandbox_url, make_xero_org, xero_client
):
    org = make_xero_org()
    client = xero_client(org)
    client.token["expires_at"] = time.time() - 1  # the access token has run out
    api = AccountingApi(client, base_url=f"{sandbox_url}/xero/api.xro/2.0")
    api.get_contacts(org["tenant_id"])  # xero-python refreshes first
    assert client.token["refresh_token"] != org["refresh_token"]
    assert client.token["expires_in"] == 1800

    def refresh(value: str) -> requests.Response:
        return requests.post(
            f"{sandbox_url}/xero/identity/connect/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": value,
                "client_id": settings.XERO_CLIENT_ID,
                "client_secret": settings.XERO_CLIENT_SECRET,
            },
            timeout=10,
        )

    # The refresh answer was lost: the old token still works within the grace period ...
    assert refresh(org["refresh_token"]).status_code == 200
    RefreshToken.objects.filter(token=org["refresh_token"]).update(
        replaced_at=timezone.now() - timedelta(minutes=31)
    )
    # ... and not after it; the newest one does.
    assert refresh(org["refresh_token"]).json() == {"error": "invalid_grant"}
    assert refresh(client.token["refresh_token"]).status_code == 200


def test_it_answers_an_expired_access_token_with_401(sandbox_url, make_xero_org):
    org = make_xero_org()
    from sandbox.xero.models import AccessToken

    AccessToken.objects.filter(token=org["access_token"]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    answer = requests.get(
        f"{sandbox_url}/xero/api.xro/2.0/Contacts",
        headers={
            "Authorization": f"Bearer {org['access_token']}",
            "xero-tenant-id": org["tenant_id"],
        },
        timeout=10,
    )
    assert answer.status_code == 401
    assert answer.json()["Detail"].startswith("TokenExpired")


def test_it_revokes_the_refresh_token_and_its_connections(sandbox_url, make_xero_org, xero_client):
    org = make_xero_org()
    client = xero_client(org)
    client.revoke_oauth2_token()
    answer = requests.get(
        f"{sandbox_url}/xero/connections",
        headers={"Authorization": f"Bearer {org['access_token']}"},
        timeout=10,
    )
    assert answer.status_code == 401
