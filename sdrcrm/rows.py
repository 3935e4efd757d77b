"""Rows read by hand-written SQL, converted as the ORM converts what it reads.

The few statements every ingest runs with a fixed shape are written out in each app's
queries.py (the ORM spent longer compiling them than the database took to run them);
their values still go through Django's converters (SQLite's datetimes and booleans, JSON
columns), so callers get what a queryset would give."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper

from .database import default_connection

_converters: dict[tuple[str, type[models.Model], tuple[str, ...]], list[tuple[int, Any, list[Any]]]] = {}


def fetch(model: type[models.Model], attnames: Sequence[str], sql: str, params: Sequence[Any]) -> list[list[Any]]:
    """The rows of `sql`, which selects the columns of `attnames` of `model` in that order."""
    connection = default_connection()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = [list(row) for row in cursor.fetchall()]
    return convert(model, attnames, rows)


def convert(model: type[models.Model], attnames: Sequence[str], rows: list[list[Any]]) -> list[list[Any]]:
    """`rows` (lists holding the columns of `attnames` of `model`), converted in place."""
    connection = default_connection()
    converters = _converters_for(connection, model, tuple(attnames))
    if converters:
        for row in rows:
            for i, col, convs in converters:
                for convert in convs:
                    row[i] = convert(row[i], col, connection)
    return rows


def _converters_for(connection: BaseDatabaseWrapper, model: type[models.Model],
                    attnames: tuple[str, ...]) -> list[tuple[int, Any, list[Any]]]:
    key = (connection.vendor, model, attnames)
    found = _converters.get(key)
    if found is None:
        found = []
        for i, attname in enumerate(attnames):
            col = next(f for f in model._meta.concrete_fields if f.attname == attname).get_col(model._meta.db_table)
            convs = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
            if convs:
                found.append((i, col, convs))
        _converters[key] = found
    return found
