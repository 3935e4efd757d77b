"""Scoring's hand-written SQL: every ingested activity re-scores its person, reading their
activities and ledger sums, and the ORM compiled these (the GROUP BY above all) slower
than the database ran them. sdrcrm.rows converts what they read."""

from __future__ import annotations

from typing import Any

from django.db import connection

from leads.models import Activity
from sdrcrm import rows
from sdrcrm.prepared import Prepared

from .models import ScoreEntry

ACTIVITY_COLUMNS = ("id", "type", "occurred_at", "details")


def activities_of(person_field: str, person_id: int) -> list[list[Any]]:
    """The person's activities as ACTIVITY_COLUMNS rows; `person_field`: lead or contact."""
    column = connection.ops.quote_name(Activity._meta.get_field(person_field).column)
    return rows.fetch(Activity, ACTIVITY_COLUMNS, Prepared(f"SELECT {', '.join(ACTIVITY_COLUMNS)} FROM leads_activity"
                                                           f" WHERE {column} = %s"), [person_id])


def activities_and_ledger_sums(person_field: str, person_id: int) -> tuple[list[list[Any]], list[list[Any]]]:
    """activities_of and ledger_sums in one statement (a re-score after each activity reads
    both; one round trip less): each row tagged with the part it belongs to."""
    activity = connection.ops.quote_name(Activity._meta.get_field(person_field).column)
    ledger = connection.ops.quote_name(ScoreEntry._meta.get_field(person_field).column)
    with connection.cursor() as cursor:
        cursor.execute(Prepared(f"SELECT 0, {', '.join(ACTIVITY_COLUMNS)}, NULL FROM leads_activity"
                                f" WHERE {activity} = %s UNION ALL SELECT 1, activity_id, rule_key, NULL, NULL,"
                                f" SUM(points) FROM scoring_scoreentry WHERE {ledger} = %s GROUP BY rule_key,"
                                " activity_id"), [person_id, person_id])
        found = cursor.fetchall()
    activities = [list(row[1:5]) for row in found if row[0] == 0]
    sums = [[row[2], row[1], row[5]] for row in found if row[0] == 1]
    return rows.convert(Activity, ACTIVITY_COLUMNS, activities), rows.convert(ScoreEntry, LEDGER_COLUMNS, sums)


LEDGER_COLUMNS = ("rule_key", "activity_id", "points")


def ledger_sums(person_field: str, person_id: int) -> list[list[Any]]:
    """(rule, activity, points) summed over the person's ledger."""
    column = connection.ops.quote_name(ScoreEntry._meta.get_field(person_field).column)
    return rows.fetch(ScoreEntry, LEDGER_COLUMNS,
                      Prepared(f"SELECT rule_key, activity_id, SUM(points) FROM scoring_scoreentry WHERE {column} = %s"
                               " GROUP BY rule_key, activity_id"), [person_id])
