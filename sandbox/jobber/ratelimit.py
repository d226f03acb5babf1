"""Jobber's two limits (api-facts E3): a leaky bucket of query-cost points per app and
account, and a request guard of 2,500 requests per 5 minutes.

The bucket holds `maximum_available` points (10,000) and restores `restore_rate` (500) a
second. A query whose requested cost exceeds what is available is refused (THROTTLED)
and costs nothing; one that runs pays its actual cost. Costs follow what Jobber
documents: 1 per field, `edges`, `nodes` and `node` free, and a connection's nodes
multiplied by `first`/`last` (100 when neither is given). State lives in this process, as
for the other emulators (sandbox/emulation.py explains why that is enough).
"""

import threading
import time
from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
)

from sandbox.emulation import RESET_HOOKS

FREE = frozenset({"edges", "nodes", "node"})
DEFAULT_PAGE = 100
GUARD_WINDOW = 300.0

_lock = threading.Lock()
_buckets: dict[int, tuple[float, float]] = {}  # account → (points, at monotonic time)
_guard: dict[int, tuple[float, int]] = {}  # account → (window start, requests)


@dataclass(frozen=True)
class ThrottleStatus:
    maximum_available: int
    currently_available: int
    restore_rate: int

    def as_json(self) -> dict:
        return {
            "maximumAvailable": self.maximum_available,
            "currentlyAvailable": self.currently_available,
            "restoreRate": self.restore_rate,
        }


def _page_size(field: FieldNode, variables: dict) -> int:
    for argument in field.arguments or ():
        if argument.name.value in ("first", "last"):
            value = argument.value
            if isinstance(value, IntValueNode):
                return int(value.value)
            if isinstance(value, VariableNode) and isinstance(variables.get(value.name.value), int):
                return variables[value.name.value]
    return DEFAULT_PAGE


def _selection_cost(
    selections: SelectionSetNode | None, fragments: dict, variables: dict, multiplier: int
) -> int:
    total = 0
    for selection in selections.selections if selections else ():
        if isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                total += _selection_cost(fragment.selection_set, fragments, variables, multiplier)
        elif isinstance(selection, InlineFragmentNode):
            total += _selection_cost(selection.selection_set, fragments, variables, multiplier)
        elif isinstance(selection, FieldNode):
            name = selection.name.value
            if name.startswith("__"):
                continue
            children = selection.selection_set
            is_connection = bool(children) and any(
                isinstance(s, FieldNode) and s.name.value in ("edges", "nodes")
                for s in children.selections
            )
            inner = _page_size(selection, variables) if is_connection else 1
            own = 0 if name in FREE else multiplier
            if is_connection:
                total += own + _connection_cost(children, fragments, variables, multiplier, inner)
            else:
                total += own + _selection_cost(children, fragments, variables, multiplier)
    return total


def _connection_cost(
    children: SelectionSetNode, fragments: dict, variables: dict, multiplier: int, page: int
) -> int:
    total = 0
    for selection in children.selections:
        if isinstance(selection, FieldNode) and selection.name.value in ("edges", "nodes"):
            total += _selection_cost(
                selection.selection_set, fragments, variables, multiplier * page
            )
        else:
            total += _selection_cost(
                SelectionSetNode(selections=(selection,)), fragments, variables, multiplier
            )
    return total


def requested_cost(document: DocumentNode, operation_name: str | None, variables: dict) -> int:
    """What a query may cost at most, from its text alone."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    if not operations:
        return 0
    return _selection_cost(operations[0].selection_set, fragments, variables or {}, 1)


def actual_cost(data: object, key: str = "") -> int:
    """What a query did cost: the same rule applied to the fields the answer holds."""
    own = 0 if not key or key in FREE else 1
    if isinstance(data, list):
        return own + sum(actual_cost(item) for item in data)
    if isinstance(data, dict):
        return own + sum(actual_cost(v, k) for k, v in data.items() if not k.startswith("__"))
    return own


def _available(account: int, maximum: int, rate: int, now: float) -> float:
    points, at = _buckets.get(account, (float(maximum), now))
    return min(float(maximum), points + (now - at) * rate)


def try_spend(account: int, maximum: int, rate: int, cost: int) -> tuple[bool, ThrottleStatus]:
    """Refuse a query that asks for more than the bucket holds; else reserve its cost."""
    with _lock:
        now = time.monotonic()
        points = _available(account, maximum, rate, now)
        allowed = cost <= points
        if allowed:
            points -= cost
        _buckets[account] = (points, now)
    return allowed, ThrottleStatus(maximum, int(points), rate)


def refund(account: int, maximum: int, rate: int, points: int) -> ThrottleStatus:
    """Give back what a query reserved but did not use (requested minus actual)."""
    with _lock:
        now = time.monotonic()
        left = min(float(maximum), _available(account, maximum, rate, now) + points)
        _buckets[account] = (left, now)
    return ThrottleStatus(maximum, int(left), rate)


def guard_admits(account: int, limit: int) -> bool:
    """Count a request against the 5-minute guard; False once the window is spent."""
    with _lock:
        now = time.monotonic()
        start, count = _guard.get(account, (now, 0))
        if now - start >= GUARD_WINDOW:
            start, count = now, 0
        if count >= limit:
            return False
        _guard[account] = (start, count + 1)
        return True


def forget(account: int) -> None:
    with _lock:
        _buckets.pop(account, None)
        _guard.pop(account, None)


def _forget_all() -> None:
    with _lock:
        _buckets.clear()
        _guard.clear()


RESET_HOOKS.append(_forget_all)
