"""Fault injection and the request log, over real HTTP against a dummy emulated view."""

import threading
import time

import pytest
import requests
import urllib3

from sandbox import emulation
from tests.sandbox import urls_dummy
from tests.sandbox.conftest import sandbox_db

pytestmark = [sandbox_db, pytest.mark.urls("tests.sandbox.urls_dummy")]

ROUTE = "dummy/qbo/<str:account>/notes"


@pytest.fixture(autouse=True)
def fresh_state():
    emulation.reset()
    urls_dummy.NOTES.clear()
    yield
    emulation.reset()


@pytest.fixture
def base(live_server) -> str:
    return live_server.url


def set_faults(base: str, account: str, system: str = "quickbooks", **plan) -> dict:
    answer = requests.put(
        f"{base}/sandbox/control/faults",
        json={"system": system, "account": account, **plan},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def notes_url(base: str, account: str, system: str = "qbo") -> str:
    return f"{base}/dummy/{system}/{account}/notes"


def read(base: str, account: str = "111", system: str = "qbo") -> requests.Response:
    return requests.get(notes_url(base, account, system), timeout=10)


def write(base: str, text: str, account: str = "111", system: str = "qbo") -> requests.Response:
    return requests.post(notes_url(base, account, system), json={"text": text}, timeout=10)


def logged(base: str, **filters) -> dict:
    return requests.get(f"{base}/sandbox/control/requests", params=filters, timeout=10).json()


def test_it_runs_the_view_untouched_without_a_fault_plan(base):
    assert write(base, "first").status_code == 201
    answer = read(base)
    assert answer.status_code == 200 and answer.json() == {"notes": ["first"]}


def test_it_answers_a_quickbooks_fault_before_the_view_runs(base):
    set_faults(base, "111", error_rate=1.0)
    answer = write(base, "never written")
    assert answer.status_code == 503
    error = answer.json()["Fault"]["Error"][0]
    assert answer.json()["Fault"]["type"] == "SystemFault"
    assert set(error) == {"Message", "Detail", "code", "element"} and int(error["code"]) == 10000
    assert "time" in answer.json()
    assert urls_dummy.NOTES == {}, "nothing was committed"


def test_it_answers_a_hubspot_error_in_hubspot_shape(base):
    set_faults(base, "222", system="hubspot", error_rate=1.0)
    answer = write(base, "never written", account="222", system="hs")
    assert answer.status_code >= 500
    body = answer.json()
    assert (body["status"], body["category"]) == ("error", "INTERNAL_ERROR") and body["message"]
    assert urls_dummy.NOTES == {}


def test_it_draws_errors_deterministically_from_the_seed(base):
    set_faults(base, "111", seed=3, error_rate=0.5)
    first = [read(base).status_code for _ in range(30)]
    assert set(first) == {200, 503} and 5 <= first.count(503) <= 25
    emulation.reset()  # the call counter starts again: the same seed, the same answers
    set_faults(base, "111", seed=3, error_rate=0.5)
    assert [read(base).status_code for _ in range(30)] == first
    emulation.reset()
    set_faults(base, "111", seed=4, error_rate=0.5)
    assert [read(base).status_code for _ in range(30)] != first, "another seed, another run"


def test_it_throttles_quickbooks_calls_in_bursts_with_fault_3001(base):
    set_faults(base, "111", throttle=True)
    answers = [read(base) for _ in range(2 * emulation.THROTTLE_PERIOD)]
    statuses = [a.status_code for a in answers]
    assert statuses.count(429) == 2 * emulation.THROTTLE_BURST
    assert "429, 429, 429" in ", ".join(map(str, statuses)), "in a burst"
    limited = next(a for a in answers if a.status_code == 429)
    error = limited.json()["Fault"]["Error"][0]
    assert error["code"] == "3001" and "ThrottleExceeded" in error["Message"]
    assert limited.headers["Retry-After"]


def test_it_throttles_hubspot_calls_with_the_ten_secondly_limit(base):
    set_faults(base, "222", system="hubspot", throttle=True)
    answers = [read(base, "222", "hs") for _ in range(emulation.THROTTLE_PERIOD)]
    assert (
        next(a for a in answers if a.status_code == 429).headers["X-HubSpot-RateLimit-Remaining"]
        == "0"
    )
    limited = [a.json() for a in answers if a.status_code == 429]
    assert len(limited) == emulation.THROTTLE_BURST
    assert limited[0]["errorType"] == "RATE_LIMIT"
    assert limited[0]["policyName"] == "TEN_SECONDLY_ROLLING"
    assert limited[0]["message"] == "You have reached your ten_secondly_rolling limit."


def test_it_commits_a_write_then_cuts_the_connection_for_requests(base):
    set_faults(base, "111", drop_after_commit_rate=1.0)
    started = time.monotonic()
    with pytest.raises(requests.ConnectionError, match="Connection aborted"):
        write(base, "kept")
    assert time.monotonic() - started < 5, "the client is not left hanging"
    assert urls_dummy.NOTES == {"111": ["kept"]}, "the write was committed"


def test_it_commits_a_write_then_cuts_the_connection_for_urllib3(base):
    set_faults(base, "111", drop_after_commit_rate=1.0)
    http = urllib3.PoolManager()
    with pytest.raises(urllib3.exceptions.ProtocolError):
        http.request("POST", notes_url(base, "111"), json={"text": "kept"}, timeout=10)
    assert urls_dummy.NOTES == {"111": ["kept"]}


def test_it_leaves_reads_and_refused_writes_alone_when_dropping_after_commit(base):
    set_faults(base, "111", drop_after_commit_rate=1.0)
    assert read(base).status_code == 200
    refused = requests.post(notes_url(base, "111"), json={}, timeout=10)
    assert refused.status_code == 400 and refused.json() == {"error": "text is required"}


def test_it_drops_a_call_before_the_view_runs(base):
    set_faults(base, "111", drop_rate=1.0)
    with pytest.raises(requests.ConnectionError):
        write(base, "never written")
    assert urls_dummy.NOTES == {}


@pytest.mark.parametrize(
    ("method", "raised", "calls"),
    [
        ("POST", urllib3.exceptions.ProtocolError, 1),
        ("PATCH", urllib3.exceptions.ProtocolError, 1),
        ("GET", urllib3.exceptions.MaxRetryError, 4),
        ("PUT", urllib3.exceptions.MaxRetryError, 4),
        ("DELETE", urllib3.exceptions.MaxRetryError, 4),
    ],
)
def test_it_is_retried_by_urllib3_defaults_only_for_idempotent_methods(base, method, raised, calls):
    set_faults(base, "111", drop_rate=1.0)
    with pytest.raises(raised):
        urllib3.PoolManager().request(method, notes_url(base, "111"), timeout=10)
    assert logged(base, account="111")["total"] == calls, "urllib3 retries idempotent calls 3x"


def test_it_adds_latency(base):
    set_faults(base, "111", latency_ms=300)
    assert read(base).elapsed.total_seconds() >= 0.3
    assert read(base, account="333").elapsed.total_seconds() < 0.3, "only for its account"


def test_it_applies_a_plan_to_its_own_system_and_account_only(base):
    set_faults(base, "111", error_rate=1.0)
    assert read(base).status_code == 503
    assert read(base, account="112").status_code == 200
    assert read(base, account="111", system="hs").status_code == 200


def test_it_takes_a_changed_plan_on_the_next_request(base):
    set_faults(base, "111", error_rate=1.0)
    assert read(base).status_code == 503
    set_faults(base, "111")
    assert read(base).status_code == 200
    set_faults(base, "111", throttle=True, seed=emulation.THROTTLE_PERIOD - 1)
    assert read(base).status_code == 429, "call 1 with this seed opens a burst"


def test_it_counts_calls_by_method_route_status_and_fault(base):
    write(base, "one")
    read(base)
    read(base)
    requests.post(notes_url(base, "111"), json={}, timeout=10)
    set_faults(base, "111", error_rate=1.0)
    read(base)
    set_faults(base, "111", drop_after_commit_rate=1.0)
    with pytest.raises(requests.ConnectionError):
        write(base, "two")
    set_faults(base, "111", drop_rate=1.0)
    with pytest.raises(requests.ConnectionError):
        read(base)
    log = logged(base, system="quickbooks", account="111")
    counts = {
        (r["method"], r["route"], r["status"], r["fault"]): r["count"] for r in log["requests"]
    }
    assert counts == {
        ("POST", ROUTE, 201, ""): 1,
        ("GET", ROUTE, 200, ""): 2,
        ("POST", ROUTE, 400, ""): 1,
        ("GET", ROUTE, 503, "error"): 1,
        ("POST", ROUTE, 201, "drop_after_commit"): 1,
        ("GET", ROUTE, 0, "drop"): 1,
    }
    assert log["total"] == 7


def test_it_counts_a_view_that_raises_as_a_500(base):
    assert write(base, "raise").status_code == 500
    [row] = logged(base, account="111")["requests"]
    assert (row["method"], row["status"], row["count"]) == ("POST", 500, 1)


def test_it_counts_every_call_from_concurrent_threads(base):
    def hammer(account: str) -> None:
        with requests.Session() as session:
            for _ in range(40):
                session.get(notes_url(base, account), timeout=10)

    threads = [threading.Thread(target=hammer, args=(str(i % 2),)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert logged(base)["total"] == 320
    assert logged(base, account="0")["total"] == 160


def test_it_draws_each_call_number_once_under_concurrent_threads(base):
    set_faults(base, "111", throttle=True)

    def hammer(out: list) -> None:
        with requests.Session() as session:
            out.extend(
                session.get(notes_url(base, "111"), timeout=10).status_code for _ in range(20)
            )

    results: list[list[int]] = [[] for _ in range(4)]
    threads = [threading.Thread(target=hammer, args=(out,)) for out in results]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = [s for out in results for s in out]
    assert statuses.count(429) == 80 // emulation.THROTTLE_PERIOD * emulation.THROTTLE_BURST


def test_it_leaves_a_pooled_session_usable_after_a_cut(base):
    set_faults(base, "111", drop_after_commit_rate=1.0)
    with requests.Session() as session:
        assert session.get(notes_url(base, "111"), timeout=10).status_code == 200
        with pytest.raises(requests.ConnectionError):
            session.post(notes_url(base, "111"), json={"text": "kept"}, timeout=10)
        set_faults(base, "111")
        again = session.get(notes_url(base, "111"), timeout=10)
    assert again.json() == {"notes": ["kept"]}
