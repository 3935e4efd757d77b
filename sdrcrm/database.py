"""The database connection, looked up once."""

from __future__ import annotations

from asyncio import _get_running_loop

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper


def default_connection() -> BaseDatabaseWrapper:
    """This thread's connection to the default database, what `django.db.connection`
    stands for. That proxy looks the connection up again for every attribute read through
    it, and Django's field methods read several of the connection they are given; the
    ingest's statements look it up once each (bench/REPORT.md).

    `connections[alias]` itself costs about 10,000 instructions on Python 3.11: asgiref's
    thread-critical Local, which Django keeps the connections in, asks asyncio for a
    running loop by catching the RuntimeError of `get_running_loop()`, after an
    AttributeError formatted on the way to its `__getattr__`. Where no loop runs in this
    thread, that Local reads its plain thread-local storage (`_storage`, in asgiref 3.13),
    and so does this, directly; anywhere else, before the connection exists, or if
    asgiref keeps it elsewhere, it asks `connections`."""
    if _get_running_loop() is None:
        storage = getattr(connections._connections, "_storage", None)
        found = getattr(storage, DEFAULT_DB_ALIAS, None)
        if found is not None:
            return found
    return connections[DEFAULT_DB_ALIAS]
