"""The nightly history_prune (sdrcrm/jobs.py prune_history, leads/imports.py
clear_old_rows): job runs older than JOB_RUNS_KEPT_DAYS go, but each job's latest and any
still running stay; the rows of an import finished IMPORT_ROWS_KEPT_DAYS ago go, its
counts stay, and its page and error file say the rows were cleared; a checked import
never run in that time goes whole."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from leads.models import Import, ImportRow
from sdrcrm.jobs import run_job
from sdrcrm.models import JobRun

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)
FILE = (b"E-mail,Surname,Country,Lead Source\n"
        b"ana@initech.com,Lopez,US,webcast\n"
        b"not-an-email,Ray,US,webcast\n")


def job_run(name: str, started, state=JobRun.State.SUCCEEDED) -> JobRun:
    run = JobRun.objects.create(name=name, slot=started.replace(second=0, microsecond=0), state=state)
    JobRun.objects.filter(pk=run.pk).update(started_at=started)
    return run


def test_old_job_runs_go_but_each_jobs_latest_and_those_still_running_stay(settings):
    settings.JOB_RUNS_KEPT_DAYS = 90
    now = timezone.now()
    old = [job_run("queue_counts", now - 100 * DAY), job_run("queue_counts", now - 91 * DAY)]
    kept = [job_run("queue_counts", now - 89 * DAY),
            job_run("trash_purge", now - 200 * DAY),  # its only run, so its latest
            job_run("sla_breaches", now - 120 * DAY, JobRun.State.RUNNING),
            job_run("sla_breaches", now - DAY)]

    run = run_job("history_prune", now)

    assert run.counts["job_runs_deleted"] == len(old)
    assert set(JobRun.objects.exclude(pk=run.pk).values_list("pk", flat=True)) == {r.pk for r in kept}


def imported(api, user, *, dry_run: bool, age: timedelta) -> Import:
    response = api.as_user(user).post("/api/v1/imports/", {
        "file": SimpleUploadedFile("leads.csv", FILE), "dry_run": str(dry_run).lower()}, format="multipart")
    assert response.status_code == 201, response.content
    record = Import.objects.get(pk=response.json()["record"]["id"])
    past = timezone.now() - age
    Import.objects.filter(pk=record.pk).update(created_at=past, finished_at=None if dry_run else past)
    return record


def test_an_old_imports_rows_go_its_counts_stay_and_its_page_and_error_file_say_so(api, client, ops, settings):
    settings.IMPORT_ROWS_KEPT_DAYS = 90
    old = imported(api, ops, dry_run=False, age=91 * DAY)
    recent = imported(api, ops, dry_run=False, age=89 * DAY)
    old_check = imported(api, ops, dry_run=True, age=91 * DAY)
    recent_check = imported(api, ops, dry_run=True, age=89 * DAY)
    now = timezone.now()

    run = run_job("history_prune", now)

    assert {key: run.counts[key] for key in ("imports_cleared", "rows_deleted", "checked_deleted")} == {
        "imports_cleared": 1, "rows_deleted": 4, "checked_deleted": 1}
    assert not Import.objects.filter(pk=old_check.pk).exists()
    assert set(ImportRow.objects.values_list("batch_id", flat=True)) == {recent.pk, recent_check.pk}
    old.refresh_from_db()
    assert old.rows_cleared_at == now
    assert (old.state, old.created, old.rejected) == (Import.State.FINISHED, 1, 1)  # the counts stay

    gone = api.as_user(ops).get(f"/api/v1/imports/{old.pk}/errors/")
    assert gone.status_code == 410 and "rows were cleared on" in gone.json()["detail"]
    assert api.as_user(ops).get(f"/api/v1/imports/{recent.pk}/errors/").status_code == 200
    assert api.as_user(ops).get(f"/api/v1/imports/{old.pk}/").json()["rows_cleared_at"] is not None

    client.force_login(ops)
    page = client.get(reverse("leads:import", args=[old.pk])).content.decode()
    assert "rows were cleared on" in page and "Download the rejected rows" not in page
    assert "Cleared with the file's rows." in page
    page = client.get(reverse("leads:import", args=[recent.pk])).content.decode()
    assert "Download the rejected rows" in page and "rows were cleared" not in page

    again = run_job("history_prune", now + timedelta(minutes=1))
    assert (again.counts["imports_cleared"], again.counts["rows_deleted"], again.counts["checked_deleted"]) == (0, 0, 0)


def test_the_prune_runs_nightly_through_the_runner(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["history_prune"]
    assert (entry["task"], entry["args"]) == ("sdrcrm.tasks.run_job_task", ("history_prune",))
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({3}, {50})
