import pytest
import requests
from hubspot import HubSpot


@pytest.fixture
def hubspot_host(sandbox_url: str) -> str:
    return f"{sandbox_url}/hubspot"


@pytest.fixture
def make_portal(sandbox_url: str):
    """Create a portal through the control API; returns its JSON (ids and tokens)."""

    def make(name: str = "Acme Roofing", **fields) -> dict:
        response = requests.post(
            f"{sandbox_url}/control/hubspot/portals", json={"name": name}, timeout=10
        )
        assert response.status_code == 201, response.text
        portal = response.json()
        if fields:
            patched = requests.patch(
                f"{sandbox_url}/control/hubspot/portals/{portal['portal_id']}",
                json=fields,
                timeout=10,
            )
            assert patched.status_code == 200, patched.text
        return portal

    return make


@pytest.fixture
def portal(make_portal) -> dict:
    return make_portal(rate_limits=False)


@pytest.fixture
def client(portal: dict, hubspot_host: str) -> HubSpot:
    return HubSpot(access_token=portal["access_token"], host=hubspot_host)


def _api_exceptions() -> tuple[type[Exception], ...]:
    """Each generated package of the client raises its own ApiException class."""
    from importlib import import_module

    packages = [
        "crm.objects", "crm.deals", "crm.companies", "crm.contacts", "crm.line_items",
        "crm.products", "crm.properties", "crm.pipelines", "crm.associations.v4", "oauth",
        "webhooks",
    ]  # fmt: skip
    return tuple(import_module(f"hubspot.{p}.exceptions").ApiException for p in packages)


ApiError = _api_exceptions()
