"""QBO's per-company limits: 500 requests a minute, 10 at once, 120 batch requests a minute.

Each item of a batch is metered like a normal call against the 500 a minute (api-facts
A8), and the batch itself counts against the 120 batches a minute.

Sliding one-minute windows and the concurrency count live in this process, in per-realm
structures guarded by one lock, so they hold across the server's request threads; the
sandbox is served by one process (runserver or the test live server), and several
processes would each keep their own counts. A company with `rate_limits` off is never
limited (benchmarks measure raw speed that way).
"""

import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

from sandbox.emulation import RESET_HOOKS

PER_MINUTE = 500
CONCURRENT = 10
BATCH_PER_MINUTE = 120
WINDOW = 60.0

_lock = threading.Lock()
_calls: dict[str, deque[float]] = {}
_batches: dict[str, deque[float]] = {}
_running: dict[str, int] = {}


class Throttled(Exception):
    pass


def _room(store: dict[str, deque[float]], realm: str, now: float) -> deque[float]:
    calls = store.setdefault(realm, deque())
    while calls and now - calls[0] >= WINDOW:
        calls.popleft()
    return calls


@contextmanager
def admitted(realm: str, *, limited: bool, batch: bool = False, cost: int = 1) -> Iterator[None]:
    """Hold one of the company's request slots for the duration of a call, or refuse.

    `cost` is how many calls the request counts for (a batch's item count). A refused
    request uses up nothing.
    """
    if not limited:
        yield
        return
    with _lock:
        now = time.monotonic()
        calls, batches = _room(_calls, realm, now), _room(_batches, realm, now)
        if _running.get(realm, 0) >= CONCURRENT:
            raise Throttled("concurrent")
        if batch and len(batches) >= BATCH_PER_MINUTE:
            raise Throttled("batch")
        if len(calls) + cost > PER_MINUTE:
            raise Throttled("minute")
        if batch:
            batches.append(now)
        calls.extend([now] * cost)
        _running[realm] = _running.get(realm, 0) + 1
    try:
        yield
    finally:
        with _lock:
            _running[realm] -= 1


def _forget_all() -> None:
    with _lock:
        _calls.clear()
        _batches.clear()
        _running.clear()


RESET_HOOKS.append(_forget_all)
