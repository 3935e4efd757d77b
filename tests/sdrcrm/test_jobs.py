from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from leads.models import Lead
from sdrcrm.jobs import run_job
from sdrcrm.models import JobRun
from tests.factories import LeadFactory

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_active_passive_turns_ended_windows_passive_in_batches(settings):
    settings.JOB_BATCH_SIZE = 2
    ended = [LeadFactory(is_passive=False, active_until=NOW - timedelta(seconds=1)) for _ in range(5)]
    boundary = LeadFactory(is_passive=False, active_until=NOW)
    later = LeadFactory(is_passive=False, active_until=NOW + timedelta(seconds=1))

    run = run_job("active_passive", NOW)

    assert run.state == JobRun.State.SUCCEEDED and run.counts == {"passive": 6}
    assert all(Lead.objects.get(pk=lead.pk).is_passive for lead in [*ended, boundary])
    assert Lead.objects.get(pk=later.pk).is_passive is False


@pytest.mark.django_db
def test_a_job_run_twice_for_the_same_slot_is_a_no_op():
    LeadFactory(is_passive=False, active_until=NOW - timedelta(days=1))
    first = run_job("active_passive", NOW)
    # A lead whose window ended meanwhile is left for the next slot's run.
    LeadFactory(is_passive=False, active_until=NOW - timedelta(days=1))
    second = run_job("active_passive", NOW + timedelta(seconds=30))  # same minute

    assert second.pk == first.pk
    assert JobRun.objects.count() == 1
    assert Lead.objects.filter(is_passive=False).count() == 1


@pytest.mark.django_db
def test_run_job_command_takes_an_explicit_clock(capsys):
    LeadFactory(is_passive=False, active_until=NOW - timedelta(hours=1))
    call_command("run_job", "active_passive", "--now", "2026-12-01T03:00:00Z")

    run = JobRun.objects.get()
    assert run.slot == NOW
    assert "succeeded" in capsys.readouterr().out


@pytest.mark.django_db
def test_run_job_refuses_a_bad_clock():
    with pytest.raises(CommandError, match="ISO-8601"):
        call_command("run_job", "active_passive", "--now", "next tuesday")
    assert not JobRun.objects.exists()


@pytest.mark.django_db
def test_jobs_api_lists_runs_for_managers_and_ops_only(api, manager, ops, sdr):
    run_job("active_passive", NOW)
    assert api.as_user(manager).get("/api/v1/jobs/").json()["results"][0]["name"] == "active_passive"
    assert api.as_user(ops).get("/api/v1/jobs/").json()["results"][0]["name"] == "active_passive"
    assert api.as_user(sdr).get("/api/v1/jobs/").json()["results"] == []


@pytest.mark.django_db
def test_run_job_reads_a_clock_without_zone_as_utc():
    call_command("run_job", "active_passive", "--now", "2026-12-01T03:00:00")
    assert JobRun.objects.get().slot == NOW


@pytest.mark.django_db
def test_a_run_left_running_by_a_dead_worker_is_taken_over_by_the_redelivered_task(settings):
    LeadFactory(is_passive=False, active_until=NOW - timedelta(days=1))
    dead = JobRun.objects.create(name="active_passive", slot=NOW)
    JobRun.objects.filter(pk=dead.pk).update(
        started_at=timezone.now() - timedelta(seconds=settings.JOB_STALE_AFTER_SECONDS + 1))

    run = run_job("active_passive", NOW)

    assert run.pk == dead.pk and run.state == JobRun.State.SUCCEEDED
    assert run.counts == {"passive": 1}


@pytest.mark.django_db
def test_a_run_that_started_recently_is_left_to_finish():
    LeadFactory(is_passive=False, active_until=NOW - timedelta(days=1))
    running = JobRun.objects.create(name="active_passive", slot=NOW)

    run = run_job("active_passive", NOW)

    assert run.pk == running.pk and run.state == JobRun.State.RUNNING
    assert Lead.objects.filter(is_passive=False).count() == 1


@pytest.mark.django_db
def test_a_beat_task_redelivered_in_a_later_minute_closes_the_run_its_dead_worker_left(settings):
    # Beat's task carries no clock: redelivered after the visibility timeout, it runs under
    # a new slot, and the earlier run, still "running", is closed rather than left forever.
    long_ago = timezone.now() - timedelta(seconds=settings.JOB_STALE_AFTER_SECONDS + 1)
    dead = JobRun.objects.create(name="active_passive", slot=NOW)
    other_job = JobRun.objects.create(name="sla_breaches", slot=NOW)
    JobRun.objects.filter(pk__in=[dead.pk, other_job.pk]).update(started_at=long_ago)

    run = run_job("active_passive", NOW + timedelta(minutes=10))

    dead.refresh_from_db()
    assert run.state == JobRun.State.SUCCEEDED
    assert dead.state == JobRun.State.FAILED and dead.finished_at is not None
    assert dead.errors == ("Its worker stopped before it finished; the run of "
                           f"{NOW + timedelta(minutes=10):%Y-%m-%d %H:%M} UTC took over.")
    assert JobRun.objects.get(pk=other_job.pk).state == JobRun.State.RUNNING  # another job's run is its own


@pytest.mark.django_db
def test_a_run_of_another_slot_still_within_its_time_is_left_running():
    running = JobRun.objects.create(name="active_passive", slot=NOW)

    run_job("active_passive", NOW + timedelta(minutes=1))

    assert JobRun.objects.get(pk=running.pk).state == JobRun.State.RUNNING
