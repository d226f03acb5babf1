"""The other core's copy (sync/linkage/parallel.py): told what it waits for, it answers; never
told, it stops, and the caller does the work itself. A copy that would wait for ever hangs a
sync worker with no error anywhere, so each test here turns a hang into a failure."""

import os
import signal
import threading
from contextlib import contextmanager

import pytest

from sync.linkage import parallel


@pytest.fixture
def forking(monkeypatch) -> bool:
    """Whether copies are forked in this test (only while the process has one thread;
    otherwise every answer is None and the caller works alone, which is asserted instead)."""
    monkeypatch.setenv("SYNCFIRM_LINKAGE_FORK", "1")
    return parallel.available()


@contextmanager
def within(seconds: int):
    def hung(*_):
        raise AssertionError(f"still waiting after {seconds} s: a copy hangs its caller")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


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
