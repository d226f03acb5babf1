"""The sandbox control API: fault plans, the request log and the full reset."""

import pytest
import requests
from django.apps import apps

from sandbox import emulation
from sandbox.models import FaultConfig
from sandbox.routers import SANDBOX_DB, is_sandbox_app
from tests.sandbox import urls_dummy
from tests.sandbox.conftest import sandbox_db

pytestmark = [sandbox_db, pytest.mark.urls("tests.sandbox.urls_dummy")]

NO_FAULTS = {
    "seed": 0,
    "latency_ms": 0,
    "error_rate": 0.0,
    "drop_rate": 0.0,
    "drop_after_commit_rate": 0.0,
    "throttle": False,
    "ignore_requestid": False,
    "webhook_loss_rate": 0.0,
    "webhook_duplicate_rate": 0.0,
}


@pytest.fixture(autouse=True)
def fresh_state():
    emulation.reset()
    urls_dummy.NOTES.clear()
    yield
    emulation.reset()


@pytest.fixture
def control(live_server) -> str:
    return f"{live_server.url}/sandbox/control"


def put(control: str, body) -> requests.Response:
    return requests.put(f"{control}/faults", json=body, timeout=10)


def get_plan(control: str, system: str, account: str) -> requests.Response:
    params = {"system": system, "account": account}
    return requests.get(f"{control}/faults", params=params, timeout=10)


def test_it_stores_and_returns_a_fault_plan(control):
    plan = {
        "seed": 7,
        "latency_ms": 20,
        "error_rate": 0.25,
        "drop_rate": 0.1,
        "drop_after_commit_rate": 0.5,
        "throttle": True,
        "ignore_requestid": True,
        "webhook_loss_rate": 0.3,
        "webhook_duplicate_rate": 1,
    }
    answer = put(control, {"system": "quickbooks", "account": "9130", **plan})
    assert answer.status_code == 200
    expected = {"system": "quickbooks", "account": "9130", **plan, "webhook_duplicate_rate": 1.0}
    assert answer.json() == expected
    assert get_plan(control, "quickbooks", "9130").json() == expected
    assert emulation.fault_plan("quickbooks", "9130") == emulation.FaultPlan(**plan)


def test_it_answers_no_faults_for_an_account_without_a_plan(control):
    answer = get_plan(control, "hubspot", "4711")
    assert answer.status_code == 200
    assert answer.json() == {"system": "hubspot", "account": "4711", **NO_FAULTS}


def test_it_replaces_the_whole_plan_on_put(control):
    put(control, {"system": "hubspot", "account": "4711", "error_rate": 0.5, "seed": 2})
    answer = put(control, {"system": "hubspot", "account": "4711", "throttle": True})
    assert answer.json() == {
        "system": "hubspot",
        "account": "4711",
        **NO_FAULTS,
        "throttle": True,
    }
    assert FaultConfig.objects.count() == 1


def test_it_clears_a_plan_on_delete(control):
    put(control, {"system": "quickbooks", "account": "9130", "error_rate": 1.0})
    params = {"system": "quickbooks", "account": "9130"}
    answer = requests.delete(f"{control}/faults", params=params, timeout=10)
    assert answer.status_code == 200 and answer.json()["error_rate"] == 0.0
    assert not FaultConfig.objects.exists()
    assert urls_dummy_read(control, "9130").status_code == 200, "faults are off at once"


def test_it_clears_a_plan_named_in_a_json_body_on_delete(control):
    put(control, {"system": "hubspot", "account": "4711", "throttle": True})
    body = {"system": "hubspot", "account": "4711"}
    assert requests.delete(f"{control}/faults", json=body, timeout=10).status_code == 200
    assert not FaultConfig.objects.exists()


def urls_dummy_read(control: str, account: str) -> requests.Response:
    base = control.removesuffix("/sandbox/control")
    return requests.get(f"{base}/dummy/qbo/{account}/notes", timeout=10)


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        ({"error_rate": 1.5}, "error_rate must be a number from 0 to 1"),
        ({"drop_rate": -0.1}, "drop_rate must be a number from 0 to 1"),
        ({"webhook_loss_rate": True}, "webhook_loss_rate must be a number from 0 to 1"),
        ({"drop_after_commit_rate": "0.5"}, "drop_after_commit_rate must be a number"),
        ({"throttle": "yes"}, "throttle must be true or false"),
        ({"ignore_requestid": 1}, "ignore_requestid must be true or false"),
        ({"latency_ms": -1}, "latency_ms must be a whole number"),
        ({"seed": 1.5}, "seed must be a whole number"),
        ({"explode": True}, "unknown fields: ['explode']"),
    ],
)
def test_it_refuses_a_bad_fault_plan_with_a_clear_message(control, plan, message):
    answer = put(control, {"system": "quickbooks", "account": "9130", **plan})
    assert answer.status_code == 400
    assert message in answer.json()["error"]
    assert not FaultConfig.objects.exists()


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_it_refuses_an_unknown_system(control, method):
    target = {"system": "zoho", "account": "1"}
    answer = requests.request(
        method,
        f"{control}/faults",
        params=target if method == "GET" else None,
        json=target if method != "GET" else None,
        timeout=10,
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == (
        "system must be one of ['quickbooks', 'hubspot', 'xero', 'jobber'], not 'zoho'"
    )


def test_it_requires_an_account(control):
    answer = put(control, {"system": "hubspot", "account": " "})
    assert answer.status_code == 400 and "account" in answer.json()["error"]


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]"])
def test_it_refuses_a_body_that_is_not_a_json_object(control, body):
    answer = requests.put(f"{control}/faults", data=body, timeout=10)
    assert answer.status_code == 400 and "JSON" in answer.json()["error"]


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "faults"), ("POST", "requests"), ("PUT", "requests"), ("GET", "reset")],
)
def test_it_refuses_methods_it_does_not_serve(control, method, path):
    assert requests.request(method, f"{control}/{path}", timeout=10).status_code == 405


def test_it_lists_counted_calls_filtered_by_system_and_account(control):
    base = control.removesuffix("/sandbox/control")
    for account in ("1", "1", "2"):
        requests.get(f"{base}/dummy/qbo/{account}/notes", timeout=10)
    requests.post(f"{base}/dummy/hs/1/notes", json={"text": "hi"}, timeout=10)

    everything = requests.get(f"{control}/requests", timeout=10).json()
    assert everything["total"] == 4 and len(everything["requests"]) == 3
    one = requests.get(
        f"{control}/requests", params={"system": "quickbooks", "account": "1"}, timeout=10
    ).json()
    assert one == {
        "requests": [
            {
                "system": "quickbooks",
                "account": "1",
                "method": "GET",
                "route": "dummy/qbo/<str:account>/notes",
                "status": 200,
                "fault": "",
                "count": 2,
            }
        ],
        "total": 2,
    }
    hubspot = requests.get(f"{control}/requests", params={"system": "hubspot"}, timeout=10)
    assert hubspot.json()["total"] == 1


def test_it_hands_over_and_clears_the_counted_calls_of_one_account_on_delete(control):
    base = control.removesuffix("/sandbox/control")
    for account in ("1", "1", "2"):
        requests.get(f"{base}/dummy/qbo/{account}/notes", timeout=10)
    params = {"system": "quickbooks", "account": "1"}
    taken = requests.delete(f"{control}/requests", params=params, timeout=10)
    assert taken.status_code == 200 and taken.json()["total"] == 2
    assert requests.get(f"{control}/requests", params=params, timeout=10).json()["total"] == 0
    assert requests.get(f"{control}/requests", timeout=10).json()["total"] == 1, "others kept"


def test_it_does_not_count_its_own_calls(control):
    requests.get(f"{control}/requests", timeout=10)
    put(control, {"system": "hubspot", "account": "1"})
    assert requests.get(f"{control}/requests", timeout=10).json()["total"] == 0


def sandbox_rows() -> dict[str, int]:
    models = [
        m for m in apps.get_models(include_auto_created=True) if is_sandbox_app(m._meta.app_label)
    ]
    return {m._meta.label: m.objects.using(SANDBOX_DB).count() for m in models}


def test_it_resets_every_sandbox_table_and_the_in_process_state(control, monkeypatch):
    hook_calls = []
    hook = lambda: hook_calls.append("reset")  # noqa: E731 - a one-line stand-in hook
    monkeypatch.setattr(emulation, "RESET_HOOKS", [*emulation.RESET_HOOKS, hook])
    base = control.removesuffix("/sandbox/control")
    company = requests.post(f"{control}/quickbooks/companies", json={"name": "Acme"}, timeout=10)
    portal = requests.post(f"{control}/hubspot/portals", json={"name": "Acme"}, timeout=10)
    assert company.status_code in (200, 201) and portal.status_code in (200, 201)
    put(control, {"system": "quickbooks", "account": "1", "throttle": True})
    requests.get(f"{base}/dummy/qbo/1/notes", timeout=10)
    before = sandbox_rows()
    assert sum(1 for n in before.values() if n) >= 3, before

    answer = requests.post(f"{control}/reset", timeout=10)

    assert answer.status_code == 200 and answer.json()["rows_deleted"] == sum(before.values())
    assert set(sandbox_rows().values()) == {0}
    assert requests.get(f"{control}/requests", timeout=10).json()["total"] == 0
    assert urls_dummy_read(control, "1").status_code == 200, "the cached plan is forgotten"
    assert hook_calls == ["reset"], "every registered reset hook ran"
