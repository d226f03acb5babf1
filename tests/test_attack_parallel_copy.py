"""Attacks on the other core's copy (sync/linkage/parallel.py, the matcher's copy told the
weights, sync/checking.py's records checked meanwhile).

BREAKS (these tests fail on the code they were written against, 65b4941):
- a process whose children are reaped by the system (SIGCHLD ignored, as daemons set it)
  gets ChildProcessError out of every large batch, where a single process decides;
- an answer interrupted while it waits (a signal handler's exception: a task's time
  limit, Ctrl-C) leaves the copy running and then a zombie nobody reaps;
- a process at its limit of open files gets OSError out of a large batch (the pipes are
  not made; the first pipe is left open when the second fails), where a single process
  decides.

HELD: a copy that dies after being told (segfault, MemoryError) or never writes its answer;
a message larger than a pipe told to a copy still at work; tell twice, tell after
answer, answer twice; weights with NaN and infinity decide as one process does; a model
replaced between fit and link_all (kept weights, other comparisons) and a customer added;
two matchers' copies at once, one dropped unread (no hang, no zombie); no file descriptor
left over 50 batches; odd property types checked on the other core as here.
"""

import gc
import os
import resource
import signal
import time
from contextlib import suppress
from decimal import Decimal

import pytest

from sync import checking
from sync.linkage import Matcher, Party, parallel
from sync.linkage import matcher as matcher_module
from sync.linkage.model import Model

from .test_linkage import world
from .test_linkage_parallel import may_fork, within

ANSWERS: list = []  # the answers of the copies forked in the running test (None: failed)
PIDS: list[int] = []  # and their process ids


@pytest.fixture
def forking(monkeypatch) -> bool:
    """Copies forked from 10 records (fit learns from a quarter of the batch, so the copy
    has records to compare); whether this process may fork at all (one thread)."""
    monkeypatch.setenv("SYNCFIRM_LINKAGE_FORK", "1")
    monkeypatch.setattr(matcher_module, "PARALLEL_FROM", 10)
    monkeypatch.setattr(matcher_module, "TRAINING_RECORDS", 15)
    monkeypatch.setattr(checking, "PARALLEL_FROM", 10)
    fork = parallel.in_another_process
    ANSWERS.clear()
    PIDS.clear()

    def counted(work):
        copy = fork(work)
        if copy._pid is not None:
            PIDS.append(copy._pid)
            answer = copy.answer
            copy.answer = lambda: ANSWERS.append(answer()) or ANSWERS[-1]
        return copy

    monkeypatch.setattr(parallel, "in_another_process", counted)
    return may_fork()


def _used(forking: bool) -> None:
    """A copy's answer was used (where this process may fork)."""
    assert not forking or any(a is not None for a in ANSWERS)


def _doubled(told) -> list[float]:
    return [2 * w for w in told()]


def _no_child_left() -> None:
    """Every copy the test forked reaped: none running, none a zombie (other tests' servers
    may be this process's children too)."""
    for pid in PIDS:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


def _decided(decisions) -> list:
    return [(d.kind, d.candidate, d.reason, d.weight) for d in decisions]


@pytest.fixture(scope="module")
def small():
    books, crm, _ = world(seed=5, size=80)
    return books, crm


def _alone(monkeypatch, books, crm, model=None) -> list:
    monkeypatch.delenv("SYNCFIRM_LINKAGE_FORK", raising=False)
    try:
        matcher = Matcher(books)
        matcher.fit(crm)
        if model is not None:
            matcher.model = model(matcher.model)
        return _decided(matcher.link_all(crm))
    finally:
        monkeypatch.setenv("SYNCFIRM_LINKAGE_FORK", "1")


# --- breaks ------------------------------------------------------------------------------


def test_children_reaped_by_the_system_still_decide_as_one(forking, monkeypatch, small):
    books, crm = small
    alone = _alone(monkeypatch, books, crm)
    previous = signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    try:
        with within(30):
            copy = parallel.in_another_process(_doubled)
            copy.tell([1.0])
            assert copy.answer() in ([2.0], None)
            matcher = Matcher(books)
            matcher.fit(crm)
            assert _decided(matcher.link_all(crm)) == alone
            field_map = {"display_name": {"from": ["name"]}}
            records = [({"name": f"Cedar {i}"}, field_map) for i in range(20)]
            assert checking.check_all_meanwhile(records, "US")() == checking.check_all(
                records, "US"
            )
    finally:
        signal.signal(signal.SIGCHLD, previous)


def test_an_answer_interrupted_leaves_no_copy_behind(forking):
    def slow(told):
        time.sleep(1.5)
        return 1

    copy = parallel.in_another_process(slow)
    pid = copy._pid
    if pid is None:  # no copy in this process (another thread runs): nothing to interrupt
        assert not forking and copy.answer() is None
        return
    try:
        with pytest.raises(TimeoutError), within(0.2, TimeoutError):
            copy.answer()
        _no_child_left()
    finally:
        if pid is not None:
            with suppress(ChildProcessError):
                os.waitpid(pid, 0)


def test_a_process_out_of_file_descriptors_decides_as_one(forking, monkeypatch, small):
    """Two numbers left under the limit: the first pipe is made, the second is not."""
    books, crm = small
    alone = _alone(monkeypatch, books, crm)
    matcher = Matcher(books)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    before = len(os.listdir("/proc/self/fd"))
    highest = max(int(fd) for fd in os.listdir("/proc/self/fd"))
    spare = [os.open("/dev/null", os.O_RDONLY) for _ in range(8)]
    resource.setrlimit(resource.RLIMIT_NOFILE, (highest + 1, hard))
    try:
        while True:  # every free number under the limit taken
            try:
                spare.append(os.open("/dev/null", os.O_RDONLY))
            except OSError:
                break
        os.close(spare.pop())
        os.close(spare.pop())
        with within(30):
            matcher.fit(crm)
            decided = _decided(matcher.link_all(crm))
    finally:
        for fd in spare:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert decided == alone
    assert len(os.listdir("/proc/self/fd")) == before


# --- held --------------------------------------------------------------------------------


def test_a_copy_that_dies_once_told_or_answers_nothing_is_no_error(forking):
    def dies(told):
        told()
        os._exit(0)  # "succeeded", but wrote nothing

    def crashes(told):
        told()
        import ctypes

        ctypes.string_at(0)  # a segfault

    def runs_out(told):
        told()
        raise MemoryError

    with within(20):
        for work in (dies, crashes, runs_out):
            copy = parallel.in_another_process(work)
            copy.tell([1.0])
            copy.tell([2.0])  # twice: nothing happens
            assert copy.answer() is None
            assert copy.answer() is None  # twice: nothing more
            copy.tell([3.0])  # after the answer: nothing happens
    _no_child_left()


def test_a_huge_message_reaches_a_copy_still_at_work(forking):
    """More than a pipe holds, told while the copy still works: this side waits for it to
    read, no longer."""

    def later(told):
        time.sleep(0.2)
        return len(told())

    with within(20):
        copy = parallel.in_another_process(later)
        copy.tell(b"x" * 5_000_000)
        assert copy.answer() == (5_000_000 if forking else None)
    _no_child_left()


@pytest.mark.parametrize("odd", [float("nan"), float("inf"), 1e309, 0.0])
def test_odd_weights_decide_as_one_process(forking, monkeypatch, small, odd):
    books, crm = small

    def spoilt(model: Model) -> Model:
        m = [list(row) for row in model.m]
        m[3][-1] = odd
        return Model(m, model.u, model.prior, model.comparisons)

    alone = _alone(monkeypatch, books, crm, spoilt)
    with within(30):
        matcher = Matcher(books)
        matcher.fit(crm)
        matcher.model = spoilt(matcher.model)
        assert repr(_decided(matcher.link_all(crm))) == repr(alone)  # NaN != NaN
    _used(forking)
    _no_child_left()


def test_a_model_replaced_or_books_changed_after_fit_decide_as_one(forking, monkeypatch, small):
    books, crm = small
    for replaced in (
        lambda model: model.with_prior(0.3),  # kept weights
        lambda model: Model(model.m, model.u, model.prior, list(model.comparisons)),
    ):
        alone = _alone(monkeypatch, books, crm, replaced)
        with within(30):
            matcher = Matcher(books)
            matcher.fit(crm)
            matcher.model = replaced(matcher.model)
            assert _decided(matcher.link_all(crm)) == alone
    _used(forking)
    late = Party("late", crm[0].name, crm[0].email)
    monkeypatch.delenv("SYNCFIRM_LINKAGE_FORK")
    expected = Matcher(books)
    expected.fit(crm)
    expected.add(late)
    alone = _decided(expected.link_all(crm))
    monkeypatch.setenv("SYNCFIRM_LINKAGE_FORK", "1")
    with within(30):
        matcher = Matcher(books)
        matcher.fit(crm)
        matcher.add(late)
        assert _decided(matcher.link_all(crm)) == alone
    _no_child_left()


def test_two_matchers_copies_at_once_one_dropped_unread(forking, monkeypatch, small):
    books, crm = small
    alone = _alone(monkeypatch, books, crm)
    with within(30):
        first, second = Matcher(books), Matcher(books)
        first.fit(crm)
        second.fit(crm)
        del first
        gc.collect()
        assert _decided(second.link_all(crm)) == alone
    _used(forking)
    _no_child_left()


def test_no_file_descriptor_left_over_many_batches(forking, small):
    books, crm = small
    matcher = Matcher(books)
    matcher.fit(crm)
    matcher.link_all(crm)  # the copy fit started is read
    before = len(os.listdir("/proc/self/fd"))
    with within(30):
        for n in range(50):
            batch = [p._replace() for p in crm[:20]]
            matcher.link_all(batch)
            if n % 10 == 0:
                checking.check_all_meanwhile([({"name": "x"}, {})] * 10, "US")()
    _used(forking)
    assert len(os.listdir("/proc/self/fd")) == before
    _no_child_left()


def test_odd_property_types_are_checked_as_here(forking):
    field_map = {
        "display_name": {"from": ["name"]},
        "email": {"from": ["email"]},
        "phone": {"from": ["phone"]},
        "postal_code": {"first_of": ["zip", "postal"]},
    }
    odd = [None, 0, 7, -1.5, float("nan"), Decimal("1E+3"), {"a": {"b": [1, None]}}, [], True]
    records = [
        ({"name": odd[i % len(odd)], "email": odd[(i + 1) % len(odd)], "zip": odd[i // 3 % 9],
          "phone": odd[(i + 4) % len(odd)]}, field_map)
        for i in range(60)
    ]  # fmt: skip
    with within(30):
        here = checking.check_all(records, "US")
        assert checking.check_all_meanwhile(records, "US")() == here
    _used(forking)
    _no_child_left()
