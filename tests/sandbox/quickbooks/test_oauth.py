"""Intuit OAuth through intuit-oauth, with the consent page answered like a person would."""

from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from django.conf import settings
from django.utils import timezone
from intuitlib.client import AuthClient
from intuitlib.enums import Scopes
from intuitlib.exceptions import AuthClientError
from quickbooks import QuickBooks
from quickbooks.exceptions import AuthorizationException, QuickbooksException
from quickbooks.objects.customer import Customer

from sandbox.quickbooks import oauth
from sandbox.quickbooks.models import AuthorizationCode
from tests.sandbox.conftest import sandbox_db

from .conftest import customer

pytestmark = sandbox_db
REDIRECT = "http://127.0.0.1:9/callback"


class ConsentForm(HTMLParser):
    """The consent form's action, hidden fields, and the companies offered."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self.realms: list[str] = []
        self.buttons: dict[str, str] = {}
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.action = a.get("action", "")
        elif tag == "input" and a.get("type") == "hidden":
            self.fields[a["name"]] = a.get("value", "")
        elif tag == "input" and a.get("type") == "radio" and a.get("name") == "realm_id":
            self.realms.append(a["value"])
        elif tag == "button":
            self.buttons[a["value"]] = a["name"]


def auth_client(sandbox_url: str, secret: str | None = None) -> AuthClient:
    return AuthClient(
        settings.QUICKBOOKS_CLIENT_ID,
        secret or settings.QUICKBOOKS_CLIENT_SECRET,
        REDIRECT,
        environment=f"{sandbox_url}/intuit/.well-known/openid_configuration",
    )


def answer_consent(
    sandbox_url: str, decision: str = "approve", new_company: str = "", realm_id: str = ""
) -> dict[str, str]:
    """Open the authorize URL intuit-oauth builds, fill the form, return the callback query."""
    url = auth_client(sandbox_url).get_authorization_url([Scopes.ACCOUNTING], state_token="st-1")
    browser = requests.Session()
    page = browser.get(url, timeout=10)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    form = ConsentForm(page.text)
    data = {**form.fields, form.buttons[decision]: decision}
    if new_company:
        data["new_company_name"] = new_company
    else:
        data["realm_id"] = realm_id or form.realms[0]
    answer = browser.post(
        urljoin(page.url, form.action or ""), data=data, allow_redirects=False, timeout=10
    )
    assert answer.status_code == 302, answer.text[:300]
    location = answer.headers["Location"]
    assert location.startswith(REDIRECT + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def connected(sandbox_url: str, company: str) -> tuple[AuthClient, str]:
    params = answer_consent(sandbox_url, new_company=company)
    client = auth_client(sandbox_url)
    client.get_bearer_token(params["code"], realm_id=params["realmId"])
    return client, params["realmId"]


def quickbooks(sandbox_url: str, client: AuthClient, realm_id: str) -> QuickBooks:
    qb = QuickBooks(
        auth_client=client,
        refresh_token=client.refresh_token,
        company_id=realm_id,
        minorversion=75,
    )
    qb.api_url_v3 = f"{sandbox_url}/quickbooks/v3"
    return qb


def test_it_publishes_a_discovery_document_on_its_own_host(sandbox_url):
    doc = requests.get(f"{sandbox_url}/intuit/.well-known/openid_configuration", timeout=10).json()
    for key in ("authorization_endpoint", "token_endpoint", "revocation_endpoint", "issuer"):
        assert doc[key].startswith(sandbox_url)
    assert doc["jwks_uri"].startswith(sandbox_url)
    assert doc["userinfo_endpoint"].startswith(sandbox_url)
    assert doc["response_types_supported"] == ["code"]
    assert "com.intuit.quickbooks.accounting" in doc["scopes_supported"]


def test_it_runs_the_authorization_code_flow_for_a_new_company(sandbox_url):
    params = answer_consent(sandbox_url, new_company="Cedar Builders")
    assert params["state"] == "st-1" and params["realmId"] and params["code"]
    client = auth_client(sandbox_url)
    client.get_bearer_token(params["code"], realm_id=params["realmId"])
    assert client.expires_in == 3600 and client.x_refresh_token_expires_in == 8726400
    assert client.id_token is None
    qb = quickbooks(sandbox_url, client, params["realmId"])
    assert customer(qb, "First Customer").Id


def test_it_connects_an_existing_company_picked_on_the_page(sandbox_url):
    _client, realm_id = connected(sandbox_url, "Existing Co")
    params = answer_consent(sandbox_url, realm_id=realm_id)
    assert params["realmId"] == realm_id


def test_it_redirects_a_denial_with_access_denied(sandbox_url):
    params = answer_consent(sandbox_url, decision="deny", new_company="Never Made")
    assert params == {"error": "access_denied", "state": "st-1"}


def test_it_refuses_a_consent_post_without_the_csrf_token(sandbox_url):
    url = auth_client(sandbox_url).get_authorization_url([Scopes.ACCOUNTING], state_token="s")
    form = ConsentForm(requests.get(url, timeout=10).text)
    data = {k: v for k, v in form.fields.items() if k != "csrfmiddlewaretoken"}
    forged = requests.post(
        url, data={**data, "decision": "approve", "new_company_name": "Forged"}, timeout=10
    )
    assert forged.status_code == 403


def test_it_refuses_an_unknown_client_or_a_missing_redirect_uri(sandbox_url):
    base = f"{sandbox_url}/intuit/oauth2/authorize"
    common = {"response_type": "code", "scope": "com.intuit.quickbooks.accounting", "state": "s"}
    unknown = requests.get(
        base, params={**common, "client_id": "nobody", "redirect_uri": REDIRECT}, timeout=10
    )
    missing = requests.get(
        base, params={**common, "client_id": settings.QUICKBOOKS_CLIENT_ID}, timeout=10
    )
    assert unknown.status_code == 400 and missing.status_code == 400
    assert "<form" not in unknown.text


def test_it_refuses_a_code_used_twice(sandbox_url):
    params = answer_consent(sandbox_url, new_company="Twice Co")
    auth_client(sandbox_url).get_bearer_token(params["code"], realm_id=params["realmId"])
    with pytest.raises(AuthClientError) as error:
        auth_client(sandbox_url).get_bearer_token(params["code"], realm_id=params["realmId"])
    assert error.value.status_code == 400 and error.value.content == b'{"error": "invalid_grant"}'


def test_it_refuses_an_expired_code(sandbox_url):
    params = answer_consent(sandbox_url, new_company="Slow Co")
    AuthorizationCode.objects.filter(code=params["code"]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    with pytest.raises(AuthClientError) as error:
        auth_client(sandbox_url).get_bearer_token(params["code"], realm_id=params["realmId"])
    assert error.value.status_code == 400 and b"invalid_grant" in error.value.content


def test_it_rotates_refresh_tokens_and_refuses_the_old_one_at_once(sandbox_url):
    client, realm_id = connected(sandbox_url, "Rotating Co")
    old_refresh, old_access = client.refresh_token, client.access_token
    client.refresh(refresh_token=old_refresh)
    assert client.refresh_token != old_refresh and client.access_token != old_access
    with pytest.raises(AuthClientError) as error:
        auth_client(sandbox_url).refresh(refresh_token=old_refresh)
    assert error.value.status_code == 400 and b"invalid_grant" in error.value.content
    stale_client = auth_client(sandbox_url)
    stale_client.access_token = old_access
    stale = QuickBooks(
        auth_client=stale_client,
        refresh_token=old_refresh,
        company_id=realm_id,
        minorversion=75,
    )
    stale.api_url_v3 = f"{sandbox_url}/quickbooks/v3"
    with pytest.raises(AuthorizationException):
        Customer.all(qb=stale)
    assert Customer.all(qb=quickbooks(sandbox_url, client, realm_id)) == []


def test_it_refuses_wrong_client_credentials(sandbox_url):
    params = answer_consent(sandbox_url, new_company="Secretive Co")
    with pytest.raises(AuthClientError) as error:
        auth_client(sandbox_url, secret="wrong").get_bearer_token(
            params["code"], realm_id=params["realmId"]
        )
    assert error.value.status_code == 401 and b"invalid_client" in error.value.content


def test_it_revokes_a_refresh_token_and_its_access_tokens(sandbox_url):
    client, realm_id = connected(sandbox_url, "Leaving Co")
    qb = quickbooks(sandbox_url, client, realm_id)
    assert Customer.all(qb=qb) == []
    assert client.revoke(token=client.refresh_token) is True
    with pytest.raises(AuthClientError):
        auth_client(sandbox_url).refresh(refresh_token=client.refresh_token)
    with pytest.raises(AuthorizationException):
        Customer.all(qb=qb)


def test_it_refuses_an_expired_access_token(sandbox_url, monkeypatch):
    client, realm_id = connected(sandbox_url, "Expiring Co")
    monkeypatch.setattr(oauth, "ACCESS_LIFETIME", timedelta(seconds=-1))
    client.refresh()
    with pytest.raises(AuthorizationException):
        Customer.all(qb=quickbooks(sandbox_url, client, realm_id))


def test_it_refuses_a_token_for_another_company(sandbox_url):
    """Intuit binds an access token to the company it was granted for: 403, not 401 (the
    token itself is fine, so refreshing it would not help)."""
    client, _realm = connected(sandbox_url, "Mine Co")
    _other_client, other_realm = connected(sandbox_url, "Theirs Co")
    with pytest.raises(QuickbooksException, match="403"):
        Customer.all(qb=quickbooks(sandbox_url, client, other_realm))
    raw = requests.get(
        f"{sandbox_url}/quickbooks/v3/company/{other_realm}/customer/1",
        headers={"Authorization": f"Bearer {client.access_token}"},
        timeout=10,
    )
    assert raw.status_code == 403
    error = raw.json()["fault"]["error"][0]
    assert error["code"] == "3100" and "AuthorizationFailed" in error["message"]
