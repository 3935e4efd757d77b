"""The leads app's hand-written SQL. Each statement here runs on every ingested lead, and
the ORM spent longer compiling it (or preparing the lead's 47 columns) than the database
took to answer; sdrcrm.rows converts the rows with the ORM's own converters, and tests
compare each with its ORM equivalent."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper

from routing import queries as routing_queries
from sdrcrm import config, rows
from sdrcrm.bulk_insert import (
    Recipe,
    db_value,
    insert_fields,
    insert_one,
    prepared_values,
    value_recipe,
    with_rows_first,
)
from sdrcrm.database import default_connection
from sdrcrm.prepared import Prepared

from .models import Account, Lead, Person, StatusChange

LEAD_ATTNAMES = [f.attname for f in Lead._meta.concrete_fields]
LEAD_COLUMNS = ", ".join(f'"{f.column}"' for f in Lead._meta.concrete_fields)  # quoted as both databases quote


def lead_by_email(email: str, *, lock: bool = False, unconverted: bool = False, live: bool = False) -> Lead | None:
    """The lead with this (unique, normalised) email, every field loaded, deleted or not (a
    deleted lead keeps its email: ingest refuses it); `lock`: FOR UPDATE; `unconverted`:
    only a lead not converted yet; `live`: only a lead not deleted.

    The same statement reads the configuration's token, found or not, and pins the
    request's view of the configuration with it (sdrcrm.config.pin_token): it is the first
    statement of an ingest, which would otherwise send one more for the token."""
    return lead_and_account_by_email(email, ("", ""), lock=lock, unconverted=unconverted, live=live)[0]


def lead_and_account_by_email(email: str, account_keys: tuple[str, str], *, lock: bool = False,
                              unconverted: bool = False, live: bool = False) -> tuple[Lead | None, Account | None]:
    """lead_by_email, and in the same statement the account that `account_keys` (a domain
    and a name key, leads.domains.account_keys) match, as routing.queries.account_matching
    reads it: an ingest matches a new lead to its account, and that read was a statement
    of its own on every new lead."""
    connection = default_connection()
    where = "email = %s"
    if unconverted:
        where += " AND converted_to_id IS NULL"
    if live:
        where += " AND deleted_at IS NULL"
    if lock and connection.features.has_select_for_update:  # SQLite locks the whole database
        where += " FOR UPDATE"
    params: list[Any] = [email]
    matching = routing_queries.account_matching_sql(*account_keys)
    accounts = ""
    if matching is not None:
        accounts = f", matched AS ({matching[0]})"
        params += matching[1]
    sql = (f"WITH found AS (SELECT {LEAD_COLUMNS} FROM leads_lead WHERE {where}){accounts} "
           f"SELECT found.*, {'matched.*, ' if accounts else ''}{config.TOKEN_COLUMN} FROM (SELECT 1) AS one"
           f" LEFT JOIN found ON 1 = 1{' LEFT JOIN matched ON 1 = 1' if accounts else ''}")
    with connection.cursor() as cursor:
        cursor.execute(Prepared(sql), params)
        row = list(cursor.fetchone())
    config.pin_token(row.pop())
    lead_row, account_row = row[:len(LEAD_ATTNAMES)], row[len(LEAD_ATTNAMES):]
    account = None
    if account_row and account_row[0] is not None:
        account = routing_queries.account_of(rows.convert(Account, routing_queries.ACCOUNT_ATTNAMES, [account_row])[0])
    if lead_row[0] is None:  # no lead
        return None, account
    return Lead.from_db(connection.alias, LEAD_ATTNAMES, rows.convert(Lead, LEAD_ATTNAMES, [lead_row])[0]), account


def update_person(model: type[Person], pk: int, values: dict[str, Any], *, status: str | None = None,
                  rows: Sequence[models.Model] = ()) -> int:
    """`model.objects.filter(pk=pk).update(**values)` for a lead or contact (the live row
    only, as the manager reads it; `status`: only while in that status), the rows updated.
    Each value is prepared by its field as the ORM's update prepares it; an SQL
    expression (F(), …) is refused: write it with the ORM. `rows`: new rows inserted
    whether the update finds the row or not (a re-score's ledger entries), in the same
    statement on PostgreSQL (bulk_insert.with_rows_first)."""
    connection = default_connection()
    sql, params = with_rows_first(*_update_sql(connection, model, pk, values, status), rows)
    with connection.cursor() as cursor:
        cursor.execute(Prepared(sql), params)
        return cursor.rowcount


_HISTORY_FIELDS = insert_fields(StatusChange)
_HISTORY_COLUMNS = ", ".join(f'"{f.column}"' for f in _HISTORY_FIELDS)
_HISTORY_CASTS: list[str] = []  # PostgreSQL's types of those columns, once known
_HISTORY_RECIPE: Recipe = []


def move_person(model: type[Person], pk: int, old: str, values: dict[str, Any], history: StatusChange,
                rows: Sequence[models.Model] = ()) -> bool:
    """update_person(model, pk, values, status=old, rows=rows), then insert `history` (a
    new status change) if the row was updated. On PostgreSQL one statement (the insert
    reads the update's row, so it is written only for a row moved); on SQLite two."""
    connection = default_connection()
    if connection.vendor != "postgresql":
        if not update_person(model, pk, values, status=old, rows=rows):
            return False
        insert_one(history)
        return True
    update, params = _update_sql(connection, model, pk, values, old)
    if not _HISTORY_CASTS:  # typed as the columns: the SELECT's values are not the VALUES of an INSERT
        _HISTORY_CASTS.extend(f"%s::{f.db_type(connection).split('(')[0]}" for f in _HISTORY_FIELDS)
        _HISTORY_RECIPE.extend(value_recipe(_HISTORY_FIELDS))
    sql = (f"WITH moved AS ({update} RETURNING id) INSERT INTO leads_statuschange ({_HISTORY_COLUMNS}) "
           f"SELECT {', '.join(_HISTORY_CASTS)} FROM moved RETURNING id")
    params += prepared_values(_HISTORY_RECIPE, history)
    sql, params = with_rows_first(sql, params, rows)
    with connection.cursor() as cursor:
        cursor.execute(Prepared(sql), params)
        row = cursor.fetchone()
    if row is None:
        return False
    history.pk, history._state.adding, history._state.db = row[0], False, connection.alias
    return True


def _update_sql(connection: BaseDatabaseWrapper, model: type[Person], pk: int, values: dict[str, Any],
                status: str | None) -> tuple[str, list[Any]]:
    sets, params = [], []
    for name, value in values.items():
        field = model._meta.get_field(name)
        if not field.concrete or hasattr(value, "resolve_expression"):
            raise TypeError(f"{model.__name__}.{name} = {value!r}: update it with the ORM.")
        if hasattr(value, "prepare_database_save"):  # a model instance for a foreign key
            value = value.prepare_database_save(field)
        sets.append(f'"{field.column}" = %s')
        params.append(db_value(field, value, connection))
    sql = f'UPDATE "{model._meta.db_table}" SET {", ".join(sets)} WHERE deleted_at IS NULL AND id = %s'
    params.append(pk)
    if status is not None:
        sql += " AND status = %s"
        params.append(status)
    return sql, params
