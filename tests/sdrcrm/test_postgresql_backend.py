"""The PostgreSQL backend (sdrcrm/postgresql/base.py): a kept connection is checked before
each request without a statement, and one the server closed is still found out and
replaced; a statement marked `Prepared` is prepared once per connection, then executed."""

from __future__ import annotations

import select
import time
from collections.abc import Iterator

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

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
