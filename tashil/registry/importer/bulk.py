"""Fast inserts and updates of plain rows, for imports.

Rows are dicts of field name → Python value. Every concrete column of the
model is written: the ones a row leaves out get the field's default, so a
column added to the model later is filled in without touching this code.
On PostgreSQL, new rows go in with COPY, using ids taken from the table's
sequence first (the rows that point at them need them); on SQLite, with one
multi-row INSERT per batch under the write lock the transaction holds.
"""

import datetime as dt

from django.db import connection, models
from django.utils import timezone

SQLITE_BATCH = 200


def _columns(model):
    return [f for f in model._meta.concrete_fields if not f.primary_key]


def _default(field, now):
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return now
    if field.has_default():
        return field.get_default()
    if field.null:
        return None
    if isinstance(field, models.CharField | models.TextField):
        return ""
    return None


def _converter(field):
    """How a Python value reaches the driver: plain values pass through
    (psycopg and sqlite3 take str, int, float, bool, date); dates on SQLite and
    unusual fields go through Django's own conversion."""
    if isinstance(field, models.JSONField | models.DecimalField | models.UUIDField):

        def convert(value, field=field):
            return field.get_db_prep_save(value, connection)

        return convert
    if connection.vendor != "postgresql" and isinstance(field, models.DateTimeField):

        def convert_datetime(value, field=field):
            return field.get_db_prep_save(value, connection)

        return convert_datetime
    if connection.vendor != "postgresql" and isinstance(field, models.DateField):
        # What Django's SQLite backend stores for a date.
        return dt.date.isoformat
    return None


def allocate_ids(model, count: int) -> list[int]:
    """`count` new primary keys for `model`. Must run inside the transaction
    that inserts them."""
    if not count:
        return []
    table = model._meta.db_table
    pk = model._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, pk, count],
            )
            return [row[0] for row in cursor.fetchall()]
        # SQLite: the transaction holds the write lock, so nobody else takes
        # ids meanwhile. AUTOINCREMENT never reuses an id, even a deleted one's.
        cursor.execute(f'SELECT MAX("{pk}") FROM "{table}"')
        top = cursor.fetchone()[0] or 0
        try:
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            row = cursor.fetchone()
            top = max(top, row[0] if row else 0)
        except Exception:  # noqa: BLE001 - a table without AUTOINCREMENT has no sequence row
            pass
        return list(range(top + 1, top + 1 + count))


def insert_rows(model, rows: list[dict]) -> list[int]:
    """Insert `rows` (dicts keyed by attribute name: "office_id", not
    "office") and return their new ids, in order."""
    if not rows:
        return []
    ids = allocate_ids(model, len(rows))
    now = timezone.now()
    fields = _columns(model)
    pairs = []
    converters = []
    for position, f in enumerate(fields, start=1):
        convert = _converter(f)
        default = _default(f, now)
        if convert is not None:
            # Defaults are the same for every row: converted once, and marked
            # so that only values from the rows are converted below.
            default = _Converted(convert(default)) if default is not None else None
            converters.append((position, convert))
        pairs.append((f.attname, default))
    table = model._meta.db_table
    pk = model._meta.pk.column
    quoted = ", ".join(f'"{f.column}"' for f in fields)

    def values(new_id, row):
        out = [new_id, *[row.get(name, default) for name, default in pairs]]
        for position, convert in converters:
            value = out[position]
            if value.__class__ is _Converted:
                out[position] = value.value
            elif value is not None:
                out[position] = convert(value)
        return out

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f'COPY "{table}" ("{pk}", {quoted}) FROM STDIN') as copy:
                for new_id, row in zip(ids, rows, strict=True):
                    copy.write_row(values(new_id, row))
        else:
            placeholders = "(" + ", ".join(["%s"] * (len(fields) + 1)) + ")"
            for start in range(0, len(rows), SQLITE_BATCH):
                batch_rows = rows[start : start + SQLITE_BATCH]
                params = []
                for new_id, row in zip(ids[start : start + SQLITE_BATCH], batch_rows, strict=True):
                    params.extend(values(new_id, row))
                sql = f'INSERT INTO "{table}" ("{pk}", {quoted}) VALUES ' + ", ".join(
                    [placeholders] * len(batch_rows)
                )
                cursor.execute(sql, params)
    return ids


class _Converted:
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


def update_rows(model, updates: list[tuple[int, dict]], *, bump_version: bool = False) -> None:
    """Apply {field: value} to each id; rows with the same set of fields share
    one statement. Versioned rows get version + 1 and a new updated_at."""
    if not updates:
        return
    now = timezone.now()
    meta = model._meta
    table = meta.db_table
    pk = meta.pk.column
    has_updated_at = any(f.name == "updated_at" for f in meta.concrete_fields)
    groups: dict[tuple, list] = {}
    for pk_value, values in updates:
        groups.setdefault(tuple(sorted(values)), []).append((pk_value, values))
    with connection.cursor() as cursor:
        for names, items in groups.items():
            fields = [meta.get_field(name) for name in names]
            sets = [f'"{f.column}" = %s' for f in fields]
            if bump_version:
                sets.append('"version" = "version" + 1')
            if has_updated_at:
                sets.append('"updated_at" = %s')
            sql = f'UPDATE "{table}" SET {", ".join(sets)} WHERE "{pk}" = %s'
            params = []
            for pk_value, values in items:
                row = [
                    f.get_db_prep_save(values[name], connection)
                    for name, f in zip(names, fields, strict=True)
                ]
                if has_updated_at:
                    row.append(meta.get_field("updated_at").get_db_prep_save(now, connection))
                row.append(pk_value)
                params.append(row)
            cursor.executemany(sql, params)
