"""Runs a parsed query against a company's entities, entirely in SQL.

Conditions on the indexed columns (Id, names, DocNumber, CustomerRef, Active, TxnDate,
MetaData.LastUpdatedTime) use those columns; any other field is read from the stored JSON
with a PostgreSQL expression (elsewhere, e.g. SQLite for the demo, `querying_portable`
filters those fields in Python). Either way only the requested page is loaded and rendered,
so a company with 100,000 invoices answers a paged query without scanning them in Python.

Comparison follows QBO's loose typing: query values are quoted strings, so a value that
reads as a number compares numerically with a stored number, and as text otherwise.
A reference field (CustomerRef) compares by its `value`.
"""

from dataclasses import replace
from datetime import datetime
from decimal import Decimal, InvalidOperation

from dateutil import parser as dateparser
from django.db import connections
from django.db.models import BooleanField, Field, QuerySet
from django.db.models.expressions import OrderBy, RawSQL
from django.utils import timezone

from sandbox.routers import SANDBOX_DB

from . import faults, querying_portable
from .entities import ENTITIES, NAME_FIELD, NAME_LISTS
from .models import Company, Entity
from .query import Condition, Query, QuerySyntaxError, parse
from .store import Store, render

KNOWN_FIELDS = {
    name.lower(): name
    for name in (
        "Id", "SyncToken", "DisplayName", "Name", "DocNumber", "CustomerRef", "TxnDate",
        "DueDate", "Active", "TotalAmt", "Balance", "CompanyName", "GivenName", "FamilyName",
        "Type", "AccountType", "PrivateNote", "UnappliedAmt", "RemainingCredit",
        "MetaData.CreateTime", "MetaData.LastUpdatedTime", "Job", "ParentRef",
        "FullyQualifiedName",
    )
}  # fmt: skip
NUMBER = r"^-?[0-9]+(\.[0-9]+)?$"
LOOKUPS = {"=": "", "<": "__lt", ">": "__gt", "<=": "__lte", ">=": "__gte"}
SQL_OPS = {"=": "=", "!=": "<>", "<": "<", ">": ">", "<=": "<=", ">=": ">="}
ORDER_COLUMNS = {
    "Id": "entity_id",
    "SyncToken": "sync_token",
    "DocNumber": "doc_number",
    "TxnDate": "txn_date",
    "MetaData.LastUpdatedTime": "last_updated",
}


def run(store: Store, text: str) -> dict:
    try:
        query = parse(text)
    except QuerySyntaxError as error:
        raise faults.bad_query(str(error)) from error
    if query.entity.lower() == "preferences":  # one object per company, not an entity
        from .store import preferences  # the store imports this module

        found = preferences(Company.objects.using(SANDBOX_DB).get(pk=store.company.pk))
        return {"QueryResponse": {"Preferences": [found], "startPosition": 1, "maxResults": 1,
                                  "totalCount": 1}}  # fmt: skip
    entity = ENTITIES.get(query.entity.lower())  # entity names are not case sensitive
    if entity is None:
        raise faults.bad_query(f"Invalid context declaration : {query.entity}")
    conditions = tuple(replace(c, field=_canonical(c.field)) for c in query.conditions)
    order_by = _canonical(query.order_by) if query.order_by else None
    return execute(store, replace(query, entity=entity, conditions=conditions, order_by=order_by))


def _canonical(field: str) -> str:
    """The stored spelling of a well-known property (query property names ignore case)."""
    return KNOWN_FIELDS.get(field.lower(), field)


def execute(store: Store, query: Query) -> dict:
    if connections[SANDBOX_DB].vendor != "postgresql":
        return querying_portable.execute(store, query)
    entity = query.entity
    rows = Entity.objects.filter(company=store.company, entity_type=entity, deleted=False)
    if entity in NAME_LISTS and not any(c.field == "Active" for c in query.conditions):
        rows = rows.filter(active=True)  # QBO hides inactive names unless asked
    for condition in query.conditions:
        rows = _filtered(rows, entity, condition)
    if query.count:
        return {"QueryResponse": {"totalCount": rows.count()}}
    start = query.start_position - 1
    page = rows.order_by(*_ordering(entity, query))[start : start + query.max_results]
    found = [render(row) for row in page]
    if not found:
        return {"QueryResponse": {}}
    return {
        "QueryResponse": {
            entity: found,
            "startPosition": query.start_position,
            "maxResults": len(found),
        }
    }


def _filtered(rows: QuerySet, entity: str, c: Condition) -> QuerySet:
    values = c.value if c.op == "in" else (c.value,)
    if c.field in ("Id", "SyncToken"):
        column = "entity_id" if c.field == "Id" else "sync_token"
        numbers = [n for n in (_whole(v) for v in values) if n is not None]
        if c.op == "in":
            return rows.filter(**{f"{column}__in": numbers})
        if not numbers:
            return rows.none()
        if c.op == "!=":
            return rows.exclude(**{column: numbers[0]})
        return rows.filter(**{column + LOOKUPS[c.op]: numbers[0]})
    if c.field == "Active" and c.op in ("=", "in") and all(isinstance(v, bool) for v in values):
        return rows.filter(active__in=values)
    if c.field == "MetaData.LastUpdatedTime" and c.op in LOOKUPS:
        return rows.filter(**{"last_updated" + LOOKUPS[c.op]: _moment(c.value)})
    column = {
        "DocNumber": "doc_number",
        "CustomerRef": "customer_ref",
        NAME_FIELD.get(entity, "-"): "name",
    }.get(c.field)
    if column and c.op in ("=", "in") and all(isinstance(v, str) for v in values):
        return rows.filter(**{f"{column}__in": values})
    if c.field == "TxnDate" and c.op in LOOKUPS and isinstance(c.value, str):
        return rows.filter(**{"txn_date" + LOOKUPS[c.op]: c.value})
    sql, params = _json_condition(c)
    return rows.filter(_sql(sql, params, BooleanField()))


def _whole(value: object) -> int | None:
    try:
        return int(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return None


def _moment(value: object) -> datetime:
    try:
        moment = dateparser.isoparse(str(value))
    except ValueError as error:
        raise faults.bad_query(f"{value!r} is not a date and time") from error
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _path(field: str) -> list[str]:
    if field == "MetaData.CreateTime":
        return ["_created"]  # the create time is kept inside the stored JSON
    return field.split(".")


def _text(field: str) -> tuple[str, list]:
    """SQL for the field's value as text (a reference reads as its `value`)."""
    path = _path(field)
    sql = (
        "(CASE WHEN jsonb_typeof(data #> %s::text[]) = 'object' "
        "THEN data #> %s::text[] ->> 'value' ELSE data #>> %s::text[] END)"
    )
    return sql, [path, path, path]


def _json_condition(c: Condition) -> tuple[str, list]:
    text, text_params = _text(c.field)
    if c.op == "like":
        escaped = str(c.value).replace("\\", "\\\\").replace("_", "\\_")
        return f"{text} ILIKE %s", [*text_params, escaped]
    if c.op == "in":
        parts = [_compare(text, text_params, "=", v) for v in c.value]
        return "(" + " OR ".join(p[0] for p in parts) + ")", [x for p in parts for x in p[1]]
    sql, params = _compare(text, text_params, c.op, c.value)
    if c.op == "!=":  # a field the entity lacks differs from any value
        return f"({text} IS NULL OR {sql})", [*text_params, *params]
    return sql, params


def _compare(text: str, text_params: list, op: str, value: object) -> tuple[str, list]:
    sql_op = SQL_OPS[op]
    if isinstance(value, bool):
        if op not in ("=", "!="):
            raise faults.bad_query(f"{op} cannot compare with {str(value).lower()}")
        wanted = (op == "=") == value
        return f"(lower({text}) {'=' if wanted else '<>'} 'true')", [*text_params]
    as_text = str(value)
    try:
        number = Decimal(as_text)
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite():
        return f'({text} COLLATE "C" {sql_op} %s)', [*text_params, as_text]
    sql = (
        f"(CASE WHEN {text} ~ %s THEN ({text})::numeric {sql_op} %s "
        f'ELSE {text} COLLATE "C" {sql_op} %s END)'
    )
    return sql, [*text_params, NUMBER, *text_params, number, *text_params, as_text]


def _sql(sql: str, params: list, output_field: Field | None = None) -> RawSQL:
    # The SQL text is assembled only from this module's constants; every value that came
    # from the query (field paths included) travels as a bound parameter.
    return RawSQL(sql, params, output_field=output_field)  # noqa: S611 - see above


def _ordering(entity: str, query: Query) -> list:
    field = query.order_by or "Id"
    column = ORDER_COLUMNS.get(field) or ("name" if field == NAME_FIELD.get(entity) else None)
    if column:
        return [("-" if query.descending else "") + column, "entity_id"]
    text, params = _text(field)
    # Numbers first in numeric order, then text: the order QBO's loose typing suggests.
    keys = [
        _sql(f"(CASE WHEN {text} ~ %s THEN 0 ELSE 1 END)", [*params, NUMBER]),
        _sql(f"(CASE WHEN {text} ~ %s THEN ({text})::numeric END)", [*params, NUMBER, *params]),
        _sql(f"COALESCE({text}, '') COLLATE \"C\"", params),
    ]
    return [OrderBy(key, descending=query.descending) for key in keys] + ["entity_id"]
