"""What every emulator endpoint shares: the request log and fault injection.

Each emulator view (QuickBooks API, Intuit OAuth, HubSpot API and OAuth) is wrapped in
`emulated(system, account_of)`. The wrapper
  1. resolves the account (QuickBooks realm id or HubSpot portal id) with `account_of`,
  2. applies that account's fault plan: latency, a dropped connection or a 5xx before the
     view runs (nothing committed), forced 429 bursts, and commit-then-drop after it ran,
  3. counts the call in the request log (method, URL route template, status, and which
     fault answered), before the response leaves, so a client that has its answer (or its
     cut connection) and then asks the control API finds the call counted.
Views that need a fault themselves (QuickBooks `ignore_requestid`, which the Xero emulator
reads as "ignore the Idempotency-Key"; webhook loss or
duplication, HubSpot's own throttle check) ask `fault_plan(system, account)`.

Random faults are deterministic: the n-th call of an account draws from
`random.Random(f"{seed}:{n}")`, so a seeded campaign replays the same way.

The request log and the per-account call counters live in this process (a lock guards
them; counting costs a few microseconds); the sandbox is served by one server process
(runserver or the test live server), as the emulators' token caches and rate-limit windows
also assume. Plans are cached for `PLAN_CACHE_SECONDS`; the control API forgets the cached
plan it changes, so a change applies from the next request on.
"""

import contextlib
import logging
import random
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from functools import wraps

from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse

QUICKBOOKS = "quickbooks"
HUBSPOT = "hubspot"
XERO = "xero"
JOBBER = "jobber"
SYSTEMS = (QUICKBOOKS, HUBSPOT, XERO, JOBBER)

AccountOf = Callable[..., str | None]
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FaultPlan:
    seed: int = 0
    latency_ms: int = 0
    error_rate: float = 0.0
    drop_rate: float = 0.0
    drop_after_commit_rate: float = 0.0
    throttle: bool = False
    ignore_requestid: bool = False
    webhook_loss_rate: float = 0.0
    webhook_duplicate_rate: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


PLAN_FIELDS = tuple(f.name for f in fields(FaultPlan))
NO_FAULTS = FaultPlan()
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

_lock = threading.Lock()
_request_log: Counter[tuple[str, str, str, str, int, str]] = Counter()
_call_numbers: Counter[tuple[str, str]] = Counter()
_webhooks_sent: Counter[tuple[str, str]] = Counter()
_plans: dict[tuple[str, str], tuple[float, FaultPlan]] = {}
PLAN_CACHE_SECONDS = 1.0

# Other sandbox modules register callables here to forget their in-process state
# (rate-limit windows, replay caches) when the control API resets the sandbox.
RESET_HOOKS: list[Callable[[], None]] = []


def fault_plan(system: str, account: str | None) -> FaultPlan:
    """The fault plan set for an account through the control API (none by default)."""
    if not account:
        return NO_FAULTS
    key = (system, str(account))
    cached = _plans.get(key)
    if cached and time.monotonic() - cached[0] < PLAN_CACHE_SECONDS:
        return cached[1]
    from .models import FaultConfig

    row = (
        FaultConfig.objects.filter(system=system, account=str(account)).values(*PLAN_FIELDS).first()
    )
    plan = FaultPlan(**row) if row else NO_FAULTS
    _plans[key] = (time.monotonic(), plan)
    return plan


def forget_plan(system: str, account: str) -> None:
    _plans.pop((system, str(account)), None)


def request_log(
    system: str | None = None, account: str | None = None, *, clear: bool = False
) -> list[dict]:
    """Calls counted so far, one row per (system, account, method, route, status, fault).

    `fault` is "" for an answer the view gave unharmed, else the fault that answered:
    "error", "throttle", "drop" (status 0: cut before the view ran) or "drop_after_commit"
    (status is what the view committed with; the client never saw it). With `clear`, the
    rows returned are also taken out of the log in the same step, so a benchmark can count
    one run's calls without losing any made meanwhile.
    """

    def wanted(key: tuple) -> bool:
        return (system is None or key[0] == system) and (account is None or key[1] == account)

    with _lock:
        items = [(key, n) for key, n in _request_log.items() if wanted(key)]
        if clear:
            for key, _ in items:
                del _request_log[key]
    rows = [
        {"system": s, "account": a, "method": m, "route": r, "status": st, "fault": f, "count": n}
        for (s, a, m, r, st, f), n in items
    ]
    return sorted(
        rows,
        key=lambda r: (r["system"], r["account"], r["route"], r["method"], r["status"], r["fault"]),
    )


def reset() -> None:
    with _lock:
        _request_log.clear()
        _call_numbers.clear()
        _webhooks_sent.clear()
    _plans.clear()
    for hook in RESET_HOOKS:
        hook()


def _record(
    system: str, account: str | None, request: HttpRequest, status: int, fault: str = ""
) -> None:
    match = request.resolver_match
    route = match.route if match else request.path
    with _lock:
        _request_log[(system, account or "", request.method, route, status, fault)] += 1


THROTTLE_BURST = 3  # calls answered 429 in a row ...
THROTTLE_PERIOD = 8  # ... out of every this many, while `throttle` is on


def _draw(system: str, account: str, plan: FaultPlan) -> tuple[int, random.Random]:
    with _lock:
        _call_numbers[(system, account)] += 1
        n = _call_numbers[(system, account)]
    return n, random.Random(f"{plan.seed}:{n}")  # noqa: S311 - fault injection, not security


def webhook_copies(system: str, account: str) -> int:
    """0, 1 or 2 deliveries of an account's next webhook, as its fault plan decides (loss and
    duplication rates): every emulator's webhooks are lost or doubled the same way."""
    plan = fault_plan(system, account)
    with _lock:
        _webhooks_sent[(system, account)] += 1
        n = _webhooks_sent[(system, account)]
    rng = random.Random(f"webhook:{plan.seed}:{n}")  # noqa: S311 - fault injection
    if plan.webhook_loss_rate and rng.random() < plan.webhook_loss_rate:
        return 0
    if plan.webhook_duplicate_rate and rng.random() < plan.webhook_duplicate_rate:
        return 2
    return 1


def _client_socket(request: HttpRequest) -> socket.socket | None:
    """The TCP socket under Django's dev/live server (or gunicorn), to cut it."""
    candidate = request.META.get("gunicorn.socket") or request.META.get("wsgi.input")
    for _ in range(5):
        if isinstance(candidate, socket.socket):
            return candidate
        if candidate is None:
            return None
        candidate = (
            getattr(candidate, "_sock", None)
            or getattr(candidate, "raw", None)
            or getattr(getattr(candidate, "_read", None), "__self__", None)
        )
    return None


def dropped(request: HttpRequest) -> HttpResponse:
    """A response that cuts the connection instead of answering.

    Under Django's dev/live server (and gunicorn) the TCP socket is shut down when the
    server starts sending this response, i.e. after the wrapper has counted the call, so a
    client that sees the cut and then reads the request log finds the call in it. Nothing
    is written: no status line, no headers. What the clients see (checked in
    tests/sandbox/test_emulation.py):
      - requests: `requests.exceptions.ConnectionError` ("Connection aborted.",
        RemoteDisconnected("Remote end closed connection without response")), never retried
        (requests' adapter retries no reads);
      - urllib3 (under hubspot-api-client): `urllib3.exceptions.ProtocolError` for POST and
        PATCH; for GET, PUT and DELETE urllib3's default Retry(3) sends the call again and
        raises `MaxRetryError` once every try was cut;
      - python-quickbooks goes through requests, so it raises the same ConnectionError.
    The server thread is not left hanging: its send fails with a broken pipe, which the
    server ignores, and it closes the connection.

    Where no socket can be reached (another WSGI server), an HTML 502 stands in: neither
    official client can parse it as a success or as a fault of its API.
    """
    sock = _client_socket(request)
    if sock is None:
        return HttpResponse(b"<html>connection reset</html>", status=502, content_type="text/html")

    def cut() -> Iterator[bytes]:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        yield from ()

    return StreamingHttpResponse(cut(), status=200)


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def server_error(system: str) -> HttpResponse:
    if system == QUICKBOOKS:
        body = {
            "Fault": {
                "Error": [
                    {
                        "Message": "An application error has occurred while processing "
                        "your request",
                        "Detail": "System Failure Error: sandbox fault injection",
                        "code": "10000",
                        "element": "",
                    }
                ],
                "type": "SystemFault",
            },
            "time": _now_iso(),
        }
        return JsonResponse(body, status=503)
    if system == XERO:
        # Xero's unhandled-error answer (api-facts C12: 500).
        body = {
            "ErrorNumber": 500,
            "Type": "UnknownErrorException",
            "Message": "An error occurred in Xero (sandbox fault injection).",
        }
        return JsonResponse(body, status=500)
    if system == JOBBER:
        # A GraphQL server's unhandled error: an errors array, no data.
        return JsonResponse({"errors": [{"message": "Internal server error"}]}, status=500)
    body = {
        "status": "error",
        "message": "internal error",
        "correlationId": str(uuid.uuid4()),
        "category": "INTERNAL_ERROR",
        "errors": [],
        "context": {},
        "links": {},
    }
    return JsonResponse(body, status=502)


def throttled(system: str) -> HttpResponse:
    if system == JOBBER:
        # Jobber's request guard is Rack::Attack, whose default answer is plain text (E3).
        response = HttpResponse(b"Retry later\n", status=429, content_type="text/plain")
        response["Retry-After"] = "1"
        return response
    if system == QUICKBOOKS:
        body = {
            "Fault": {
                "Error": [
                    {
                        "Message": "message=ThrottleExceeded; errorCode=003001; statusCode=429",
                        "Detail": "The request limit was reached.  Try again later",
                        "code": "3001",
                        "element": "",
                    }
                ],
                "type": "SERVICE",
            },
            "time": _now_iso(),
        }
    elif system == XERO:
        body = {"Title": "Too Many Requests", "Status": 429, "Detail": "minute rate limit"}
    else:
        body = {
            "status": "error",
            "message": "You have reached your ten_secondly_rolling limit.",
            "errorType": "RATE_LIMIT",
            "correlationId": str(uuid.uuid4()),
            "policyName": "TEN_SECONDLY_ROLLING",
            "requestId": str(uuid.uuid4()),
        }
    response = JsonResponse(body, status=429)
    response["Retry-After"] = "1"
    if system == HUBSPOT:
        # What HubSpot sends with a ten-second window spent (api-facts B10).
        response["X-HubSpot-RateLimit-Interval-Milliseconds"] = "10000"
        response["X-HubSpot-RateLimit-Max"] = "100"
        response["X-HubSpot-RateLimit-Remaining"] = "0"
    if system == XERO:
        # What Xero sends with a tenant's minute spent (api-facts C10).
        response["X-Rate-Limit-Problem"] = "minute"
        response["X-MinLimit-Remaining"] = "0"
    return response


def emulated(system: str, account_of: AccountOf) -> Callable:
    """Wrap an emulator view: log it and apply the account's faults (see module doc)."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            account = account_of(request, *args, **kwargs)
            account = str(account) if account else None
            plan = fault_plan(system, account)
            try:
                response, status, fault = _faulted(
                    system, account, plan, request, view, args, kwargs
                )
            except Exception:
                _record(system, account, request, 500, "")
                raise
            # Counted before the response leaves, so a client that has its answer (or its
            # cut connection) always finds the call in the log.
            _record(system, account, request, status, fault)
            return response

        return wrapper

    return decorator


def _faulted(
    system: str,
    account: str | None,
    plan: FaultPlan,
    request: HttpRequest,
    view: Callable[..., HttpResponse],
    args: tuple,
    kwargs: dict,
) -> tuple[HttpResponse, int, str]:
    """The answer, the status to log and the fault that shaped it ("" for none)."""
    if plan == NO_FAULTS:
        response = view(request, *args, **kwargs)
        return response, response.status_code, ""
    n, rng = _draw(system, account, plan)
    if plan.latency_ms:
        time.sleep(plan.latency_ms / 1000)
    if plan.drop_rate and rng.random() < plan.drop_rate:
        log.info("sandbox: dropping a %s %s call before it runs", system, request.method)
        return dropped(request), 0, "drop"
    if plan.error_rate and rng.random() < plan.error_rate:
        response = server_error(system)
        return response, response.status_code, "error"
    if plan.throttle and (n + plan.seed) % THROTTLE_PERIOD < THROTTLE_BURST:
        response = throttled(system)
        return response, response.status_code, "throttle"
    response = view(request, *args, **kwargs)
    committed = request.method in WRITE_METHODS and 200 <= response.status_code < 300
    if committed and plan.drop_after_commit_rate and rng.random() < plan.drop_after_commit_rate:
        log.info("sandbox: %s %s committed, dropping the response", system, request.method)
        return dropped(request), response.status_code, "drop_after_commit"
    return response, response.status_code, ""
