"""Django's PostgreSQL backend with a health check that sends nothing.

With CONN_HEALTH_CHECKS, Django checks a kept connection before each request's first
query by sending `SELECT 1`: a round trip per request, the two of an ingested lead
included. A connection the server has closed (a restart, an administrator, an idle
timeout) has told the client so on its socket: the socket is readable, with nothing
asked. So a connection whose socket is quiet is taken as usable without a statement,
and one with something waiting gets Django's own check, which finds the connection
closed and has it replaced before the request uses it."""

from __future__ import annotations

import select

from django.db.backends.postgresql.base import DatabaseWrapper as PostgresWrapper


class DatabaseWrapper(PostgresWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed:
            return False
        try:
            waiting, _, _ = select.select([connection], [], [], 0)
        except (OSError, ValueError):  # the socket is gone
            return False
        return not waiting or super().is_usable()
