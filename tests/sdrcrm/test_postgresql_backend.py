"""The PostgreSQL backend (sdrcrm/postgresql/base.py): a kept connection is checked before
each request without a statement, and one the server closed is still found out and
replaced; a statement marked `Prepared` is prepared once per connection, then executed; a
transaction's BEGIN goes with its first statement."""

from __future__ import annotations

import asyncio
import io
import select
import time
from collections.abc import Iterator

import psycopg2.extensions
import pytest
from django.core.exceptions import SynchronousOnlyOperation
from django.db import DataError, ProgrammingError, connection, connections
from django.test.utils import CaptureQueriesContext

from sdrcrm.postgresql.base import DirectFetches
from sdrcrm.prepared import Prepared
from tests.conftest import on_postgres, require
from tests.factories import LeadFactory

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
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # else read once per transaction
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


# --- Statements prepared once per connection (sdrcrm/prepared.py) ---------------------------

def prepared_on_server() -> list[str]:
    """The statements this connection has prepared, as PostgreSQL holds them."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE name LIKE 'sdrcrm_%'")
        return [row[0] for row in cursor.fetchall()]


@pytest.fixture
def postgres() -> None:
    require(on_postgres(), "CI must test the PostgreSQL backend", "the backend is PostgreSQL's (DATABASE_URL=postgres://…)")


def test_a_marked_statement_is_prepared_once_then_executed(postgres):
    from leads.queries import lead_by_email

    lead = LeadFactory(email="prepared@acme.example")
    assert lead_by_email("prepared@acme.example").pk == lead.pk
    before = prepared_on_server()
    with CaptureQueriesContext(connection) as queries:
        for _ in range(2):
            assert lead_by_email("prepared@acme.example").pk == lead.pk
        assert lead_by_email("nobody@acme.example") is None

    assert prepared_on_server() == before  # prepared by the first call, executed by the others
    assert len([s for s in before if "FROM leads_lead WHERE email = $1)" in s]) == 1
    # What Django records is the statement with its values, not the EXECUTE that ran it.
    assert "WHERE email = 'nobody@acme.example')" in queries.captured_queries[-1]["sql"]
    assert len(queries.captured_queries) == 3


def test_a_statement_stays_prepared_after_a_rollback_and_an_error(postgres):
    from django.db import IntegrityError, transaction

    from leads.models import Activity
    from sdrcrm.bulk_insert import insert_one

    lead = LeadFactory(email="taken@acme.example")
    with pytest.raises(IntegrityError):  # prepared, then the statement fails (a NOT NULL column)
        with transaction.atomic():
            insert_one(Activity(lead=lead, type=None, occurred_at=lead.created_at))
    before = prepared_on_server()
    assert [s for s in before if 'AS INSERT INTO "leads_activity"' in s]
    with transaction.atomic():  # the name is still there: PREPARE outlives the rolled-back transaction
        activity = Activity(lead=lead, type="webinar", occurred_at=lead.created_at)
        insert_one(activity)
    assert Activity.objects.get(pk=activity.pk).type == "webinar"
    assert prepared_on_server() == before


def test_a_new_connection_prepares_its_statements_again(postgres):
    from leads.queries import lead_by_email

    lead = LeadFactory(email="again@acme.example")
    assert lead_by_email("again@acme.example").pk == lead.pk
    kept = connections.create_connection("default")  # another process's connection
    try:
        kept.ensure_connection()
        with kept.cursor() as cursor:
            cursor.execute(Prepared("SELECT email FROM leads_lead WHERE email = %s"), ["again@acme.example"])
            # The test's rows are not committed: the other connection does not see them,
            # but it ran the statement it had to prepare for itself.
            assert cursor.fetchall() == []
            cursor.execute("SELECT count(*) FROM pg_prepared_statements")
            assert cursor.fetchone() == (1,)
    finally:
        kept.close()


def test_a_literal_percent_in_a_marked_statement_survives(postgres):
    with connection.cursor() as cursor:
        for _ in range(2):
            cursor.execute(Prepared("SELECT %s::int, '100%%', %s::text"), [7, "x"])
            assert cursor.fetchone() == (7, "100%", "x")


# --- A transaction's BEGIN goes with its first statement --------------------------------


def transaction_status(wrapper) -> int:
    return wrapper.connection.info.transaction_status


def count_rows(wrapper) -> int:
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM scratch")
        return cursor.fetchone()[0]


@pytest.fixture
def scratch(other):
    """`other`, with a table of its own (a temporary one: only it sees it, and it goes
    with the connection)."""
    with other.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE scratch (n integer)")
    return other


def test_a_transaction_begins_with_its_first_statement_in_the_same_message(scratch):
    pid = scratch.connection.get_backend_pid()
    scratch.set_autocommit(False)  # what atomic() does first: nothing is sent yet
    assert transaction_status(scratch) == psycopg2.extensions.TRANSACTION_STATUS_IDLE

    with scratch.cursor() as cursor:
        cursor.execute("INSERT INTO scratch VALUES (1)")
        assert last_statement(pid) == "BEGIN; INSERT INTO scratch VALUES (1)"  # one round trip
        assert transaction_status(scratch) == psycopg2.extensions.TRANSACTION_STATUS_INTRANS
        cursor.execute(Prepared("INSERT INTO scratch VALUES (%s)"), [2])  # later ones as they are
    assert scratch.connection.autocommit  # so psycopg2 sends no BEGIN of its own
    scratch.rollback()
    assert count_rows(scratch) == 0  # both undone: they were one transaction

    scratch.set_autocommit(False)
    with scratch.cursor() as cursor:
        cursor.execute(Prepared("INSERT INTO scratch VALUES (%s)"), [3])  # its PREPARE carries the BEGIN
    scratch.commit()
    scratch.set_autocommit(True)
    assert count_rows(scratch) == 1
    assert transaction_status(scratch) == psycopg2.extensions.TRANSACTION_STATUS_IDLE


def test_a_statement_prepared_before_starts_the_transaction_it_comes_first_in(scratch):
    """A statement prepared by an earlier transaction is sent as EXECUTE alone: the BEGIN
    goes with it too (it did not: every ingest after a connection's first ran its
    statements each in a transaction of its own, their row locks released at once)."""
    pid = scratch.connection.get_backend_pid()
    insert = Prepared("INSERT INTO scratch VALUES (%s)")
    for n in (1, 2):
        scratch.set_autocommit(False)
        with scratch.cursor() as cursor:
            cursor.execute(insert, [n])  # the first time prepared, the second only executed
            assert transaction_status(scratch) == psycopg2.extensions.TRANSACTION_STATUS_INTRANS
        scratch.rollback()
        scratch.set_autocommit(True)
        assert count_rows(scratch) == 0
    scratch.set_autocommit(False)
    with scratch.cursor() as cursor:
        cursor.execute(insert, [3])
    assert last_statement(pid) == "BEGIN; EXECUTE sdrcrm_1(3)"  # one message, as a statement sent as text
    scratch.rollback()
    scratch.set_autocommit(True)


def test_a_transaction_with_nothing_sent_ends_without_a_statement(scratch):
    pid = scratch.connection.get_backend_pid()
    with scratch.cursor() as cursor:
        cursor.execute("SELECT 'the last one'")
    scratch.set_autocommit(False)
    scratch.commit()
    scratch.rollback()
    scratch.set_autocommit(True)
    assert last_statement(pid) == "SELECT 'the last one'"


def test_after_an_error_the_transaction_rolls_back_and_the_next_one_starts_afresh(scratch):
    scratch.set_autocommit(False)
    with scratch.cursor() as cursor:
        cursor.execute("INSERT INTO scratch VALUES (1)")
        with pytest.raises(DataError):
            cursor.execute("INSERT INTO scratch VALUES ('not a number')")
    assert transaction_status(scratch) == psycopg2.extensions.TRANSACTION_STATUS_INERROR
    scratch.rollback()
    with scratch.cursor() as cursor:
        cursor.execute("INSERT INTO scratch VALUES (2)")
    scratch.commit()
    scratch.set_autocommit(True)
    with scratch.cursor() as cursor:
        cursor.execute("SELECT array_agg(n) FROM scratch")
        assert cursor.fetchone()[0] == [2]


def test_what_psycopg2_sends_itself_is_inside_the_transaction_too(scratch):
    scratch.set_autocommit(False)
    with scratch.cursor() as cursor:  # executemany and COPY, the transaction's first statements
        cursor.executemany("INSERT INTO scratch VALUES (%s)", [(1,), (2,)])
    scratch.rollback()
    with scratch.cursor() as cursor:
        cursor.copy_expert("COPY scratch FROM STDIN", io.StringIO("3\n4\n"))
    scratch.rollback()
    cursor = scratch.create_cursor("server_side")  # a server-side cursor's DECLARE
    cursor.execute("SELECT n FROM scratch")
    assert cursor.fetchall() == []
    assert transaction_status(scratch) == psycopg2.extensions.TRANSACTION_STATUS_INTRANS  # declared in one
    cursor.close()
    scratch.rollback()
    scratch.set_autocommit(True)
    assert count_rows(scratch) == 0


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "logging queries"])
def test_fetches_and_close_are_the_wrappers_own_and_translate_errors(postgres, debug):
    connection.force_debug_cursor = debug
    try:
        with connection.cursor() as cursor:
            assert isinstance(cursor, DirectFetches)  # not found through CursorWrapper.__getattr__
            cursor.execute("SELECT n FROM generate_series(1, 5) AS n")
            assert cursor.fetchone() == (1,)
            assert cursor.fetchmany(2) == [(2,), (3,)] and cursor.fetchmany(size=1) == [(4,)]
            assert cursor.fetchall() == [(5,)]
            cursor.execute("SET search_path = public")  # no rows: psycopg2 refuses a fetch
            with pytest.raises(ProgrammingError):  # Django's error, as the wrapped fetch gave
                cursor.fetchone()
            with pytest.raises(ProgrammingError):
                cursor.fetchall()
        assert cursor.cursor.closed  # closed on leaving the block
    finally:
        connection.force_debug_cursor = False


def test_an_async_context_is_refused_a_cursor_and_a_connection_as_by_django(postgres):
    wrapper = connection  # this thread's, already connected by the test's transaction
    assert wrapper.connection is not None

    async def in_a_loop() -> list[str]:
        refused = []
        for call in (wrapper.cursor, wrapper.ensure_connection):
            try:
                call()
            except SynchronousOnlyOperation:
                refused.append(call.__name__)
        return refused

    assert asyncio.run(in_a_loop()) == ["cursor", "ensure_connection"]
    with wrapper.cursor() as cursor:  # and outside one, as always
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
