"""A crontab that keeps its own time zone, whatever CELERY_TIMEZONE says.

Celery evaluates a crontab in the app's time zone (`schedule.tz`, from CELERY_TIMEZONE).
The nightly jobs are set in business time zones instead (docs/rules.md §3: 22:30 New York, 00:05
Los Angeles), and must keep firing at that wall-clock time across daylight saving.
`ZonedCrontab` pins `tz` to its own zone and reads both clocks in it:

- `tz` is what Celery 5.5+ converts `now` and `last_run_at` into before it matches the
  minute and hour fields, and the zone of the next-run arithmetic (wall-clock, so 22:30
  stays 22:30 when the offset changes);
- `now()` and `remaining_delta` convert into the zone themselves too, which is what older
  Celery releases (which matched fields against whatever zone `last_run_at` carried) need;
- `remaining_estimate` takes the difference in UTC, as Celery 5.5+ does: older releases
  subtracted wall-clock times, an hour off on the night the offset changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from celery.schedules import crontab
from celery.utils.time import ffwd

Cronspec = int | str | Iterable[int]


class ZonedCrontab(crontab):
    """`crontab(minute=30, hour=22)` at 22:30 in `tz` (an IANA name)."""

    def __init__(self, minute: Cronspec = "*", hour: Cronspec = "*", day_of_week: Cronspec = "*",
                 day_of_month: Cronspec = "*", month_of_year: Cronspec = "*", tz: str = "UTC",
                 **kwargs: Any) -> None:
        super().__init__(minute, hour, day_of_week, day_of_month, month_of_year, **kwargs)
        self.zone_name = tz
        self.zone = ZoneInfo(tz)

    @property  # type: ignore[override]
    def tz(self) -> tzinfo:
        return self.zone

    def now(self) -> datetime:
        return self.maybe_make_aware(super().now()).astimezone(self.zone)

    def remaining_delta(self, last_run_at: datetime, tz: Any = None, **kwargs: Any) -> Any:
        last_run_at = self.maybe_make_aware(last_run_at).astimezone(self.zone)
        return super().remaining_delta(last_run_at, tz=self.zone, **kwargs)

    def remaining_estimate(self, last_run_at: datetime, ffwd: type = ffwd) -> timedelta:
        start, ends_in, now = self.remaining_delta(last_run_at, ffwd=ffwd)
        return (start + ends_in).astimezone(UTC) - now.astimezone(UTC)

    def __reduce__(self) -> tuple[type, tuple[Any, ...], Any]:
        # Beat pickles its entries into the schedule file; the zone must survive that.
        return (self.__class__, (self._orig_minute, self._orig_hour, self._orig_day_of_week,
                                 self._orig_day_of_month, self._orig_month_of_year, self.zone_name),
                self._orig_kwargs)

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, ZonedCrontab):
            return self.zone_name == other.zone_name and super().__eq__(other)
        if isinstance(other, crontab):
            return False
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{super().__repr__()[:-1]} {self.zone_name}>"
