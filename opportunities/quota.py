"""The SAO quota's arithmetic (docs/rules.md §4.6), a pure engine: dates in, numbers out.

A period is a calendar month or quarter (in the company's time zone; the caller gives
dates in it). An SDR's quota for a month is their monthly SAO quota times the ramp share
of that month, counted from the month of their ramp start: month 1 nothing, month 2 half,
month 3 on all of it (a month before they started: nothing); a quarter's quota is the sum
of its months'. Attainment is SAOs over quota; the projection carries the pace so far
(SAOs per working day elapsed) over the period's working days, the SDR's region's
holidays skipped. Exact fractions throughout; the faces round."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

MONTH, QUARTER = "month", "quarter"
PERIODS = (MONTH, QUARTER)
RAMP = (Fraction(0), Fraction(1, 2))  # the share of the quota in ramp months 1 and 2; then all of it


@dataclass(frozen=True)
class Period:
    kind: str
    first: date
    last: date  # inclusive

    @property
    def months(self) -> list[date]:
        """The first day of each of its months."""
        months, month = [], self.first
        while month <= self.last:
            months.append(month)
            month = _next_month(month)
        return months

    @property
    def label(self) -> str:
        if self.kind == QUARTER:
            return f"Q{(self.first.month - 1) // 3 + 1} {self.first.year}"
        return f"{self.first:%B %Y}"

    def previous(self) -> Period:
        return period_of(self.kind, self.first - timedelta(days=1))

    def next(self) -> Period:
        return period_of(self.kind, self.last + timedelta(days=1))


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def period_of(kind: str, day: date) -> Period:
    """The month or calendar quarter that holds `day`."""
    if kind not in PERIODS:
        raise ValueError(f"period is one of {', '.join(PERIODS)}")
    first = date(day.year, day.month if kind == MONTH else (day.month - 1) // 3 * 3 + 1, 1)
    end = _next_month(first)
    if kind == QUARTER:
        end = _next_month(_next_month(end))
    return Period(kind, first, end - timedelta(days=1))


def ramp_month(ramp_start: date | None, month: date) -> int | None:
    """Which month of their ramp `month` is (1 for the month they started); None without a ramp start."""
    if ramp_start is None:
        return None
    return (month.year - ramp_start.year) * 12 + month.month - ramp_start.month + 1


def ramp_share(ramp_start: date | None, month: date) -> Fraction:
    """The share of the monthly quota that counts in `month`."""
    number = ramp_month(ramp_start, month)
    if number is None:
        return Fraction(1)
    if number < 1:
        return Fraction(0)
    return RAMP[number - 1] if number <= len(RAMP) else Fraction(1)


def quota(monthly: int, ramp_start: date | None, period: Period) -> Fraction:
    return sum((monthly * ramp_share(ramp_start, month) for month in period.months), Fraction(0))


def attainment(actual: int, target: Fraction) -> Fraction | None:
    """SAOs over quota (1 = 100 %); None when there is no quota to attain."""
    return Fraction(actual) / target if target else None


def working_days(first: date, last: date, is_working: Callable[[date], bool]) -> int:
    """The days from `first` to `last` (inclusive) that `is_working` counts."""
    return sum(1 for n in range((last - first).days + 1) if is_working(first + timedelta(days=n)))


def projection(actual: int, period: Period, today: date, is_working: Callable[[date], bool]) -> Fraction:
    """What the period ends at if the pace so far holds: SAOs per working day elapsed
    (today included) times the period's working days. A period over is what it was; one
    not begun, or with no working day elapsed yet, projects what it has."""
    if today >= period.last or today < period.first:
        return Fraction(actual)
    elapsed = working_days(period.first, today, is_working)
    if elapsed == 0:
        return Fraction(actual)
    return Fraction(actual * working_days(period.first, period.last, is_working), elapsed)


def per_working_day(count: int, period: Period, today: date, is_working: Callable[[date], bool]) -> Fraction:
    """`count` over the period's working days elapsed (all of them once it is over)."""
    days = working_days(period.first, min(today, period.last), is_working)
    return Fraction(count, days) if days else Fraction(0)
