"""Many new rows at once: PostgreSQL's COPY through psycopg's copy API, `bulk_create`
elsewhere (the SQLite demo).

Written here rather than found: Django's `bulk_create` on PostgreSQL adapts every value of
every row into one statement of arrays, which for a ledger's 17,500 findings with JSON
columns cost 4 s on this machine; COPY streams the same rows in a fraction of that
(bench/reconcile.py). Rows come back without their ids: the caller reads them by a natural
key when it needs them."""

import json

from django.db import connections, models, router

BATCH = 2000


def _value(field: models.Field, obj: models.Model, connection):
    raw = getattr(obj, field.attname)
    if raw is None:
        return None
    if isinstance(field, models.JSONField):
        return json.dumps(raw, cls=field.encoder)
    return field.get_db_prep_save(raw, connection)


def copy_rows(model: type[models.Model], objs: list[models.Model]) -> None:
    """Insert `objs` (unsaved, ids left to the database)."""
    if not objs:
        return
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objs, batch_size=BATCH)
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    statement = f"COPY {table} ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for obj in objs:
            copy.write_row([_value(f, obj, connection) for f in fields])
