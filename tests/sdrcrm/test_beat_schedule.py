"""The nightly jobs fire at their business wall-clock time, in winter and in summer, and
whatever CELERY_TIMEZONE says (sdrcrm/schedules.py)."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from celery import Celery
from django.conf import settings

from sdrcrm.jobs import JOBS
from sdrcrm.schedules import ZonedCrontab

NEW_YORK = ZoneInfo("America/New_York")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
MINUTE = timedelta(minutes=1)


def schedule_of(name: str, clock: datetime, app: Celery | None = None) -> ZonedCrontab:
    """A copy of the configured schedule reading a fixed clock."""
    schedule = pickle.loads(pickle.dumps(settings.CELERY_BEAT_SCHEDULE[name]["schedule"]))
    schedule.nowfun = lambda: clock
    if app is not None:
        schedule.app = app
    return schedule


# (job, local run time, UTC instant of that run time) in January (standard time) and July (daylight time).
CASES = [
    ("inquiry_queue", datetime(2026, 1, 15, 22, 30, tzinfo=NEW_YORK), datetime(2026, 1, 16, 3, 30, tzinfo=UTC)),
    ("inquiry_queue", datetime(2026, 7, 15, 22, 30, tzinfo=NEW_YORK), datetime(2026, 7, 16, 2, 30, tzinfo=UTC)),
    ("spam_deletion", datetime(2026, 1, 15, 0, 5, tzinfo=LOS_ANGELES), datetime(2026, 1, 15, 8, 5, tzinfo=UTC)),
    ("spam_deletion", datetime(2026, 7, 15, 0, 5, tzinfo=LOS_ANGELES), datetime(2026, 7, 15, 7, 5, tzinfo=UTC)),
]


@pytest.mark.parametrize(("name", "local", "utc"), CASES)
def test_the_job_is_due_at_its_local_time_and_not_a_minute_before(name, local, utc):
    assert local == utc  # the table is right: the same instant
    last_run = utc - timedelta(days=1)  # yesterday's run

    before = schedule_of(name, utc - MINUTE)
    assert before.is_due(last_run) == (False, 60.0)
    assert before.remaining_estimate(last_run) == MINUTE

    on_time = schedule_of(name, utc)
    due, next_check = on_time.is_due(last_run)
    assert due is True and next_check == pytest.approx(86400, abs=3600)
    assert on_time.remaining_estimate(last_run) <= timedelta(0)


@pytest.mark.parametrize(("name", "local", "utc"), CASES)
def test_after_running_the_next_run_is_the_next_local_evening(name, local, utc):
    schedule = schedule_of(name, utc + MINUTE)
    tomorrow = (local + timedelta(days=1)).astimezone(UTC)  # same wall time: DST is months away
    assert schedule.is_due(utc) == (False, (tomorrow - utc - MINUTE).total_seconds())


def test_the_evening_run_keeps_its_wall_clock_time_across_the_spring_change():
    # Daylight saving starts on Sunday 8 March 2026 in New York: 22:30 moves from 03:30 to 02:30 UTC.
    saturday = datetime(2026, 3, 7, 22, 30, tzinfo=NEW_YORK)
    sunday = datetime(2026, 3, 8, 22, 30, tzinfo=NEW_YORK).astimezone(UTC)
    assert sunday == datetime(2026, 3, 9, 2, 30, tzinfo=UTC)

    assert schedule_of("inquiry_queue", sunday - MINUTE).is_due(saturday.astimezone(UTC)).is_due is False
    assert schedule_of("inquiry_queue", sunday).is_due(saturday.astimezone(UTC)).is_due is True


def test_the_app_time_zone_does_not_move_them():
    tokyo = Celery("tokyo", set_as_current=False)
    tokyo.conf.timezone = "Asia/Tokyo"
    utc = datetime(2026, 1, 16, 3, 30, tzinfo=UTC)
    last_run = utc - timedelta(days=1)

    assert schedule_of("inquiry_queue", utc - MINUTE, app=tokyo).is_due(last_run).is_due is False
    assert schedule_of("inquiry_queue", utc, app=tokyo).is_due(last_run).is_due is True


def test_a_last_run_stored_in_another_zone_is_read_as_the_same_instant():
    utc = datetime(2026, 7, 16, 2, 30, tzinfo=UTC)
    last_run_in_tokyo = (utc - timedelta(days=1)).astimezone(ZoneInfo("Asia/Tokyo"))
    assert schedule_of("inquiry_queue", utc - MINUTE).is_due(last_run_in_tokyo).is_due is False
    assert schedule_of("inquiry_queue", utc).is_due(last_run_in_tokyo).is_due is True


def test_the_zone_survives_beats_schedule_file():
    schedule = settings.CELERY_BEAT_SCHEDULE["spam_deletion"]["schedule"]
    copy = pickle.loads(pickle.dumps(schedule))
    assert copy == schedule and copy.zone_name == "America/Los_Angeles"
    assert copy != ZonedCrontab(minute=5, hour=0, tz="America/New_York")
    assert "America/Los_Angeles" in repr(copy)


@pytest.mark.parametrize("name", ["inquiry_queue", "spam_deletion", "targeted_accounts", "trash_purge"])
def test_every_new_entry_runs_its_job_through_the_runner(name):
    entry = settings.CELERY_BEAT_SCHEDULE[name]
    assert entry["task"] == "sdrcrm.tasks.run_job_task" and entry["args"] == (name,)
    assert name in JOBS


def test_targeted_accounts_runs_daily_at_three_utc():
    utc = datetime(2026, 7, 15, 3, 0, tzinfo=UTC)
    schedule = settings.CELERY_BEAT_SCHEDULE["targeted_accounts"]["schedule"]
    schedule = pickle.loads(pickle.dumps(schedule))
    schedule.nowfun = lambda: utc
    assert schedule.is_due(utc - timedelta(days=1)).is_due is True
    schedule.nowfun = lambda: utc - MINUTE
    assert schedule.is_due(utc - timedelta(days=1)).is_due is False
