"""sdrcrm.database.default_connection: what `connections["default"]` gives, in every
thread and in a running event loop, without asgiref's exceptions where no loop runs."""

from __future__ import annotations

import asyncio
import threading

import pytest
from django.db import connections

from sdrcrm.database import default_connection


def test_it_is_this_threads_connection():
    assert default_connection() is connections["default"]
    theirs: list[object] = []

    def other_thread() -> None:
        theirs.extend([default_connection(), connections["default"]])
        connections["default"].close()

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()
    assert theirs[0] is theirs[1] and theirs[0] is not default_connection()


def test_in_a_running_event_loop_it_is_what_connections_gives_there():
    async def both() -> tuple[object, object]:
        return default_connection(), connections["default"]

    mine, theirs = asyncio.run(both())
    assert mine is theirs and mine is not default_connection()  # the loop's context has its own


def test_a_thread_that_has_none_yet_gets_one_made():
    made: list[object] = []

    def fresh_thread() -> None:
        made.append(default_connection())
        made.append(connections["default"])

    thread = threading.Thread(target=fresh_thread)
    thread.start()
    thread.join()
    assert made[0] is made[1] and made[0].alias == "default"


@pytest.mark.django_db
def test_its_connection_runs_statements():
    with default_connection().cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
