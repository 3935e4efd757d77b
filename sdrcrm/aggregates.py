"""Two SQL expressions Django lacks, for figures counted by the database rather than by
reading every row into Python (the SAO dashboard's funnel): the days between two dates,
and the median of a column.

PostgreSQL has both (`date - date`, `percentile_cont`); SQLite is given a MEDIAN aggregate
when it connects (`register_sqlite`, connected in sdrcrm/apps.py), as Django gives it the
functions its own expressions need. Both count the median as `statistics.median` does:
nulls left out, the mean of the two middle values when there is an even number."""

from __future__ import annotations

import statistics
from typing import Any

from django.db.models import Aggregate, FloatField, Func, IntegerField


class DaysBetween(Func):
    """`later` − `earlier`, two dates, in whole days (null when either is)."""

    arity = 2
    output_field = IntegerField()
    template = "(%(expressions)s)"
    arg_joiner = " - "

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        return self.as_sql(compiler, connection, template="CAST(julianday(%(expressions)s) AS INTEGER)",
                           arg_joiner=") - julianday(", **extra)


class Median(Aggregate):
    """The median of a number over the group's rows, nulls left out (null when none is left)."""

    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        return self.as_sql(compiler, connection, function="MEDIAN", template="%(function)s(%(expressions)s)", **extra)


class _SqliteMedian:
    def __init__(self) -> None:
        self.values: list[float] = []

    def step(self, value: float | None) -> None:
        if value is not None:
            self.values.append(value)

    def finalize(self) -> float | None:
        return statistics.median(self.values) if self.values else None


def register_sqlite(sender: Any, connection: Any, **kwargs: Any) -> None:
    """`connection_created` receiver: SQLite's MEDIAN."""
    if connection.vendor == "sqlite":
        connection.connection.create_aggregate("MEDIAN", 1, _SqliteMedian)


def whole(days: float | None) -> float | int | None:
    """A median of days as `statistics.median` gives it: whole days as an int."""
    return int(days) if days is not None and days == int(days) else days
