import pytest

# Tests that talk to the emulators over real HTTP need both databases and a live server.
sandbox_db = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])


@pytest.fixture
def sandbox_url(live_server) -> str:
    """Base URL of the sandbox emulators on pytest-django's live server."""
    return f"{live_server.url}/sandbox"


@pytest.fixture
def make_xero_org(sandbox_url):
    """Create a Xero organisation through the control API (connected, with tokens)."""
    import requests

    def make(name: str = "Hartley Roofing Ltd", **fields) -> dict:
        made = requests.post(
            f"{sandbox_url}/control/xero/organisations", json={"name": name, **fields}, timeout=10
        )
        assert made.status_code == 201, made.text
        return made.json()

    return make


@pytest.fixture
def xero_client(sandbox_url, monkeypatch):
    """Build an unmodified xero-python ApiClient on the emulator for a control-made org.

    Only TokenApi's class-level URLs (where xero-python looks for identity.xero.com) and
    the API instances' base_url point at the sandbox; tokens live in `client.token`.
    """
    from django.conf import settings
    from xero_python.api_client import ApiClient, Configuration
    from xero_python.api_client.oauth2 import OAuth2Token, TokenApi

    monkeypatch.setattr(TokenApi, "refresh_token_url", f"{sandbox_url}/xero/identity/connect/token")
    monkeypatch.setattr(
        TokenApi, "revoke_token_url", f"{sandbox_url}/xero/identity/connect/revocation"
    )

    def make(org: dict) -> ApiClient:
        token = OAuth2Token(
            client_id=settings.XERO_CLIENT_ID, client_secret=settings.XERO_CLIENT_SECRET
        )
        client = ApiClient(Configuration(oauth2_token=token), pool_threads=1)
        client.token = {
            "access_token": org["access_token"],
            "refresh_token": org["refresh_token"],
            "scope": org["scopes"],
            "expires_in": 1800,
            "token_type": "Bearer",
        }
        client.oauth2_token_getter(lambda: client.token)
        client.oauth2_token_saver(lambda new: setattr(client, "token", new))
        return client

    return make


@pytest.fixture
def xero(sandbox_url, make_xero_org, xero_client):
    """AccountingApi on a new organisation without rate limits; `.tenant` is its tenant id."""
    from xero_python.accounting import AccountingApi

    org = make_xero_org(rate_limits=False)
    api = AccountingApi(xero_client(org), base_url=f"{sandbox_url}/xero/api.xro/2.0")
    api.tenant, api.org = org["tenant_id"], org
    return api


@pytest.fixture
def make_jobber_account(sandbox_url):
    """Create a Jobber account through the control API (connected, with tokens)."""
    import requests

    def make(name: str = "Lone Star Roofing", **fields) -> dict:
        made = requests.post(
            f"{sandbox_url}/control/jobber/accounts", json={"name": name, **fields}, timeout=10
        )
        assert made.status_code == 201, made.text
        return made.json()

    return make
