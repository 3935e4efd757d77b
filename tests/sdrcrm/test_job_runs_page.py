"""The Jobs page (/jobs/): every periodic job's latest run, then the runs, for managers
and ops (docs/rules.md §9, manager pages: job runs)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from sdrcrm import jobs
from sdrcrm.models import JobRun

pytestmark = pytest.mark.django_db
NOW = timezone.now().replace(second=0, microsecond=0)


def run(name: str, minutes_ago: int, state=JobRun.State.SUCCEEDED, **fields) -> JobRun:
    return JobRun.objects.create(name=name, slot=NOW - timedelta(minutes=minutes_ago), state=state,
                                 finished_at=NOW, **fields)


def test_latest_runs_gives_every_job_its_newest_run_or_none(django_assert_num_queries):
    run("sla_breaches", 30)
    newest = run("sla_breaches", 15, counts={"breached": 2})
    failed = run("inquiry_queue", 60, state=JobRun.State.FAILED, errors="boom")
    with django_assert_num_queries(1):
        latest = dict(jobs.latest_runs())
    assert set(latest) == set(jobs.JOBS)
    assert latest["sla_breaches"] == newest
    assert latest["inquiry_queue"] == failed
    assert latest["spam_deletion"] is None


def test_the_page_shows_the_latest_runs_and_filters_the_list(client, manager):
    run("sla_breaches", 30, counts={"breached": 1})
    run("sla_breaches", 15, counts={"breached": 2})
    run("inquiry_queue", 60, state=JobRun.State.FAILED, errors="Traceback: boom")
    client.force_login(manager)

    page = client.get("/jobs/").content.decode()
    assert "breached 2" in page and "never ran" in page and "Traceback: boom" in page

    only_failed = client.get("/jobs/", {"state": "failed"}).context["runs"]
    assert [r.name for r in only_failed] == ["inquiry_queue"]
    sla = client.get("/jobs/", {"name": "sla_breaches"}).context["runs"]
    assert [r.counts["breached"] for r in sla] == [2, 1]  # newest first


def test_the_runs_are_paged_by_keyset(client, ops):
    for minutes in range(55):
        run("sla_breaches", minutes)
    client.force_login(ops)
    first = client.get("/jobs/")
    assert len(first.context["runs"]) == 50
    second = client.get("/jobs/", {"cursor": first.context["next_cursor"]})
    assert len(second.context["runs"]) == 5
    assert not {r.pk for r in first.context["runs"]} & {r.pk for r in second.context["runs"]}


def test_sdrs_may_not_and_bad_filters_get_a_message(client, sdr, manager):
    client.force_login(sdr)
    assert client.get("/jobs/").status_code == 403
    client.force_login(manager)
    for query in ({"name": "no_such_job"}, {"state": "sleeping"}, {"cursor": "garbage"}):
        response = client.get("/jobs/", query, follow=True)
        assert response.status_code == 200
        assert response.redirect_chain, query
        assert "showing" in response.content.decode()


def test_the_menu_shows_jobs_to_managers(client, manager, sdr):
    client.force_login(manager)
    assert 'href="/jobs/"' in client.get("/leads/").content.decode()
    client.force_login(sdr)
    assert 'href="/jobs/"' not in client.get("/leads/").content.decode()


# --- Run now (ops only, recorded as a manual run) ------------------------------------------


def test_ops_run_a_job_now_and_the_run_says_who(client, ops):
    client.force_login(ops)
    page = client.get("/jobs/").content.decode()
    assert 'action="/jobs/active_passive/run/"' in page and "Run now" in page

    response = client.post("/jobs/active_passive/run/", follow=True)

    run = JobRun.objects.get(name="active_passive")
    assert (run.state, run.started_by) == (JobRun.State.SUCCEEDED, ops)
    page = response.content.decode()
    assert "active_passive is running now" in page
    assert f"run by {ops.get_full_name() or ops.username}" in page


def test_a_beat_run_names_nobody(ops):
    from sdrcrm.jobs import run_job

    assert run_job("active_passive").started_by is None


def test_only_ops_run_a_job_now(client, manager, sdr):
    for user in (manager, sdr):
        client.force_login(user)
        assert client.post("/jobs/active_passive/run/").status_code == 403
    client.force_login(manager)
    assert "Run now" not in client.get("/jobs/").content.decode()
    assert not JobRun.objects.exists()


def test_an_unknown_job_is_404_and_a_get_does_nothing(client, ops):
    client.force_login(ops)
    assert client.post("/jobs/nope/run/").status_code == 404
    assert client.get("/jobs/active_passive/run/").status_code == 405
    assert not JobRun.objects.exists()


def test_run_now_needs_its_csrf_token(ops):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(ops)
    assert client.post("/jobs/active_passive/run/").status_code == 403
    assert not JobRun.objects.exists()


@pytest.mark.parametrize(("seconds", "shown"), [(0.37, "0.4 s"), (9.94, "9.9 s"), (12.4, "12 s"), (185, "3 min 5 s"),
                                                (4_830, "1 h 20 min")])
def test_how_long_a_run_took_reads_in_seconds_minutes_or_hours(client, manager, seconds, shown):
    latest = run("sla_breaches", 15)
    JobRun.objects.filter(pk=latest.pk).update(started_at=NOW - timedelta(seconds=seconds))
    client.force_login(manager)

    page = client.get("/jobs/").content.decode()

    row = page[page.index('data-job="sla_breaches"'):]
    assert f"<td>{shown}</td>" in row[:row.index("</tr>")]


def test_the_runs_are_shown_in_the_users_zone_and_say_which(client, manager):
    """Jobs are scheduled in UTC (docs/rules.md §6); the page shows an AMER manager New
    York time and names it, so 03:40 UTC reads as 22:40 EST the day before."""
    JobRun.objects.create(name="trash_purge", slot=datetime(2026, 12, 1, 3, 40, tzinfo=UTC), finished_at=NOW)
    client.force_login(manager)

    page = client.get("/jobs/").content.decode()

    zone = f"{timezone.now().astimezone(ZoneInfo('America/New_York')):%Z}"
    assert f"<th>Slot ({zone})</th>" in page
    row = page[page.index('data-job="trash_purge"'):]
    assert "<td>2026-11-30 22:40</td>" in row[:row.index("</tr>")]
