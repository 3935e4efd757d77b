"""The company's calendar: its time zone (COMPANY_TIME_ZONE, default UTC), in which an
opportunity is accepted or qualified on a day and the SAO dashboard counts its months."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings


def zone() -> ZoneInfo:
    return ZoneInfo(settings.COMPANY_TIME_ZONE)


def day_of(moment: datetime) -> date:
    """The day `moment` falls on in the company's time zone."""
    return moment.astimezone(zone()).date()


def start_of(day: date) -> datetime:
    """The instant `day` begins in the company's time zone."""
    return datetime.combine(day, time.min, tzinfo=zone())
