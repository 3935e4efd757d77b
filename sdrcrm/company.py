"""The company's calendar: its time zone (COMPANY_TIME_ZONE, default UTC), in which an
opportunity is accepted or qualified on a day and the SAO dashboard counts its months."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q


def zone() -> ZoneInfo:
    return ZoneInfo(settings.COMPANY_TIME_ZONE)


def day_of(moment: datetime) -> date:
    """The day `moment` falls on in the company's time zone."""
    return moment.astimezone(zone()).date()


def start_of(day: date) -> datetime:
    """The instant `day` begins in the company's time zone."""
    return datetime.combine(day, time.min, tzinfo=zone())


def on_days(field: str, first: date | None, last: date | None) -> Q:
    """`field` (a moment) falls on the days `first` to `last` (either may be open) in the
    company's calendar."""
    condition = Q()
    if first:
        condition &= Q(**{f"{field}__gte": start_of(first)})
    if last:
        condition &= Q(**{f"{field}__lt": start_of(last + timedelta(days=1))})
    return condition
