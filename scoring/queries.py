"""Scoring's hand-written SQL: every ingested activity re-scores its person, reading their
activities and ledger sums, and the ORM compiled these (the GROUP BY above all) slower
than the database ran them. sdrcrm.rows converts what they read."""

from __future__ import annotations

from typing import Any

from leads.models import Activity
from sdrcrm import bulk_insert, rows
from sdrcrm.database import default_connection
from sdrcrm.prepared import Prepared

from .models import ScoreEntry

ACTIVITY_COLUMNS = ("id", "type", "occurred_at", "details")
Read = tuple[list[list[Any]], list[list[Any]]]  # a person's activities (ACTIVITY_COLUMNS) and ledger sums


def activities_of(person_field: str, person_id: int) -> list[list[Any]]:
    """The person's activities as ACTIVITY_COLUMNS rows; `person_field`: lead or contact."""
    connection = default_connection()
    column = connection.ops.quote_name(Activity._meta.get_field(person_field).column)
    return rows.fetch(Activity, ACTIVITY_COLUMNS, Prepared(f"SELECT {', '.join(ACTIVITY_COLUMNS)} FROM leads_activity"
                                                           f" WHERE {column} = %s"), [person_id])


def activities_and_ledger_sums(person_field: str, person_id: int) -> Read:
    """activities_of and ledger_sums in one statement (a re-score after each activity reads
    both; one round trip less): each row tagged with the part it belongs to."""
    connection = default_connection()
    with connection.cursor() as cursor:
        cursor.execute(Prepared(_read_both(person_field)), [person_id, person_id])
        return _parts(cursor.fetchall())


def insert_activity_and_read(activity: Activity) -> Read:
    """insert_one(activity), then activities_and_ledger_sums of its person, the new
    activity among them: one statement on PostgreSQL (each ingested activity re-scores its
    person), whose read cannot see the row its WITH inserts, so the row comes from the
    INSERT's own RETURNING, after the others, where the table would list it. Sets the
    activity's id."""
    connection = default_connection()
    field = "lead" if activity.lead_id is not None else "contact"
    person_id = getattr(activity, f"{field}_id")
    insert = bulk_insert.insert_statement(activity)
    if insert is None:
        bulk_insert.insert_one(activity)
        return activities_and_ledger_sums(field, person_id)
    sql, values = insert
    with connection.cursor() as cursor:
        cursor.execute(Prepared(f"WITH new AS ({sql} RETURNING {', '.join(ACTIVITY_COLUMNS)}) {_read_both(field)}"
                                f" UNION ALL SELECT 2, {', '.join(ACTIVITY_COLUMNS)}, NULL FROM new"),
                       [*values, person_id, person_id])
        found = cursor.fetchall()
    activity.pk = next(row[1] for row in found if row[0] == 2)
    activity._state.adding, activity._state.db = False, connection.alias
    return _parts(found)


def _read_both(person_field: str) -> str:
    connection = default_connection()
    activity = connection.ops.quote_name(Activity._meta.get_field(person_field).column)
    ledger = connection.ops.quote_name(ScoreEntry._meta.get_field(person_field).column)
    return (f"SELECT 0, {', '.join(ACTIVITY_COLUMNS)}, NULL FROM leads_activity WHERE {activity} = %s"
            f" UNION ALL SELECT 1, activity_id, rule_key, NULL, NULL, SUM(points) FROM scoring_scoreentry"
            f" WHERE {ledger} = %s GROUP BY rule_key, activity_id")


def _parts(found: list[tuple[Any, ...]]) -> Read:
    """(activities, ledger sums) of a read tagged 0 (or 2, the new activity) and 1."""
    activities = [list(row[1:5]) for row in found if row[0] != 1]
    sums = [[row[2], row[1], row[5]] for row in found if row[0] == 1]
    return rows.convert(Activity, ACTIVITY_COLUMNS, activities), rows.convert(ScoreEntry, LEDGER_COLUMNS, sums)


LEDGER_COLUMNS = ("rule_key", "activity_id", "points")


def ledger_sums(person_field: str, person_id: int) -> list[list[Any]]:
    """(rule, activity, points) summed over the person's ledger."""
    connection = default_connection()
    column = connection.ops.quote_name(ScoreEntry._meta.get_field(person_field).column)
    return rows.fetch(ScoreEntry, LEDGER_COLUMNS,
                      Prepared(f"SELECT rule_key, activity_id, SUM(points) FROM scoring_scoreentry WHERE {column} = %s"
                               " GROUP BY rule_key, activity_id"), [person_id])
