"""The SLA clock's calendar (docs/rules.md §2), pure: business-day arithmetic per sales region.
No database here; routing/jobs.py starts, stops and checks the clock.

A business day is a whole local calendar day, Monday to Friday, that is not a public
holiday of the region's calendar. Business *hours* are not modelled: a lead that
arrives at 19:00 on a Tuesday is due at 19:00 on Wednesday, because SDRs cover their
own evenings and the SLA promises "within one business day", not "within 8 working
hours".

Region calendars (the owner's region decides, docs/rules.md §2 "follow the owner's region"):

| region | time zone           | public holidays                                   |
|--------|---------------------|---------------------------------------------------|
| amer   | America/New_York    | United States, federal (observed days included)   |
| emea   | Europe/London       | United Kingdom, England & Wales bank holidays     |
| apac   | Australia/Sydney    | Australia, national + New South Wales             |

EMEA takes one country's calendar, not a union: a union of the large EMEA countries
would stop the clock on a dozen extra days (Ascension, Whit Monday, 1 May, national
days) on which most of the EMEA team works. Any other region (blank or unknown) counts
weekdays in UTC with no holidays.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

# The requests that start the clock, and the touches (docs/rules.md §1's 0-point activities) that stop it.
SLA_REQUESTS = frozenset({"contact_request", "professional_services_request"})
FOLLOW_UP_TYPES = frozenset({"call", "email_sent", "linkedin_message", "meeting", "sequence_reply", "web_chat"})


@dataclass(frozen=True)
class Calendar:
    zone: tzinfo
    country: str = ""  # ISO code for `holidays`; blank = weekends only
    subdiv: str | None = None


CALENDARS: dict[str, Calendar] = {
    "amer": Calendar(ZoneInfo("America/New_York"), "US"),
    "emea": Calendar(ZoneInfo("Europe/London"), "GB", "ENG"),
    "apac": Calendar(ZoneInfo("Australia/Sydney"), "AU", "NSW"),
}
FALLBACK = Calendar(UTC)


def calendar_for(region: str) -> Calendar:
    return CALENDARS.get(region, FALLBACK)


@lru_cache(maxsize=64)
def _holidays(country: str, subdiv: str | None, year: int) -> frozenset[date]:
    # A frozen set per (calendar, year): the `holidays` objects grow on lookup, a set does not.
    if not country:
        return frozenset()
    return frozenset(holidays.country_holidays(country, subdiv=subdiv, years=year).keys())


def is_business_day(day: date, region: str) -> bool:
    cal = calendar_for(region)
    return day.weekday() < 5 and day not in _holidays(cal.country, cal.subdiv, day.year)


def next_business_day(day: date, region: str) -> date:
    """The first business day strictly after `day`."""
    day += timedelta(days=1)
    while not is_business_day(day, region):
        day += timedelta(days=1)
    return day


def add_business_days(start: datetime, days: int, region: str) -> datetime:
    """The moment `days` business days after `start`, in the region's time zone.

    - On a business day the result is the same local wall-clock time on the `days`-th
      next business day: Friday 16:00 New York + 1 → Monday 16:00 New York (Tuesday
      16:00 when Monday is a holiday). Across a DST change the wall-clock time is kept,
      so the elapsed hours differ by one.
    - A start on a weekend or holiday counts from 00:00 of the next business day:
      Saturday 10:00 + 1 → 00:00 of the business day after Monday, i.e. "by the end of
      Monday".
    - `days=0` returns `start` on a business day, else 00:00 of the next business day.

    `start` must be time-zone aware; the result is aware, in the region's zone.
    """
    if start.tzinfo is None:
        raise ValueError("add_business_days needs an aware datetime.")
    if days < 0:
        raise ValueError("add_business_days counts forwards only.")
    cal = calendar_for(region)
    local = start.astimezone(cal.zone)
    day, clock = local.date(), local.time().replace(tzinfo=None)
    if not is_business_day(day, region):
        day, clock = next_business_day(day, region), time(0)
    for _ in range(days):
        day = next_business_day(day, region)
    result = datetime.combine(day, clock, tzinfo=cal.zone)
    # Normalise a wall-clock time that a DST jump skipped (never on a weekday in these zones).
    return result.astimezone(UTC).astimezone(cal.zone)
