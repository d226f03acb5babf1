from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
import requests
from django.conf import settings
from hubspot import HubSpot

from tests.sandbox.conftest import sandbox_db
from tests.sandbox.hubspot.conftest import ApiError

pytestmark = sandbox_db
REDIRECT = "http://127.0.0.1:9/callback"


class FormFields(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attrs = dict(attrs)
        if tag == "input" and attrs.get("type") in ("hidden", "radio") and "name" in attrs:
            self.fields.setdefault(attrs["name"], attrs.get("value") or "")


def authorize(hubspot_host: str, decision: str, **extra: str) -> dict:
    session = requests.Session()
    url = f"{hubspot_host}/oauth/authorize?" + urlencode(
        {"client_id": settings.HUBSPOT_CLIENT_ID, "redirect_uri": REDIRECT,
         "scope": "crm.objects.deals.read oauth", "state": "s-123"}
    )  # fmt: skip
    page = session.get(url, timeout=10)
    assert page.status_code == 200
    parser = FormFields()
    parser.feed(page.text)
    answer = session.post(
        url, data=parser.fields | {"decision": decision, **extra}, allow_redirects=False,
        timeout=10,
    )  # fmt: skip
    assert answer.status_code == 302, answer.text
    location = answer.headers["Location"]
    assert location.startswith(REDIRECT)
    return {k: v[0] for k, v in parse_qs(urlparse(location).query).items()}


def test_it_runs_the_code_and_refresh_grants_through_the_official_client(hubspot_host):
    query = authorize(hubspot_host, "approve", new_portal_name="Brand New Co")
    assert query["state"] == "s-123"
    oauth = HubSpot(host=hubspot_host).oauth
    tokens = oauth.tokens_api.create(
        grant_type="authorization_code", code=query["code"], redirect_uri=REDIRECT,
        client_id=settings.HUBSPOT_CLIENT_ID, client_secret=settings.HUBSPOT_CLIENT_SECRET,
    )  # fmt: skip
    assert tokens.token_type == "bearer" and tokens.expires_in == 1800

    info = oauth.access_tokens_api.get(tokens.access_token)
    assert info.scopes == ["crm.objects.deals.read", "oauth"] and 0 < info.expires_in <= 1800
    client = HubSpot(access_token=tokens.access_token, host=hubspot_host)
    assert client.crm.deals.basic_api.get_page().results == []

    with pytest.raises(ApiError) as reused:
        oauth.tokens_api.create(
            grant_type="authorization_code", code=query["code"], redirect_uri=REDIRECT,
            client_id=settings.HUBSPOT_CLIENT_ID, client_secret=settings.HUBSPOT_CLIENT_SECRET,
        )  # fmt: skip
    assert reused.value.status == 400 and "BAD_AUTH_CODE" in reused.value.body

    refreshed = oauth.tokens_api.create(
        grant_type="refresh_token", refresh_token=tokens.refresh_token,
        client_id=settings.HUBSPOT_CLIENT_ID, client_secret=settings.HUBSPOT_CLIENT_SECRET,
    )  # fmt: skip
    assert refreshed.access_token != tokens.access_token
    assert oauth.refresh_tokens_api.get(tokens.refresh_token).hub_id == info.hub_id

    oauth.refresh_tokens_api.archive(tokens.refresh_token)
    with pytest.raises(ApiError) as gone:
        oauth.tokens_api.create(
            grant_type="refresh_token", refresh_token=tokens.refresh_token,
            client_id=settings.HUBSPOT_CLIENT_ID, client_secret=settings.HUBSPOT_CLIENT_SECRET,
        )  # fmt: skip
    assert gone.value.status == 400 and "BAD_REFRESH_TOKEN" in gone.value.body


def test_it_redirects_with_access_denied_when_the_person_denies(hubspot_host):
    query = authorize(hubspot_host, "deny")
    assert query == query | {"error": "access_denied", "state": "s-123"}
    assert "code" not in query


def test_it_refuses_an_unknown_client_id_on_the_authorize_page(hubspot_host):
    page = requests.get(
        f"{hubspot_host}/oauth/authorize?client_id=other&redirect_uri={REDIRECT}", timeout=10
    )
    assert page.status_code == 400 and "<form" not in page.text


def test_it_answers_401_expired_for_an_old_access_token(portal, hubspot_host):
    from django.utils import timezone

    from sandbox.hubspot.models import AccessToken

    AccessToken.objects.filter(token=portal["access_token"]).update(expires_at=timezone.now())
    with pytest.raises(ApiError) as error:
        HubSpot(access_token=portal["access_token"], host=hubspot_host).crm.deals.get_all()
    assert error.value.status == 401 and "EXPIRED_AUTHENTICATION" in error.value.body
