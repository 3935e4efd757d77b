"""The PostgreSQL backend's health check (sdrcrm/postgresql/base.py): a kept connection is
checked before each request without a statement, and one the server closed is still
found out and replaced."""

from __future__ import annotations

import select
import time
from collections.abc import Iterator

import pytest
from django.db import connection, connections

from tests.conftest import on_postgres, require

pytestmark = pytest.mark.django_db


@pytest.fixture
def other() -> Iterator:
    """A second connection of the project's backend, as a web process keeps one."""
    require(on_postgres(), "CI must test the PostgreSQL backend", "the backend is PostgreSQL's (DATABASE_URL=postgres://…)")
    kept = connections.create_connection("default")
    kept.ensure_connection()
    yield kept
    kept.close()


def last_statement(pid: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone()[0]


def test_a_kept_connection_is_checked_without_a_statement(other):
    with other.connection.cursor() as cursor:
        cursor.execute("SELECT 'the request before'")
    pid = other.connection.get_backend_pid()

    assert other.is_usable()
    other.health_check_enabled, other.health_check_done = True, False  # a new request
    other.close_if_health_check_failed()  # what Django runs before the request's first query

    assert other.connection is not None  # kept
    assert last_statement(pid) == "SELECT 'the request before'"  # Django's own check sends SELECT 1


def test_a_connection_the_server_closed_is_found_unusable_and_replaced(other):
    pid = other.connection.get_backend_pid()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    deadline = time.monotonic() + 5
    while not select.select([other.connection], [], [], 0.1)[0] and time.monotonic() < deadline:
        pass  # the server's goodbye reaches the socket

    assert not other.is_usable()
    other.health_check_enabled, other.health_check_done = True, False
    other.close_if_health_check_failed()
    assert other.connection is None  # closed: the next query opens a new one
    with other.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
