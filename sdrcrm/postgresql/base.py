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
other server connections (pgbouncer in transaction mode) would not find them.

A transaction's BEGIN goes out with its first statement (`BEGIN; …` in one message)
instead of as a round trip of its own: psycopg2, left out of autocommit, sends `BEGIN`
alone before the first statement of every transaction, two of an ingested lead's
thirteen round trips. Here psycopg2 stays in autocommit; while Django has autocommit off
(an atomic block, or a caller that turned it off) and the server says no transaction is
open, the next statement starts one, whether sent as text, as a PREPARE or as the EXECUTE
of a statement prepared before. COMMIT and ROLLBACK are sent when the server says a
transaction is open, as psycopg2 does. What psycopg2 sends from C without this module's
cursor (server-side cursors, COPY, executemany) gets its BEGIN alone first, as before. A
configured isolation level keeps psycopg2's own BEGIN."""

from __future__ import annotations

import select
from asyncio import _get_running_loop
from typing import Any

import psycopg2.extensions
from django.conf import settings
from django.db.backends import utils
from django.db.backends.postgresql.base import DatabaseWrapper as PostgresWrapper
from django.db.backends.postgresql.operations import DatabaseOperations as PostgresOperations
from django.db.backends.postgresql.psycopg_any import is_psycopg3
from django.db.backends.utils import debug_transaction

from sdrcrm.prepared import Prepared, numbered

# The most statements one connection prepares; more are sent as text. The marked
# statements have a few dozen shapes in all (one per model inserted, per set of columns
# updated), so this bound is only there against a shape that would vary without end.
MAX_PREPARED = 200


IDLE = psycopg2.extensions.TRANSACTION_STATUS_IDLE


class PreparingCursor(psycopg2.extensions.cursor):
    """psycopg2's cursor, which prepares the `Prepared` statements it is given and starts
    the transaction its wrapper wants with the first statement it sends."""

    prepared: dict[str, tuple[str, int]]  # the connection's: statement → (name, placeholders)
    wrapper: DatabaseWrapper

    def execute(self, query: Any, vars: Any = None) -> Any:  # noqa: A002 (psycopg2's own name)
        if not isinstance(query, Prepared):
            return self._send(query, vars)
        found = self.prepared.get(query)
        if found is None:
            if len(self.prepared) >= MAX_PREPARED:
                return self._send(query, vars)
            body, count = numbered(query)
            found = (f"sdrcrm_{len(self.prepared) + 1}", count)
            self._send(f"PREPARE {found[0]} AS {body}")
            self.prepared[str(query)] = found
        name, count = found
        # Through _send: a statement prepared by an earlier transaction may be this one's first.
        return self._send(f"EXECUTE {name}({', '.join(['%s'] * count)})" if count else f"EXECUTE {name}", vars)

    def _send(self, query: Any, vars: Any = None) -> Any:  # noqa: A002
        if isinstance(query, str) and self.wrapper.begin_due():
            query = f"BEGIN; {query}"
        return super().execute(query, vars)

    def executemany(self, query: Any, vars_list: Any) -> Any:
        self.wrapper.begin_if_due()
        return super().executemany(query, vars_list)

    def callproc(self, procname: Any, parameters: Any = None) -> Any:
        self.wrapper.begin_if_due()
        return super().callproc(procname, parameters)

    def copy_expert(self, sql: Any, file: Any, size: int = 8192) -> Any:
        self.wrapper.begin_if_due()
        return super().copy_expert(sql, file, size)

    def copy_from(self, *args: Any, **kwargs: Any) -> Any:
        self.wrapper.begin_if_due()
        return super().copy_from(*args, **kwargs)

    def copy_to(self, *args: Any, **kwargs: Any) -> Any:
        self.wrapper.begin_if_due()
        return super().copy_to(*args, **kwargs)


class DirectFetches:
    """Django's cursor wrapper with fetchone, fetchmany, fetchall and close as methods.
    Django's finds them through `__getattr__`: each call formatted an AttributeError on the
    way there, and wrapped the fetch in a new function (functools.wraps) to translate its
    errors, two of them a statement. These translate errors as that function did."""

    cursor: Any
    db: Any

    def fetchone(self) -> Any:
        with self.db.wrap_database_errors:
            return self.cursor.fetchone()

    def fetchmany(self, *args: Any, **kwargs: Any) -> Any:
        with self.db.wrap_database_errors:
            return self.cursor.fetchmany(*args, **kwargs)

    def fetchall(self) -> Any:
        with self.db.wrap_database_errors:
            return self.cursor.fetchall()

    def close(self) -> Any:
        return self.cursor.close()


class CursorWrapper(DirectFetches, utils.CursorWrapper):
    pass


class CursorDebugWrapper(DirectFetches, utils.CursorDebugWrapper):
    pass


class DatabaseOperations(PostgresOperations):
    def last_executed_query(self, cursor: Any, sql: str, params: Any) -> str | None:
        # What Django records (connection.queries, the tests' captured queries) is the
        # statement with its values, not the EXECUTE that ran it.
        if isinstance(sql, Prepared) and not is_psycopg3:
            return cursor.mogrify(sql, params).decode()
        return super().last_executed_query(cursor, sql, params)


class DatabaseWrapper(PostgresWrapper):
    ops_class = DatabaseOperations

    # Whether Django has autocommit off (a transaction wanted), when BEGIN is deferred.
    wants_transaction = False

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        self.prepared_statements: dict[str, tuple[str, int]] = {}
        connection = super().get_new_connection(conn_params)
        # psycopg2's own BEGIN where an isolation level is configured (it names it).
        self.defers_begin = not is_psycopg3 and "isolation_level" not in self.settings_dict["OPTIONS"]
        self.wants_transaction = False
        return connection

    def _set_autocommit(self, autocommit: bool) -> None:
        if not self.defers_begin:
            return super()._set_autocommit(autocommit)
        with self.wrap_database_errors:
            if not self.connection.autocommit:  # a new connection: psycopg2 starts without it
                self.connection.autocommit = True
        self.wants_transaction = not autocommit

    def begin_due(self) -> bool:
        """Whether the next statement must start a transaction (and is taken to: the
        caller sends BEGIN with it)."""
        return self.wants_transaction and self.connection.info.transaction_status == IDLE

    def begin_if_due(self) -> None:
        """BEGIN alone, for what psycopg2 sends without PreparingCursor.execute."""
        if self.begin_due():
            with self.connection.cursor() as cursor:
                cursor.execute("BEGIN")

    def _commit(self) -> None:
        self._end("COMMIT")

    def _rollback(self) -> None:
        self._end("ROLLBACK")

    def _end(self, command: str) -> None:
        if self.connection is None:
            return
        if not self.defers_begin:
            return super()._commit() if command == "COMMIT" else super()._rollback()
        with debug_transaction(self, command), self.wrap_database_errors:
            if self.connection.info.transaction_status != IDLE:  # nothing was sent: nothing to end
                with self.connection.cursor() as cursor:
                    cursor.execute(command)

    # Django marks cursor() and ensure_connection() async-unsafe: each call asks asyncio
    # for a running loop by catching get_running_loop()'s RuntimeError, 28 times a lead.
    # Where no loop runs and the connection is open, these do what Django's do without
    # that exception; anywhere else they are Django's, which refuse an async context.

    def ensure_connection(self) -> None:
        if self.connection is None or _get_running_loop() is not None:
            super().ensure_connection()

    def cursor(self) -> Any:
        if _get_running_loop() is not None:
            return super().cursor()
        return self._cursor()

    def make_cursor(self, cursor: Any) -> Any:
        return CursorWrapper(cursor, self)

    def make_debug_cursor(self, cursor: Any) -> Any:
        return CursorDebugWrapper(cursor, self)

    def create_cursor(self, name: str | None = None) -> Any:
        if is_psycopg3:
            return super().create_cursor(name)
        if name:  # a server-side cursor: its DECLARE is sent by psycopg2 itself
            if not self.defers_begin:
                return super().create_cursor(name)
            self.begin_if_due()  # declared inside the transaction, after its BEGIN
            # psycopg2 in autocommit declares only WITH HOLD cursors (Django's choice there too).
            cursor = self.connection.cursor(name, scrollable=False, withhold=True)
        else:
            cursor = self.connection.cursor(cursor_factory=PreparingCursor)
            cursor.prepared = self.prepared_statements
            cursor.wrapper = self
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
