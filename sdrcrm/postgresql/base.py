"""Django's PostgreSQL backend, with a health check that sends nothing and the hot
statements prepared once per connection.

With CONN_HEALTH_CHECKS, Django checks a kept connection before each request's first
query by sending `SELECT 1`: a round trip per request, the two of an ingested lead
included. A connection the server has closed (a restart, an administrator, an idle
timeout) has told the client so on its socket: the socket is readable, with nothing
asked. So a connection whose socket is quiet is taken as usable without a statement,
and one with something waiting gets Django's own check, which finds the connection
closed and has it replaced before the request uses it.

A statement marked `Prepared` (sdrcrm/prepared.py) is sent as `PREPARE` the first time a
connection runs it, then as `EXECUTE name(values)`: PostgreSQL parses and plans it once
per connection instead of on every call. A prepared statement outlives a rolled-back
transaction, so the names a connection has prepared stay true until it is closed. This
needs a connection of its own to the server: a pooler that hands a client's statements to
other server connections (pgbouncer in transaction mode) would not find them."""

from __future__ import annotations

import select
from typing import Any

import psycopg2.extensions
from django.conf import settings
from django.db.backends.postgresql.base import DatabaseWrapper as PostgresWrapper
from django.db.backends.postgresql.operations import DatabaseOperations as PostgresOperations
from django.db.backends.postgresql.psycopg_any import is_psycopg3

from sdrcrm.prepared import Prepared, numbered

# The most statements one connection prepares; more are sent as text. The marked
# statements have a few dozen shapes in all (one per model inserted, per set of columns
# updated), so this bound is only there against a shape that would vary without end.
MAX_PREPARED = 200


class PreparingCursor(psycopg2.extensions.cursor):
    """psycopg2's cursor, which prepares the `Prepared` statements it is given."""

    prepared: dict[str, tuple[str, int]]  # the connection's: statement → (name, placeholders)

    def execute(self, query: Any, vars: Any = None) -> Any:  # noqa: A002 (psycopg2's own name)
        if not isinstance(query, Prepared):
            return super().execute(query, vars)
        found = self.prepared.get(query)
        if found is None:
            if len(self.prepared) >= MAX_PREPARED:
                return super().execute(query, vars)
            body, count = numbered(query)
            found = (f"sdrcrm_{len(self.prepared) + 1}", count)
            super().execute(f"PREPARE {found[0]} AS {body}")
            self.prepared[str(query)] = found
        name, count = found
        return super().execute(f"EXECUTE {name}({', '.join(['%s'] * count)})" if count else f"EXECUTE {name}", vars)


class DatabaseOperations(PostgresOperations):
    def last_executed_query(self, cursor: Any, sql: str, params: Any) -> str | None:
        # What Django records (connection.queries, the tests' captured queries) is the
        # statement with its values, not the EXECUTE that ran it.
        if isinstance(sql, Prepared) and not is_psycopg3:
            return cursor.mogrify(sql, params).decode()
        return super().last_executed_query(cursor, sql, params)


class DatabaseWrapper(PostgresWrapper):
    ops_class = DatabaseOperations

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        self.prepared_statements: dict[str, tuple[str, int]] = {}
        return super().get_new_connection(conn_params)

    def create_cursor(self, name: str | None = None) -> Any:
        if name or is_psycopg3:
            return super().create_cursor(name)
        cursor = self.connection.cursor(cursor_factory=PreparingCursor)
        cursor.prepared = self.prepared_statements
        cursor.tzinfo_factory = self.tzinfo_factory if settings.USE_TZ else None  # as Django's
        return cursor

    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed:
            return False
        try:
            waiting, _, _ = select.select([connection], [], [], 0)
        except (OSError, ValueError):  # the socket is gone
            return False
        return not waiting or super().is_usable()
