"""Fault injection and the request log, through the real control API and HubSpot's emulator."""

import pytest
import requests

from sandbox import emulation
from tests.sandbox.conftest import sandbox_db

pytestmark = sandbox_db


@pytest.fixture
def portal(sandbox_url):
    made = requests.post(
        f"{sandbox_url}/control/hubspot/portals", json={"name": "Faulty"}, timeout=10
    )
    made.raise_for_status()
    portal = made.json()
    requests.patch(
        f"{sandbox_url}/control/hubspot/portals/{portal['portal_id']}",
        json={"rate_limits": False},
        timeout=10,
    ).raise_for_status()
    return portal


def set_faults(sandbox_url: str, account, **plan) -> requests.Response:
    return requests.put(
        f"{sandbox_url}/control/faults",
        json={"system": "hubspot", "account": str(account), **plan},
        timeout=10,
    )


def get_deals(sandbox_url: str, portal: dict) -> requests.Response:
    return requests.get(
        f"{sandbox_url}/hubspot/crm/v3/objects/deals",
        headers={"Authorization": f"Bearer {portal['access_token']}"},
        timeout=10,
    )


def create_deal(sandbox_url: str, portal: dict, name: str) -> requests.Response:
    return requests.post(
        f"{sandbox_url}/hubspot/crm/v3/objects/deals",
        json={"properties": {"dealname": name}},
        headers={"Authorization": f"Bearer {portal['access_token']}"},
        timeout=10,
    )


def test_it_stores_and_returns_a_fault_plan(sandbox_url, portal):
    response = set_faults(sandbox_url, portal["portal_id"], seed=7, error_rate=0.25, throttle=True)
    assert response.status_code == 200
    plan = response.json()
    assert (plan["seed"], plan["error_rate"], plan["throttle"]) == (7, 0.25, True)
    got = requests.get(
        f"{sandbox_url}/control/faults",
        params={"system": "hubspot", "account": portal["portal_id"]},
        timeout=10,
    ).json()
    assert got == plan


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        ({"error_rate": 1.5}, "error_rate must be a number from 0 to 1"),
        ({"throttle": "yes"}, "throttle must be true or false"),
        ({"latency_ms": -1}, "latency_ms must be a whole number"),
        ({"explode": True}, "unknown fields"),
    ],
)
def test_it_refuses_a_bad_fault_plan_with_a_clear_message(sandbox_url, portal, plan, message):
    response = set_faults(sandbox_url, portal["portal_id"], **plan)
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_it_refuses_an_unknown_system(sandbox_url):
    response = requests.put(
        f"{sandbox_url}/control/faults", json={"system": "xero", "account": "1"}, timeout=10
    )
    assert response.status_code == 400 and "system must be one of" in response.json()["error"]


def test_it_answers_5xx_at_the_error_rate_deterministically(sandbox_url, portal):
    set_faults(sandbox_url, portal["portal_id"], seed=3, error_rate=0.5)
    first = [get_deals(sandbox_url, portal).status_code for _ in range(20)]
    assert 5 <= first.count(502) <= 15 and set(first) == {200, 502}
    emulation.reset()  # the call counter starts again: the same seed, the same answers
    set_faults(sandbox_url, portal["portal_id"], seed=3, error_rate=0.5)
    assert [get_deals(sandbox_url, portal).status_code for _ in range(20)] == first


def test_it_throttles_in_bursts(sandbox_url, portal):
    set_faults(sandbox_url, portal["portal_id"], throttle=True)
    answers = [get_deals(sandbox_url, portal) for _ in range(16)]
    statuses = [a.status_code for a in answers]
    assert statuses.count(429) == 6 and statuses.count(200) == 10
    limited = next(a for a in answers if a.status_code == 429)
    assert limited.json()["errorType"] == "RATE_LIMIT"


def test_it_commits_then_drops_the_response(sandbox_url, portal):
    set_faults(sandbox_url, portal["portal_id"], drop_after_commit_rate=1.0)
    with pytest.raises(requests.ConnectionError):
        create_deal(sandbox_url, portal, "Kitchen remodel")
    set_faults(sandbox_url, portal["portal_id"])  # faults off
    deals = get_deals(sandbox_url, portal).json()["results"]
    assert [d["properties"]["dealname"] for d in deals] == ["Kitchen remodel"], "it was written"


def test_it_drops_a_call_before_it_runs(sandbox_url, portal):
    set_faults(sandbox_url, portal["portal_id"], drop_rate=1.0)
    with pytest.raises(requests.ConnectionError):
        create_deal(sandbox_url, portal, "Never written")
    set_faults(sandbox_url, portal["portal_id"])
    assert get_deals(sandbox_url, portal).json()["results"] == []


def test_it_adds_latency(sandbox_url, portal):
    set_faults(sandbox_url, portal["portal_id"], latency_ms=300)
    assert get_deals(sandbox_url, portal).elapsed.total_seconds() >= 0.3


def test_it_counts_calls_by_route_method_and_status(sandbox_url, portal):
    emulation.reset()
    for _ in range(3):
        get_deals(sandbox_url, portal)
    create_deal(sandbox_url, portal, "Deck")
    log = requests.get(
        f"{sandbox_url}/control/requests",
        params={"system": "hubspot", "account": portal["portal_id"]},
        timeout=10,
    ).json()
    counts = {(r["method"], r["route"], r["status"]): r["count"] for r in log["requests"]}
    assert counts[("GET", "sandbox/hubspot/crm/v3/objects/<str:object_type_name>", 200)] == 3
    assert counts[("POST", "sandbox/hubspot/crm/v3/objects/<str:object_type_name>", 201)] == 1
    assert log["total"] == 4


def test_it_resets_everything(sandbox_url, portal):
    set_faults(sandbox_url, portal["portal_id"], error_rate=1.0)
    answer = requests.post(f"{sandbox_url}/control/reset", timeout=10)
    assert answer.status_code == 200 and answer.json()["rows_deleted"] > 0
    assert requests.get(f"{sandbox_url}/control/requests", timeout=10).json()["total"] == 0
    assert get_deals(sandbox_url, portal).status_code == 401, "tokens are gone"
