"""Per-portal rate limits: 100 requests per rolling 10 s, and 5 searches per second.

State is a dict of timestamp deques in this process, guarded by one lock, so the limit
holds across the threads of one server process (the live server and runserver are
threaded). Several worker processes would each count separately; the sandbox runs one.
"""

import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass

from django.http import HttpResponse, JsonResponse

from sandbox.emulation import RESET_HOOKS

TEN_SECOND_MAX = 100
TEN_SECOND_WINDOW = 10.0
SEARCH_MAX = 5
SEARCH_WINDOW = 1.0

_lock = threading.Lock()
_calls: dict[str, deque[float]] = {}
_searches: dict[str, deque[float]] = {}


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    remaining: int
    policy: str = "TEN_SECONDLY_ROLLING"


def _take(store: dict[str, deque[float]], key: str, window: float, limit: int) -> int | None:
    """Record a call and return how many remain, or None when the window is full."""
    now = time.monotonic()
    calls = store.setdefault(key, deque())
    while calls and now - calls[0] >= window:
        calls.popleft()
    if len(calls) >= limit:
        return None
    calls.append(now)
    return limit - len(calls)


def check(portal_id: str, limited: bool, search: bool = False) -> Verdict:
    """Count one call for the portal; `limited=False` (lifted via control) always allows."""
    if not limited:
        return Verdict(True, TEN_SECOND_MAX)
    with _lock:
        if search and _take(_searches, portal_id, SEARCH_WINDOW, SEARCH_MAX) is None:
            return Verdict(False, 0, "SECONDLY")
        remaining = _take(_calls, portal_id, TEN_SECOND_WINDOW, TEN_SECOND_MAX)
    if remaining is None:
        return Verdict(False, 0)
    return Verdict(True, remaining)


def reset(portal_id: str) -> None:
    with _lock:
        _calls.pop(portal_id, None)
        _searches.pop(portal_id, None)


def add_headers(response: HttpResponse, verdict: Verdict) -> HttpResponse:
    response["X-HubSpot-RateLimit-Interval-Milliseconds"] = str(int(TEN_SECOND_WINDOW * 1000))
    response["X-HubSpot-RateLimit-Max"] = str(TEN_SECOND_MAX)
    response["X-HubSpot-RateLimit-Remaining"] = str(verdict.remaining)
    return response


def too_many(verdict: Verdict) -> HttpResponse:
    name = "secondly" if verdict.policy == "SECONDLY" else "ten_secondly_rolling"
    body = {
        "status": "error",
        "message": f"You have reached your {name} limit.",
        "errorType": "RATE_LIMIT",
        "correlationId": str(uuid.uuid4()),
        "policyName": verdict.policy,
        "requestId": str(uuid.uuid4()),
    }
    return add_headers(JsonResponse(body, status=429), verdict)


def _forget_all() -> None:
    with _lock:
        _calls.clear()
        _searches.clear()


RESET_HOOKS.append(_forget_all)
