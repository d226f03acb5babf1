"""QBO's per-company limits: 500 requests a minute, 10 at once, 120 batch requests a minute.

Windows and the concurrency count live in this process under one lock (the sandbox runs in
one server process); a company with `rate_limits` off is never limited.
"""

import threading
import time
from collections import deque
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


def _take(store: dict[str, deque[float]], realm: str, limit: int) -> bool:
    now = time.monotonic()
    calls = store.setdefault(realm, deque())
    while calls and now - calls[0] >= WINDOW:
        calls.popleft()
    if len(calls) >= limit:
        return False
    calls.append(now)
    return True


@contextmanager
def admitted(realm: str, *, limited: bool, batch: bool = False):
    """Hold one of the company's request slots for the duration of a call, or refuse."""
    if not limited:
        yield
        return
    with _lock:
        if _running.get(realm, 0) >= CONCURRENT:
            raise Throttled("concurrent")
        if batch and not _take(_batches, realm, BATCH_PER_MINUTE):
            raise Throttled("batch")
        if not _take(_calls, realm, PER_MINUTE):
            raise Throttled("minute")
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
