"""Inserts of new rows: what `bulk_create` writes, at a fraction of the CPU on PostgreSQL
(leads/bulk.py writes its batches with it), and what `save()` writes for one row (or
`bulk_create` for a few) of the fixed shapes every ingest writes (an activity, ledger
entries, a status change, a routing decision), without compiling the statement each time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from itertools import groupby
from operator import attrgetter
from typing import Any

from django.db import DatabaseError, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.postgresql.psycopg_any import is_psycopg3
from django.db.models.signals import post_save, pre_save

from .database import default_connection
from .prepared import Prepared


def new_row(model: type[models.Model], **values: Any) -> Any:
    """model(**values) by Django's positional constructor (the one for rows it reads), at
    half the cost; thousands are made per batch. `values` gives every column but the id,
    by attname: one added later raises a KeyError here, it is not left out."""
    columns = model._meta.concrete_fields
    if len(values) != len(columns) - 1:
        raise TypeError(f"{model.__name__} has the columns {[c.attname for c in columns]}, not {list(values)}.")
    return model(*(None if column.primary_key else values[column.attname] for column in columns))


# The Python type of a value that get_db_prep_save hands to psycopg2 unchanged (None
# too), by kind of column; a foreign key: the kind of the column it points at. Columns
# holding other values, and columns of other kinds (JSON), go through get_db_prep_save.
READY_TYPES: dict[type[models.Field], type] = {
    models.CharField: str, models.EmailField: str, models.SlugField: str, models.TextField: str,
    models.IntegerField: int, models.PositiveIntegerField: int, models.PositiveSmallIntegerField: int,
    models.SmallIntegerField: int, models.BigIntegerField: int, models.AutoField: int, models.BigAutoField: int,
    models.BooleanField: bool, models.DateTimeField: datetime,
}


def insert_new(model: type[models.Model], objs: list[Any], check: str) -> None:
    """`model.objects.bulk_create(objs)` for new rows: the same columns, values and ids.

    On PostgreSQL it sends the kind of statement bulk_create sends, INSERT … SELECT FROM
    UNNEST(an array per column) RETURNING, but takes the values from the objects a column
    at a time: Django's insert compiler makes several calls per value, the larger part of
    a bulk request (1,000 leads of 47 columns). (psycopg2's execute_values, one VALUES row
    per object, costs the same here and PostgreSQL a third more to parse.) Related objects
    must be saved already: their ids are read as they are. `check`: a column whose
    returned values prove the ids came back in the order of the objects.
    """
    connection = default_connection()
    opts = model._meta
    fields = [f for f in opts.concrete_fields if not f.generated and not isinstance(f, models.AutoField)]
    new = all(obj.pk is None for obj in objs)  # bulk_create would write a given pk
    postgresql = connection.vendor == "postgresql" and not is_psycopg3
    columns = _column_values(fields, objs) if postgresql and new and objs else None
    if columns is None:
        model.objects.bulk_create(objs)
        return
    per_row = [i for i, (many, _) in enumerate(columns) if many]
    once = [i for i, (many, _) in enumerate(columns) if not many]
    returning = [*opts.db_returning_fields, opts.get_field(check)]
    qn = connection.ops.quote_name

    def cast(i: int) -> str:
        return f"(%s)::{fields[i].db_type(connection).split('(')[0]}"

    sql = (f"INSERT INTO {qn(opts.db_table)} ({', '.join(qn(fields[i].column) for i in per_row + once)}) "
           f"SELECT u.*{''.join(', ' + cast(i) for i in once)} "
           f"FROM UNNEST({', '.join(cast(i) + '[]' for i in per_row)}) AS u "
           f"RETURNING {', '.join(qn(f.column) for f in returning)}")
    with connection.cursor() as cursor:
        cursor.execute(sql, [columns[i][1] for i in once + per_row])  # the order of the placeholders
        returned = cursor.fetchall()
    # bulk_create zips the returned ids with its objects too: PostgreSQL inserts and
    # returns the rows in the order UNNEST yields them. That order is not promised in
    # writing, so the check column is compared: another order fails the batch instead
    # of giving a row another row's id.
    if [values[-1] for values in returned] != [getattr(obj, returning[-1].attname) for obj in objs]:
        raise DatabaseError(f"{opts.db_table}: the inserted rows came back in another order.")
    converters = []
    for returned_field in returning[:-1]:
        col = returned_field.get_col(opts.db_table)
        converters.append((returned_field.attname, col,
                           connection.ops.get_db_converters(col) + col.get_db_converters(connection)))
    db = connection.alias
    for obj, values in zip(objs, returned, strict=True):
        for value, (attname, col, convs) in zip(values[:-1], converters, strict=True):
            for convert in convs:
                value = convert(value, col, connection)
            setattr(obj, attname, value)
        obj._state.adding = False
        obj._state.db = db


def _column_values(fields: list[models.Field], objs: list[Any]) -> list[tuple[bool, Any]] | None:
    """The values bulk_create would send, per column: (True, a value per row), or (False,
    the one value every row holds). None when a column or a value needs what only
    bulk_create does (a placeholder of its own, an SQL expression such as a database
    default), as Django's own UNNEST insert then falls back to VALUES.

    Most columns hold one value in every row (defaults, blanks, the batch's time); it is
    sent once instead of once per row: adapting each value is most of psycopg2's work
    here, and parsing each one PostgreSQL's. The first column always goes per row, so
    that UNNEST has the rows to yield.
    """
    connection = default_connection()
    for column in fields:
        kind = column.target_field if column.is_relation else column
        if hasattr(column, "get_placeholder") or kind.get_internal_type() not in connection.data_types:
            return None
    # auto_now and auto_now_add: pre_save stamps the objects, row by row as bulk_create does.
    stamped = [f for f in fields if not _reads_plainly(f)]
    for obj in objs:
        for column in stamped:
            column.pre_save(obj, True)
    result: list[tuple[bool, Any]] = []
    for column in fields:
        values = list(map(attrgetter(column.attname), objs))
        many = not result or not _same(values)
        if not many:
            values = values[:1]
        if not _ready(column, values):
            if any(hasattr(v, "resolve_expression") for v in values):
                return None
            values = [column.get_db_prep_save(v, connection) for v in values]
        result.append((many, values if many else values[0]))
    return result


def _same(values: list[Any]) -> bool:
    """Whether every value equals the first one and is of its type."""
    return values.count(values[0]) == len(values) and len(set(map(type, values))) == 1


def _ready(column: models.Field, values: list[Any]) -> bool:
    """Whether get_db_prep_save would return each of the values as it is."""
    ready = _plain_type(column)
    if ready is None:
        return False
    kinds = set(map(type, values)) - {type(None)}
    if ready is str:  # TextChoices members too: CharField.to_python keeps any str
        return all(issubclass(kind, str) for kind in kinds)
    if ready is datetime and kinds:  # a naive one would be made aware (with a warning)
        return kinds == {datetime} and all(v.utcoffset() is not None for v in values if v is not None)
    return kinds <= {ready}


def _plain_type(column: models.Field) -> type | None:
    """READY_TYPES' type for the column (a foreign key: for the column it points at)."""
    return READY_TYPES.get(type(column.target_field if column.is_relation else column))


def _reads_plainly(column: models.Field) -> bool:
    """Whether column.pre_save(obj, add=True) just reads the attribute."""
    if isinstance(column, models.DateField):  # and DateTimeField
        return not (column.auto_now or column.auto_now_add)
    return type(column).pre_save is models.Field.pre_save


# How prepared_values reads each column: the field, the Python type of a value sent as it
# is (READY_TYPES, PostgreSQL only: SQLite's datetimes go out as text), and whether
# pre_save only reads the attribute.
Recipe = list[tuple[models.Field, type | None, bool]]


# By (database vendor, model, rows, conflict column): how to read the columns written, the
# statement, and the columns it returns with their converters.
SmallInsert = tuple[Recipe, str, list[tuple[str, Any, list[Any]]]]
_small_inserts: dict[tuple[str, type[models.Model], int, str], SmallInsert] = {}
FEW = 10  # insert_few's most rows; more go to bulk_create (SQLite's limit on parameters, one statement per count)


def insert_one(obj: models.Model) -> None:
    """`obj.save(force_insert=True)` for a new row (no id given): the same columns, values
    (each field's pre_save, auto_now stamps included, and get_db_prep_save) and returned
    columns, the INSERT built once per model instead of compiled by the ORM on every
    save. A model with save signal receivers, or a database that cannot return columns
    from an INSERT, is saved by save() itself; a value that is an SQL expression (a
    database default left unset) is refused, as only the ORM can compile it."""
    if _saved_by_orm(obj):
        obj.save(force_insert=True)
        return
    obj._prepare_related_fields_for_save(operation_name="save")  # as save(): no unsaved related object
    _insert_rows(type(obj), [obj])


def _saved_by_orm(obj: models.Model) -> bool:
    """A row insert_one leaves to save(): an id given, save signal receivers (they would
    not run), or a database that cannot return columns from an INSERT."""
    connection = default_connection()
    model = type(obj)
    return (obj.pk is not None or not connection.features.can_return_columns_from_insert
            or pre_save.has_listeners(model) or post_save.has_listeners(model))


def insert_statement(obj: models.Model) -> tuple[str, list[Any]] | None:
    """insert_one's INSERT of `obj` (its values as insert_one sends them, the statement
    without RETURNING), for a caller that sends it inside a statement of its own
    (PostgreSQL's `WITH new AS (INSERT …)`): None where insert_one would not send it
    (save() instead) or the database has no such statement."""
    connection = default_connection()
    if connection.vendor != "postgresql" or _saved_by_orm(obj):
        return None
    obj._prepare_related_fields_for_save(operation_name="save")  # as save(): no unsaved related object
    recipe, sql, _ = _statement(connection, type(obj), 1, "")
    return sql[:sql.index(" RETURNING ")], prepared_values(recipe, obj)


def insert_unless_taken(obj: models.Model, unique: str, rows: Sequence[models.Model] = ()) -> bool:
    """insert_one for a new row whose `unique` field may already be taken (a lead's email),
    as `INSERT … ON CONFLICT (unique) DO NOTHING`: False when taken, and nothing written.
    A conflict leaves no error in the transaction (no savepoint needed around it); a
    concurrent twin's insert of the same value is waited for, and once committed it is
    taken. For a model without save signal receivers (they would not run).

    `rows`: new rows of one model with a foreign key to `obj`'s (a new lead's ledger), up
    to FEW, inserted with it, pointing at it, or not at all: on PostgreSQL in the same
    statement (a data-modifying WITH; their ids are not read back), elsewhere by
    insert_few after it."""
    connection = default_connection()
    obj._prepare_related_fields_for_save(operation_name="save")
    conflict = obj._meta.get_field(unique).column
    if not rows or connection.vendor != "postgresql" or len(rows) > FEW:
        inserted = _insert_rows(type(obj), [obj], conflict=conflict) == 1
        if inserted and rows:
            insert_few(type(rows[0]), list(rows))
        return inserted
    return _insert_rows(type(obj), [obj], conflict=conflict, children=rows) == 1


def insert_few(model: type[models.Model], objs: list[Any]) -> None:
    """`model.objects.bulk_create(objs)` for up to FEW new rows (a re-score's ledger
    entries): insert_one's statement with a row of values per object, the ids returned
    in the order of the rows as bulk_create takes them. More rows, rows with an id, or a
    database that cannot return them go to bulk_create itself."""
    connection = default_connection()
    if not objs:
        return
    if (len(objs) > FEW or not connection.features.can_return_rows_from_bulk_insert
            or any(obj.pk is not None for obj in objs)):
        model.objects.bulk_create(objs)
        return
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="bulk_create")
    _insert_rows(model, objs)


def with_rows_first(sql: str, params: list[Any], rows: Sequence[models.Model]) -> tuple[str, list[Any]]:
    """`sql` (an UPDATE, or a statement of data-modifying WITHs) that also inserts `rows`:
    new rows, each model's together (up to FEW of each, in the order given), as insert_few
    inserts them but for their ids, which are not read back. On PostgreSQL in the same
    statement, a `WITH rows_N AS (INSERT …)` per model first, which runs whatever the rest
    does; elsewhere, or more rows, by insert_few now and `sql` as it is."""
    connection = default_connection()
    heads: list[str] = []
    values: list[Any] = []
    for model, group in groupby(rows, type):
        objs = list(group)
        if (connection.vendor != "postgresql" or len(objs) > FEW
                or not connection.features.can_return_rows_from_bulk_insert or any(o.pk is not None for o in objs)):
            insert_few(model, objs)
            continue
        for obj in objs:
            obj._prepare_related_fields_for_save(operation_name="bulk_create")
        recipe, insert, _ = _statement(connection, model, len(objs), "")
        heads.append(f"rows_{len(heads)} AS ({insert[:insert.index(' RETURNING ')]})")
        values += [value for obj in objs for value in prepared_values(recipe, obj)]
    if not heads:
        return sql, params
    rest = f", {sql[len('WITH '):]}" if sql.startswith("WITH ") else f" {sql}"
    return f"WITH {', '.join(heads)}{rest}", values + params


def insert_fields(model: type[models.Model]) -> list[models.Field]:
    """The columns an INSERT of a new row writes, in the model's order: all but the id."""
    return [f for f in model._meta.concrete_fields if not f.generated and not f.primary_key]


def value_recipe(fields: list[models.Field]) -> Recipe:
    """What prepared_values needs to know of `fields`, worked out once per statement."""
    connection = default_connection()
    postgresql = connection.vendor == "postgresql"
    return [(field, _plain_type(field) if postgresql else None, _reads_plainly(field)) for field in fields]


def prepared_values(recipe: Recipe, obj: models.Model) -> list[Any]:
    """`obj`'s values of the recipe's fields as save() sends them for a new row (each
    field's pre_save, auto_now stamps included, then get_db_prep_save); an SQL expression
    is refused. A value that get_db_prep_save would return unchanged (`_ready`'s rule, for
    one value) is taken as it is: the ingest's inserts send 70 values a lead."""
    connection = None  # looked up for the first value that needs it
    values = []
    for field, ready, plain in recipe:
        value = getattr(obj, field.attname) if plain else field.pre_save(obj, True)
        if not _ready_value(ready, value):
            if hasattr(value, "resolve_expression"):
                raise TypeError(f"{type(obj).__name__}.{field.attname} is an SQL expression: let the ORM write it.")
            connection = connection or default_connection()
            value = field.get_db_prep_save(value, connection)
        values.append(value)
    return values


def db_value(field: models.Field, value: Any, connection: BaseDatabaseWrapper) -> Any:
    """`field.get_db_prep_save(value, connection)`, without the call where it would return
    the value unchanged (_ready's rule for one value; PostgreSQL only, as value_recipe)."""
    ready = _plain_type(field) if connection.vendor == "postgresql" else None
    return value if _ready_value(ready, value) else field.get_db_prep_save(value, connection)


def _ready_value(ready: type | None, value: Any) -> bool:
    """_ready for one value."""
    if ready is None:
        return False
    if value is None:
        return True
    if ready is str:
        return isinstance(value, str)
    if ready is datetime:
        return type(value) is datetime and value.utcoffset() is not None
    return type(value) is ready


def _insert_rows(model: type[models.Model], objs: list[Any], conflict: str = "",
                 children: Sequence[models.Model] = ()) -> int:
    """Insert `objs` by the model's cached statement (`conflict`: the column whose taken
    value skips the row; `children`: insert_unless_taken's `rows`, for one obj, on
    PostgreSQL); the rows inserted."""
    connection = default_connection()
    recipe, sql, returning = _statement(connection, model, len(objs), conflict)
    values = [value for obj in objs for value in prepared_values(recipe, obj)]
    if children:
        child_recipe, sql = _with_rows(model, sql, type(children[0]), len(children))
        values += [value for child in children for value in prepared_values(child_recipe, child)]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        rows = cursor.fetchall()
    if not rows:  # the one row's value was taken (ON CONFLICT DO NOTHING)
        return 0
    for obj, row in zip(objs, rows, strict=True):
        for value, (attname, col, convs) in zip(row, returning, strict=True):
            for convert in convs:
                value = convert(value, col, connection)
            setattr(obj, attname, value)
        obj._state.adding = False
        obj._state.db = connection.alias
    return len(rows)


def _statement(connection: BaseDatabaseWrapper, model: type[models.Model], count: int, conflict: str) -> SmallInsert:
    key = (connection.vendor, model, count, conflict)
    found = _small_inserts.get(key)
    if found is None:
        found = _small_inserts[key] = _small_insert_of(model, count, conflict)
    return found


# By (parent statement, rows' model, rows): the statement inserting both, the rows' recipe.
_with_rows_statements: dict[tuple[str, type[models.Model], int], tuple[Recipe, str]] = {}


def _with_rows(parent: type[models.Model], sql: str, model: type[models.Model], count: int) -> tuple[Recipe, str]:
    """`sql` (the parent's INSERT … RETURNING), with `count` rows of `model` inserted in the
    same statement, their foreign key to `parent` set to the parent's new id; the recipe
    of the rows' other columns."""
    connection = default_connection()
    key = (sql, model, count)
    found = _with_rows_statements.get(key)
    if found is None:
        link = next(f for f in model._meta.concrete_fields if f.is_relation and f.related_model is parent)
        fields = [f for f in insert_fields(model) if f is not link]
        # Typed as the columns: a VALUES list's types are not taken from the INSERT around it.
        # Without a length (varchar(255)): a cast would cut a longer value, the column refuses it.
        types = [f.db_type(connection).split("(")[0] for f in fields]
        row = f"({', '.join(f'%s::{kind}' for kind in types)})"
        qn = connection.ops.quote_name
        found = (value_recipe(fields), Prepared(
            f"WITH parent AS ({sql}), _rows AS (INSERT INTO {qn(model._meta.db_table)} ({qn(link.column)}, "
            f"{', '.join(qn(f.column) for f in fields)}) SELECT parent.{qn(parent._meta.pk.column)}, v.* FROM parent,"
            f" (VALUES {', '.join([row] * count)}) AS v) SELECT * FROM parent"))
        _with_rows_statements[key] = found
    return found


def _small_insert_of(model: type[models.Model], count: int, conflict: str) -> SmallInsert:
    connection = default_connection()
    opts = model._meta
    fields = insert_fields(model)
    qn = connection.ops.quote_name
    returned = opts.db_returning_fields
    row = f"({', '.join(['%s'] * len(fields))})"
    skip = f" ON CONFLICT ({qn(conflict)}) DO NOTHING" if conflict else ""
    sql = Prepared(f"INSERT INTO {qn(opts.db_table)} ({', '.join(qn(f.column) for f in fields)}) "
                   f"VALUES {', '.join([row] * count)}{skip} RETURNING {', '.join(qn(f.column) for f in returned)}")
    returning = []
    for field in returned:
        col = field.get_col(opts.db_table)
        converters = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
        returning.append((field.attname, col, converters))
    return value_recipe(fields), sql, returning
