"""The SLA calendar (routing/sla.py): business days per region, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from routing.sla import add_business_days, is_business_day

NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
SYDNEY = ZoneInfo("Australia/Sydney")


def test_friday_afternoon_in_new_york_is_due_monday_at_the_same_time():
    due = add_business_days(datetime(2026, 11, 20, 16, 0, tzinfo=NEW_YORK), 1, "amer")
    assert due == datetime(2026, 11, 23, 16, 0, tzinfo=NEW_YORK)


def test_a_weekday_arrival_is_due_the_next_day_at_the_same_time():
    due = add_business_days(datetime(2026, 11, 17, 19, 30, tzinfo=NEW_YORK), 1, "amer")
    assert due == datetime(2026, 11, 18, 19, 30, tzinfo=NEW_YORK)


def test_a_saturday_arrival_counts_from_monday_morning_so_it_is_due_when_monday_ends():
    due = add_business_days(datetime(2026, 11, 21, 10, 0, tzinfo=NEW_YORK), 1, "amer")
    assert due == datetime(2026, 11, 24, 0, 0, tzinfo=NEW_YORK)


def test_the_start_is_read_in_the_regions_zone_not_utc():
    # Saturday 02:00 UTC is still Friday 21:00 in New York: a business day there.
    due = add_business_days(datetime(2026, 11, 21, 2, 0, tzinfo=UTC), 1, "amer")
    assert due == datetime(2026, 11, 23, 21, 0, tzinfo=NEW_YORK)


def test_thanksgiving_does_not_count_in_amer():
    assert not is_business_day(datetime(2026, 11, 26).date(), "amer")
    due = add_business_days(datetime(2026, 11, 25, 10, 0, tzinfo=NEW_YORK), 1, "amer")
    assert due == datetime(2026, 11, 27, 10, 0, tzinfo=NEW_YORK)


def test_an_observed_us_holiday_does_not_count():
    # 4 July 2026 is a Saturday; the federal holiday is observed on Friday 3 July.
    due = add_business_days(datetime(2026, 7, 2, 12, 0, tzinfo=NEW_YORK), 1, "amer")
    assert due == datetime(2026, 7, 6, 12, 0, tzinfo=NEW_YORK)


def test_a_uk_bank_holiday_does_not_count_in_emea():
    # Monday 31 August 2026 is the Late Summer Bank Holiday.
    due = add_business_days(datetime(2026, 8, 28, 9, 0, tzinfo=LONDON), 1, "emea")
    assert due == datetime(2026, 9, 1, 9, 0, tzinfo=LONDON)


def test_a_us_holiday_is_a_business_day_in_emea():
    due = add_business_days(datetime(2026, 11, 25, 10, 0, tzinfo=LONDON), 1, "emea")
    assert due == datetime(2026, 11, 26, 10, 0, tzinfo=LONDON)


def test_easter_in_apac_skips_good_friday_and_easter_monday():
    due = add_business_days(datetime(2026, 4, 2, 15, 0, tzinfo=SYDNEY), 1, "apac")
    assert due == datetime(2026, 4, 7, 15, 0, tzinfo=SYDNEY)


def test_across_the_end_of_dst_the_wall_clock_time_is_kept():
    # US clocks go back on Sunday 1 November 2026: Friday 16:00 EDT → Monday 16:00 EST.
    start = datetime(2026, 10, 30, 16, 0, tzinfo=NEW_YORK)
    due = add_business_days(start, 1, "amer")
    assert due == datetime(2026, 11, 2, 16, 0, tzinfo=NEW_YORK)
    assert due.astimezone(UTC) == datetime(2026, 11, 2, 21, 0, tzinfo=UTC)
    assert due.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=73)  # an hour longer than usual


def test_across_the_start_of_dst_in_london_the_wall_clock_time_is_kept():
    # UK clocks go forward on Sunday 29 March 2026.
    start = datetime(2026, 3, 27, 9, 0, tzinfo=LONDON)
    due = add_business_days(start, 1, "emea")
    assert due.astimezone(UTC) == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)


def test_several_days_skip_every_weekend_and_holiday_on_the_way():
    # Christmas week 2026 in England: 25 Dec (Fri) and 28 Dec (Boxing Day observed) are off.
    due = add_business_days(datetime(2026, 12, 24, 11, 0, tzinfo=LONDON), 2, "emea")
    assert due == datetime(2026, 12, 30, 11, 0, tzinfo=LONDON)


def test_zero_days_moves_a_weekend_start_to_the_next_business_morning():
    saturday = datetime(2026, 11, 21, 10, 0, tzinfo=NEW_YORK)
    assert add_business_days(saturday, 0, "amer") == datetime(2026, 11, 23, 0, 0, tzinfo=NEW_YORK)
    tuesday = datetime(2026, 11, 17, 10, 0, tzinfo=NEW_YORK)
    assert add_business_days(tuesday, 0, "amer") == tuesday


def test_an_unknown_region_counts_weekdays_in_utc_without_holidays():
    due = add_business_days(datetime(2026, 11, 25, 10, 0, tzinfo=UTC), 1, "")
    assert due == datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    assert add_business_days(datetime(2026, 11, 20, 10, 0, tzinfo=UTC), 1, "") == datetime(2026, 11, 23, 10, 0,
                                                                                          tzinfo=UTC)


def test_a_naive_start_or_negative_days_are_refused():
    with pytest.raises(ValueError, match="aware"):
        add_business_days(datetime(2026, 11, 20, 16, 0), 1, "amer")
    with pytest.raises(ValueError, match="forwards"):
        add_business_days(datetime(2026, 11, 20, 16, 0, tzinfo=UTC), -1, "amer")
