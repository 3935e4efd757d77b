"""Scoring's hand-written SQL: every ingested activity re-scores its person, reading their
activities and ledger sums, and the ORM compiled these (the GROUP BY above all) slower
than the database ran them. sdrcrm.rows converts what they read."""

from __future__ import annotations

from typing import Any

from django.db import connection

from leads.models import Activity
from sdrcrm import rows

from .models import ScoreEntry

ACTIVITY_COLUMNS = ("id", "type", "occurred_at", "details")


def activities_of(person_field: str, person_id: int) -> list[list[Any]]:
    """The person's activities as ACTIVITY_COLUMNS rows; `person_field`: lead or contact."""
    column = connection.ops.quote_name(Activity._meta.get_field(person_field).column)
    return rows.fetch(Activity, ACTIVITY_COLUMNS, f"SELECT {', '.join(ACTIVITY_COLUMNS)} FROM leads_activity"
                      f" WHERE {column} = %s", [person_id])


def ledger_sums(person_field: str, person_id: int) -> list[list[Any]]:
    """(rule, activity, points) summed over the person's ledger."""
    column = connection.ops.quote_name(ScoreEntry._meta.get_field(person_field).column)
    return rows.fetch(ScoreEntry, ("rule_key", "activity_id", "points"),
                      f"SELECT rule_key, activity_id, SUM(points) FROM scoring_scoreentry WHERE {column} = %s"
                      " GROUP BY rule_key, activity_id", [person_id])
