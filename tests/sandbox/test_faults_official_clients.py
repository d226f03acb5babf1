"""Injected faults as the official clients see them, through the real emulators.

python-quickbooks (over requests) and hubspot-api-client (over urllib3) must get a fault
they recognise, or a transport error where a response was cut: never a clean success.
"""

import pytest
import requests
import urllib3
from hubspot import HubSpot
from hubspot.crm.companies import ApiException, SimplePublicObjectInputForCreate
from quickbooks.exceptions import SevereException, ValidationException
from quickbooks.objects.customer import Customer

from sandbox import emulation
from sandbox.seed_book import quickbooks_client
from tests.sandbox.conftest import sandbox_db

pytestmark = sandbox_db


@pytest.fixture(autouse=True)
def fresh_state(monkeypatch):
    # python-quickbooks' OAuth2 session refuses plain http otherwise (api-facts A1).
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    emulation.reset()
    yield
    emulation.reset()


def control(sandbox_url: str, method: str, path: str, body: dict) -> dict:
    answer = requests.request(method, f"{sandbox_url}/control/{path}", json=body, timeout=10)
    assert answer.status_code in (200, 201), answer.text
    return answer.json()


@pytest.fixture
def company(sandbox_url) -> dict:
    made = control(sandbox_url, "POST", "quickbooks/companies", {"name": "Faulty Roofing"})
    lifted = {"rate_limits": False}
    control(sandbox_url, "PATCH", f"quickbooks/companies/{made['realm_id']}", lifted)
    return made


@pytest.fixture
def qb(live_server, company):
    return quickbooks_client(live_server.url, company["realm_id"], company)


@pytest.fixture
def portal(sandbox_url) -> dict:
    made = control(sandbox_url, "POST", "hubspot/portals", {"name": "Faulty Builders"})
    control(sandbox_url, "PATCH", f"hubspot/portals/{made['portal_id']}", {"rate_limits": False})
    return made


@pytest.fixture
def hubspot(sandbox_url, portal) -> HubSpot:
    return HubSpot(access_token=portal["access_token"], host=f"{sandbox_url}/hubspot")


def faults(sandbox_url: str, system: str, account, **plan) -> None:
    control(sandbox_url, "PUT", "faults", {"system": system, "account": str(account), **plan})


def customer(name: str) -> Customer:
    made = Customer()
    made.DisplayName = name
    return made


def new_company(name: str) -> SimplePublicObjectInputForCreate:
    return SimplePublicObjectInputForCreate(properties={"name": name})


def test_it_makes_python_quickbooks_raise_a_severe_exception_on_a_server_fault(
    sandbox_url, company, qb
):
    faults(sandbox_url, "quickbooks", company["realm_id"], error_rate=1.0)
    with pytest.raises(SevereException) as raised:
        customer("Never Saved").save(qb=qb)
    assert raised.value.error_code == 10000
    faults(sandbox_url, "quickbooks", company["realm_id"])
    assert Customer.count(qb=qb) == 0


def test_it_makes_python_quickbooks_raise_3001_when_throttled(sandbox_url, company, qb):
    faults(sandbox_url, "quickbooks", company["realm_id"], throttle=True, seed=7)
    with pytest.raises(ValidationException) as raised:
        Customer.all(qb=qb)  # call 1 with seed 7 opens a burst
    assert raised.value.error_code == 3001


def test_it_makes_python_quickbooks_raise_a_connection_error_after_commit(sandbox_url, company, qb):
    faults(sandbox_url, "quickbooks", company["realm_id"], drop_after_commit_rate=1.0)
    with pytest.raises(requests.ConnectionError):
        customer("Saved Unseen").save(qb=qb)
    faults(sandbox_url, "quickbooks", company["realm_id"])
    assert [c.DisplayName for c in Customer.all(qb=qb)] == ["Saved Unseen"]


def test_it_makes_the_hubspot_client_raise_on_a_server_fault(sandbox_url, portal, hubspot):
    faults(sandbox_url, "hubspot", portal["portal_id"], error_rate=1.0)
    with pytest.raises(ApiException) as raised:
        hubspot.crm.companies.basic_api.create(new_company("Never Saved"))
    assert raised.value.status >= 500 and '"INTERNAL_ERROR"' in raised.value.body
    faults(sandbox_url, "hubspot", portal["portal_id"])
    assert hubspot.crm.companies.get_all() == []


def test_it_lets_the_hubspot_client_wait_out_a_throttle_burst(sandbox_url, portal, hubspot):
    faults(sandbox_url, "hubspot", portal["portal_id"], throttle=True, seed=7)
    # Call 1 with seed 7 opens a burst; the client's urllib3 retries honour Retry-After.
    assert hubspot.crm.companies.basic_api.get_page().results == []
    log = requests.get(f"{sandbox_url}/control/requests", params={"system": "hubspot"}, timeout=10)
    statuses = {(r["status"], r["fault"]): r["count"] for r in log.json()["requests"]}
    assert statuses == {(429, "throttle"): emulation.THROTTLE_BURST, (200, ""): 1}


def test_it_makes_the_hubspot_client_raise_a_transport_error_after_commit(
    sandbox_url, portal, hubspot
):
    faults(sandbox_url, "hubspot", portal["portal_id"], drop_after_commit_rate=1.0)
    with pytest.raises(urllib3.exceptions.ProtocolError):
        hubspot.crm.companies.basic_api.create(new_company("Saved Unseen"))
    faults(sandbox_url, "hubspot", portal["portal_id"])
    names = [c.properties["name"] for c in hubspot.crm.companies.get_all()]
    assert names == ["Saved Unseen"]
