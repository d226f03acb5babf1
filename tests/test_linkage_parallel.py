"""The other core's copy (sync/linkage/parallel.py): told what it waits for, it answers; never
told, it stops, and the caller does the work itself. A copy that would wait for ever hangs a
sync worker with no error anywhere, so each test here turns a hang into a failure."""

import os
import signal
import subprocess
import sys
import threading
from contextlib import contextmanager

import pytest

from sync.linkage import parallel


@pytest.fixture
def forking(monkeypatch) -> bool:
    """Whether copies are forked in this test (only while the process has one thread;
    otherwise every answer is None and the caller works alone, which is asserted instead)."""
    monkeypatch.setenv("SYNCFIRM_LINKAGE_FORK", "1")
    return may_fork()


@contextmanager
def within(seconds: float, error: type[Exception] = AssertionError):
    """A hang turned into `error` after `seconds`."""

    def hung(*_):
        raise error(f"still waiting after {seconds} s: a copy hangs its caller")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def may_fork() -> bool:
    """Whether this process forks its copies; inside the last test's fresh process it must."""
    if os.environ.get("SYNCFIRM_TEST_FORK_REQUIRED") == "1":
        assert parallel.available(), "a process of one thread forks its copies"
    return parallel.available()


def _doubled(told) -> list[float]:
    weights = told()
    return [2 * w for w in weights]


def test_a_copy_told_the_weights_answers_with_them(forking):
    with within(20):
        copy = parallel.in_another_process(_doubled)
        copy.tell([0.1, 1e-300, float("inf")])
        answer = copy.answer()
    assert answer == ([0.2, 2e-300, float("inf")] if forking else None)


def test_a_copy_never_told_stops_and_says_nothing(forking):
    with within(20):
        copy = parallel.in_another_process(_doubled)
        assert copy.answer() is None  # the caller does the work itself
        copy.tell([1.0])  # too late: nothing happens, nothing raises


def test_a_copy_forked_later_does_not_keep_an_earlier_one_waiting(forking):
    """GIVEN two copies at work, the first never told WHEN its answer is asked for while the
    second still waits THEN it stops at once (the second does not hold its inbox open)."""
    with within(20):
        first = parallel.in_another_process(_doubled)
        second = parallel.in_another_process(_doubled)
        assert first.answer() is None
        second.tell([3.0])
        assert second.answer() == ([6.0] if forking else None)


def test_a_copy_that_died_before_it_was_told_is_no_error(forking):
    def dies(told):
        os._exit(3)

    with within(20):
        copy = parallel.in_another_process(dies)
        if forking:
            os.waitid(os.P_PID, copy._pid, os.WEXITED | os.WNOWAIT)  # it has died
        copy.tell(list(range(100_000)))  # more than a pipe holds: must not block or raise
        assert copy.answer() is None


def test_no_copy_while_another_thread_runs(forking):
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert not parallel.available()
        copy = parallel.in_another_process(_doubled)
        copy.tell([1.0])
        assert copy.answer() is None
    finally:
        stop.set()
        thread.join()


def _records(n: int) -> list:
    from sync.mapping import DEFAULT_COMPANY_MAP, DEFAULT_CONTACT_MAP

    odd = ["not-an-email", "", "x" * 10_000, "Émile Ω 🏗 \u0000", "LLC", "1e309"]
    return [
        (
            {"name": f"Cedar Roofing {i}", "phone": "512-555-0101", "zip": "78701"}
            if i % 2
            else {"firstname": odd[i % len(odd)], "lastname": "Lee", "email": odd[i % 5]},
            DEFAULT_COMPANY_MAP if i % 2 else DEFAULT_CONTACT_MAP,
        )
        for i in range(n)
    ]


def test_a_large_batch_checked_on_the_other_core_is_checked_as_here(forking, monkeypatch):
    """GIVEN a batch large enough for the other core (sync/checking.py, as a first sync uses
    it while the books' matcher is built) THEN every record's values and problems are the
    ones checking it here gives, odd records included."""
    from sync import checking

    monkeypatch.setattr(checking, "PARALLEL_FROM", 10)
    records = _records(60)
    started = []
    fork = parallel.in_another_process
    monkeypatch.setattr(parallel, "in_another_process", lambda w: started.append(1) or fork(w))
    with within(30):
        later = checking.check_all_meanwhile(records, "US", {"given_name": 100})
        assert started == [1]
        got = later()
    assert got == checking.check_all(records, "US", {"given_name": 100})
    assert any(problems for _, problems in got) and any(not p for _, p in got)


def test_a_malformed_field_map_is_an_error_where_the_sync_runs(forking, monkeypatch):
    from sync import checking
    from sync.mapping import FieldMapError

    monkeypatch.setattr(checking, "PARALLEL_FROM", 10)
    records = [({"name": "Cedar"}, {"display_name": {"from": "name"}})] * 20
    with within(30):
        later = checking.check_all_meanwhile(records, "US")
        with pytest.raises(FieldMapError, match="display_name"):
            later()


def test_a_batch_dropped_before_it_is_read_leaves_no_copy_behind(forking, monkeypatch):
    import gc

    from sync import checking

    monkeypatch.setattr(checking, "PARALLEL_FROM", 10)
    copies = []
    fork = parallel.in_another_process
    monkeypatch.setattr(
        parallel, "in_another_process", lambda w: copies.append(fork(w)) or copies[-1]
    )
    with within(30):
        later = checking.check_all_meanwhile(_records(2_000), "US")  # more than a pipe holds
        del later
        gc.collect()
        pid = copies[0]._pid
        assert pid is None, "the copy was read and reaped"


def test_the_copies_are_tested_forked_in_a_process_of_one_thread():
    """Under pytest-xdist a worker may hold another test's server threads: then no copy is
    forked and the tests of copies check only the work done here. Here they run again in a
    fresh process of one thread, where every copy is forked (its fixtures insist on it)."""
    if os.environ.get("SYNCFIRM_TEST_FORK_REQUIRED") == "1":
        return  # this test, run inside that process: the others are what it runs
    env = {**os.environ, "SYNCFIRM_TEST_FORK_REQUIRED": "1"}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
         "-p", "no:xdist", "tests/test_linkage_parallel.py", "tests/test_attack_parallel_copy.py"],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
