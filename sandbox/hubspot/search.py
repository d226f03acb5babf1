"""CRM search: filter groups, sorts, free-text query and HubSpot's 10,000-result cap.

Portal, object type and archived always narrow the rows in the database, and so do
filters on the columns we keep indexed (id, create and modify dates). Other properties
live in JSON, so their filters are checked here in Python over the narrowed rows.
"""

import fnmatch
import json
import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.dateparse import parse_date, parse_datetime

from . import records
from .api import crm_api, json_body, respond
from .errors import validation
from .models import CrmObject, Portal
from .schema import ObjectType, object_type

MAX_LIMIT = 200
DEFAULT_LIMIT = 10
RESULT_CAP = 10_000
MAX_QUERY_LENGTH = 3000
OPERATORS = {
    "EQ", "NEQ", "LT", "LTE", "GT", "GTE", "BETWEEN", "IN", "NOT_IN",
    "HAS_PROPERTY", "NOT_HAS_PROPERTY", "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN",
}  # fmt: skip
_COLUMNS = {
    "hs_object_id": "pk",
    "createdate": "created_at",
    "hs_lastmodifieddate": "updated_at",
    "lastmodifieddate": "updated_at",
}
_DB_OPERATORS = {"EQ": "", "LT": "__lt", "LTE": "__lte", "GT": "__gt", "GTE": "__gte"}
_TOKEN_SPLIT = re.compile(r"[^\w@.+-]+")


def _as_moment(value: str) -> datetime | None:
    """Dates in filters come as epoch milliseconds or ISO strings."""
    if value.lstrip("-").isdigit():
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    parsed = parse_datetime(value.replace("Z", "+00:00"))
    if parsed is None and parse_date(value):
        parsed = parse_datetime(value + "T00:00:00+00:00")
    return parsed


def _sort_key(value: str | None, kind: str) -> tuple:
    """A comparable key: numbers and dates by value, text case-insensitively."""
    if value is None or value == "":
        return (0,)
    if kind in ("datetime", "date"):
        moment = _as_moment(value)
        if moment is not None:
            return (1, moment.timestamp())
    try:
        return (2, Decimal(value))
    except InvalidOperation:
        return (3, value.lower())


def _compare(left: str | None, right: str, kind: str) -> int | None:
    a, b = _sort_key(left, kind), _sort_key(right, kind)
    if a[0] != b[0]:
        return None
    return (a > b) - (a < b)


def _tokens(value: str) -> list[str]:
    lowered = value.lower()
    return [lowered, *[t for t in _TOKEN_SPLIT.split(lowered) if t]]


def matches(props: dict[str, str], flt: dict, kinds: dict[str, str]) -> bool:
    """Whether one record's properties satisfy one filter (pure; used on every row)."""
    name, op = flt["propertyName"], flt["operator"]
    value = props.get(name)
    present = value not in (None, "")
    kind = kinds.get(name, "string")
    if op == "HAS_PROPERTY":
        return present
    if op == "NOT_HAS_PROPERTY":
        return not present
    if op in ("IN", "NOT_IN"):
        values = [str(v).lower() for v in flt.get("values") or []]
        inside = present and value.lower() in values
        return inside if op == "IN" else not inside
    if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        pattern = str(flt.get("value", "")).lower()
        found = present and any(fnmatch.fnmatchcase(t, pattern) for t in _tokens(value))
        return found if op == "CONTAINS_TOKEN" else not found
    target = str(flt.get("value", ""))
    if op == "BETWEEN":
        low = _compare(value, target, kind)
        high = _compare(value, str(flt.get("highValue", "")), kind)
        return present and low is not None and high is not None and low >= 0 and high <= 0
    if op == "NEQ":
        return not present or _compare(value, target, kind) != 0
    if not present:
        return False
    result = _compare(value, target, kind)
    if result is None:
        return False
    return {"EQ": result == 0, "LT": result < 0, "LTE": result <= 0, "GT": result > 0,
            "GTE": result >= 0}[op]  # fmt: skip


def _db_filter(flt: dict) -> Q | None:
    """The filter as a query on an indexed column, when it maps onto one."""
    column = _COLUMNS.get(flt["propertyName"])
    if column is None:
        return None
    op, raw = flt["operator"], str(flt.get("value", ""))
    if column == "pk":
        if op in _DB_OPERATORS and raw.isdigit():
            return Q(**{f"pk{_DB_OPERATORS[op]}": int(raw)})
        return None
    if op in ("GT", "GTE", "LT", "LTE"):
        moment = _as_moment(raw)
        return Q(**{f"{column}{_DB_OPERATORS[op]}": moment}) if moment else None
    if op == "BETWEEN":
        low, high = _as_moment(raw), _as_moment(str(flt.get("highValue", "")))
        return Q(**{f"{column}__gte": low, f"{column}__lte": high}) if low and high else None
    return None


def _parse_filter_groups(groups: Any) -> list[list[dict]]:
    if not isinstance(groups, list):
        raise validation("filterGroups must be a list")
    parsed = []
    for group in groups:
        filters = (group or {}).get("filters") or []
        for flt in filters:
            if flt.get("operator") not in OPERATORS or not flt.get("propertyName"):
                raise validation(
                    f"Invalid filter: operator {flt.get('operator')!r} on "
                    f"{flt.get('propertyName')!r}"
                )
        parsed.append(filters)
    return parsed


def parse_sorts(sorts: Any) -> list[tuple[str, bool]]:
    """(property, descending) pairs from strings ("-name", JSON) or objects."""
    parsed = []
    for sort in sorts or []:
        if isinstance(sort, str) and sort.startswith("{"):
            sort = json.loads(sort)
        if isinstance(sort, dict):
            name = sort.get("propertyName", "")
            parsed.append((name, str(sort.get("direction", "ASCENDING")).upper() == "DESCENDING"))
        elif isinstance(sort, str) and sort:
            parsed.append((sort.lstrip("-"), sort.startswith("-")))
    return parsed


def narrowed(rows: QuerySet, groups: list[list[dict]]) -> QuerySet:
    """Rows that may match: the OR of each group's database-checkable filters."""
    if not groups:
        return rows
    combined = Q()
    for group in groups:
        q = Q()
        for flt in group:
            part = _db_filter(flt)
            if part is not None:
                q &= part
        combined |= q
    return rows.filter(combined)


def run(
    portal: Portal, otype: ObjectType, body: dict, kinds: dict[str, str]
) -> tuple[int, list[CrmObject]]:
    """Total matches and the requested page, after validating limit, after and query."""
    limit = int(body.get("limit") or DEFAULT_LIMIT)
    if not 0 < limit <= MAX_LIMIT:
        raise validation(f"limit must be between 1 and {MAX_LIMIT}")
    after = int(body.get("after") or 0)
    if after >= RESULT_CAP:
        raise validation(
            f"Search results are limited to {RESULT_CAP} total results; after={after} is "
            "past that limit."
        )
    query = str(body.get("query") or "").strip().lower()
    if len(query) > MAX_QUERY_LENGTH:
        raise validation(f"query must be at most {MAX_QUERY_LENGTH} characters")
    groups = _parse_filter_groups(body.get("filterGroups") or [])
    sorts = parse_sorts(body.get("sorts"))
    rows = narrowed(
        CrmObject.objects.filter(portal=portal, object_type=otype.name, archived=False), groups
    )
    needs_python = (
        bool(query)
        or any(_db_filter(f) is None for group in groups for f in group)
        or any(name not in _COLUMNS for name, _ in sorts)
    )
    if not needs_python:
        order = [("-" if d else "") + _COLUMNS[n] for n, d in sorts] + ["pk"]
        total = rows.count()
        return total, list(rows.order_by(*order)[after : after + limit])
    found = []
    for record in rows.order_by("pk").iterator(chunk_size=2000):
        props = record.properties
        if groups and not any(all(matches(props, f, kinds) for f in g) for g in groups):
            continue
        if query and not any(
            t.startswith(term)
            for name in otype.searchable
            for t in _tokens(props.get(name) or "")
            for term in query.split()
        ):
            continue
        found.append(record)
    for name, descending in reversed(sorts):
        kind = kinds.get(name, "string")
        found.sort(key=lambda r, n=name, k=kind: _sort_key(r.properties.get(n), k),
                   reverse=descending)  # fmt: skip
    return len(found), found[after : after + limit]


@crm_api(("POST",), search=True)
def search_view(request: HttpRequest, portal: Portal, object_type_name: str) -> HttpResponse:
    otype = object_type(object_type_name)
    known = records.known_properties(portal, otype)
    body = json_body(request)
    if not isinstance(body, dict):
        raise validation("Invalid search request")
    kinds = {name: d.get("type", "string") for name, d in known.items()}
    try:
        total, page = run(portal, otype, body, kinds)
    except (TypeError, ValueError) as exc:
        raise validation(f"Invalid search request: {exc}") from exc
    names = body.get("properties") or None
    result: dict[str, Any] = {
        "total": total,
        "results": [records.to_json(r, otype, names, known) for r in page],
    }
    after = int(body.get("after") or 0) + len(page)
    if page and after < total:
        result["paging"] = {"next": {"after": str(after)}}
    return respond(result)
