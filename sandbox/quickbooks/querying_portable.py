"""Queries on databases without PostgreSQL's JSON operators (SQLite, which `make demo`
uses): indexed columns are filtered in SQL, any other field of the entity JSON in Python.
Correct everywhere, fast only on the indexed columns; `querying` uses it off PostgreSQL."""

import re
from decimal import Decimal, InvalidOperation

from dateutil import parser as dateparser

from .entities import NAME_FIELD, NAME_LISTS
from .models import Entity
from .query import Condition, Query
from .store import Store, render


def _sql_lookup(entity: str, c: Condition) -> tuple[str, object] | None:
    """The ORM lookup for a condition on an indexed column, or None."""
    ops = {"=": "", "<": "__lt", ">": "__gt", "<=": "__lte", ">=": "__gte", "in": "__in"}
    if c.field == "Id" and c.op in ops:
        try:
            value = tuple(int(v) for v in c.value) if c.op == "in" else int(c.value)
        except (TypeError, ValueError):
            return None
        return f"entity_id{ops[c.op]}", value
    column = {
        "DocNumber": "doc_number",
        "CustomerRef": "customer_ref",
        "TxnDate": "txn_date",
        NAME_FIELD.get(entity, "-"): "name",
    }.get(c.field)
    if column and c.op in ops:
        return f"{column}{ops[c.op]}", c.value if c.op == "in" else str(c.value)
    if column == "name" and c.op == "like":
        parts = str(c.value).split("%")
        if len(parts) == 2 and parts[1] == "" and parts[0]:
            return "name__istartswith", parts[0]
    if c.field == "Active" and c.op == "=" and isinstance(c.value, bool):
        return "active", c.value
    if c.field == "MetaData.LastUpdatedTime" and c.op in ops and c.op != "in":
        try:
            return f"last_updated{ops[c.op]}", dateparser.isoparse(str(c.value))
        except ValueError:
            return None
    return None


def _field(data: dict, path: str):
    value = data
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    if isinstance(value, dict) and "value" in value:
        return value["value"]  # a reference compares by its id
    return value


def _comparable(left, right):
    if isinstance(right, bool):
        return str(left).lower() == "true" if left is not None else None, right
    try:
        return Decimal(str(left)), Decimal(str(right))
    except (InvalidOperation, ValueError):
        return str(left), str(right)


def _matches(data: dict, c: Condition) -> bool:
    left = _field(data, c.field)
    if left is None:
        return c.op == "!="
    if c.op == "like":
        return bool(like_regex(str(c.value)).match(str(left)))
    if c.op == "in":
        return any(_compare(left, "=", v) for v in c.value)
    return _compare(left, c.op, c.value)


def _compare(left, op: str, right) -> bool:
    a, b = _comparable(left, right)
    try:
        return {
            "=": a == b,
            "!=": a != b,
            "<": a < b,
            ">": a > b,
            "<=": a <= b,
            ">=": a >= b,
        }[op]
    except TypeError:
        return False


ORDER_COLUMNS = {
    "Id": "entity_id",
    "DocNumber": "doc_number",
    "TxnDate": "txn_date",
    "MetaData.LastUpdatedTime": "last_updated",
}


def execute(store: Store, query: Query) -> dict:
    entity = query.entity
    rows = Entity.objects.filter(company=store.company, entity_type=entity, deleted=False)
    python_conditions = []
    filters_active = any(c.field == "Active" for c in query.conditions)
    if entity in NAME_LISTS and not filters_active:
        rows = rows.filter(active=True)  # QBO hides inactive names unless asked
    for condition in query.conditions:
        lookup = _sql_lookup(entity, condition)
        if lookup is None or (condition.field == "Active" and condition.op != "="):
            python_conditions.append(condition)
        else:
            rows = rows.filter(**{lookup[0]: lookup[1]})
    order_column = ORDER_COLUMNS.get(query.order_by or "Id") or (
        "name" if query.order_by == NAME_FIELD.get(entity) else None
    )
    if order_column and not python_conditions:
        ordered = rows.order_by(("-" if query.descending else "") + order_column, "entity_id")
        if query.count:
            return {"QueryResponse": {"totalCount": ordered.count()}}
        start = query.start_position - 1
        page = list(ordered[start : start + query.max_results])
        return _response(entity, [render(r) for r in page], query.start_position)
    found = [render(r) for r in rows.order_by("entity_id")]
    found = [d for d in found if all(_matches(d, c) for c in python_conditions)]
    if query.count:
        return {"QueryResponse": {"totalCount": len(found)}}
    if query.order_by:
        found.sort(key=lambda d: _sort_key(_field(d, query.order_by)), reverse=query.descending)
    start = query.start_position - 1
    return _response(entity, found[start : start + query.max_results], query.start_position)


def _sort_key(value):
    try:
        return (0, Decimal(str(value)), "")
    except (InvalidOperation, ValueError):
        return (1, Decimal(0), str(value or ""))


def _response(entity: str, found: list[dict], start: int) -> dict:
    if not found:
        return {"QueryResponse": {}}
    return {"QueryResponse": {entity: found, "startPosition": start, "maxResults": len(found)}}


def like_regex(pattern: str) -> re.Pattern[str]:
    """QBO's LIKE: % is the only wildcard; matching ignores case."""
    parts = [re.escape(part) for part in pattern.split("%")]
    return re.compile("^" + ".*".join(parts) + "$", re.IGNORECASE | re.DOTALL)
