"""Xero's per-organisation limits: 60 calls a minute, 5 at once, a daily allowance, and
10,000 a minute for the app across organisations (api-facts C10).

Windows are fixed (not sliding) and start with an organisation's first call, so each
organisation's reset falls at its own time, as Xero's do. The counts live in this process
(see sandbox/emulation.py for why that is enough). A refused call uses up nothing.
"""

import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sandbox.emulation import RESET_HOOKS

PER_MINUTE = 60
CONCURRENT = 5
APP_PER_MINUTE = 10_000
MINUTE, DAY = 60.0, 86_400.0

_lock = threading.Lock()
_windows: dict[tuple[str, str], tuple[float, int]] = {}  # (tenant, "minute"|"day") → start, n
_running: dict[str, int] = {}


@dataclass
class Remaining:
    minute: int
    day: int
    app_minute: int

    def headers(self) -> dict[str, str]:
        return {
            "X-MinLimit-Remaining": str(max(0, self.minute)),
            "X-DayLimit-Remaining": str(max(0, self.day)),
            "X-AppMinLimit-Remaining": str(max(0, self.app_minute)),
        }


class Throttled(Exception):
    def __init__(self, problem: str, retry_after: int | None, remaining: Remaining) -> None:
        super().__init__(problem)
        self.problem, self.retry_after, self.remaining = problem, retry_after, remaining


def _window(key: tuple[str, str], length: float, now: float) -> tuple[float, int]:
    start, count = _windows.get(key, (now, 0))
    if now - start >= length:
        start, count = now, 0
    return start, count


@contextmanager
def admitted(tenant: str, *, limited: bool, day_limit: int) -> Iterator[Remaining]:
    """Hold one of the organisation's slots for a call, or raise Throttled."""
    if not limited:
        yield Remaining(PER_MINUTE, day_limit, APP_PER_MINUTE)
        return
    with _lock:
        now = time.monotonic()
        m_start, m_count = _window((tenant, "minute"), MINUTE, now)
        d_start, d_count = _window((tenant, "day"), DAY, now)
        a_start, a_count = _window(("", "app"), MINUTE, now)
        left = Remaining(PER_MINUTE - m_count, day_limit - d_count, APP_PER_MINUTE - a_count)
        if d_count >= day_limit:
            raise Throttled("day", math.ceil(d_start + DAY - now), left)
        if m_count >= PER_MINUTE:
            raise Throttled("minute", math.ceil(m_start + MINUTE - now), left)
        if a_count >= APP_PER_MINUTE:
            raise Throttled("appminute", math.ceil(a_start + MINUTE - now), left)
        if _running.get(tenant, 0) >= CONCURRENT:
            raise Throttled("concurrent", None, left)
        _windows[(tenant, "minute")] = (m_start, m_count + 1)
        _windows[(tenant, "day")] = (d_start, d_count + 1)
        _windows[("", "app")] = (a_start, a_count + 1)
        _running[tenant] = _running.get(tenant, 0) + 1
        left = Remaining(left.minute - 1, left.day - 1, left.app_minute - 1)
    try:
        yield left
    finally:
        with _lock:
            _running[tenant] -= 1


def _forget_all() -> None:
    with _lock:
        _windows.clear()
        _running.clear()


RESET_HOOKS.append(_forget_all)
