"""The database connection, looked up once."""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper


def default_connection() -> BaseDatabaseWrapper:
    """This thread's connection to the default database, what `django.db.connection`
    stands for. That proxy looks the connection up again for every attribute read through
    it (asgiref's Local: about 10,000 instructions on Python 3.11, three exceptions raised
    and caught), and Django's field methods read several of the connection they are
    given; the ingest's statements look it up once each (bench/REPORT.md)."""
    return connections[DEFAULT_DB_ALIAS]
