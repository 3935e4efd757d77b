"""The manager's Team queues (leads/queues.py, /leads/queues/): count and oldest item per
view per SDR, SLA breaches, and the shared queues (docs/rules.md §9, docs/rules.md §2's breaches)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from leads import queues
from leads.models import Queue, QueueTally, Status
from sdrcrm.errors import Refused
from sdrcrm.models import Role
from tests.factories import LeadFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db
NOW = timezone.now()


def ago(days: float):
    return NOW - timedelta(days=days)


@pytest.fixture(params=["counted by the job", "counted live"])
def counting(request):
    """The board's figures either way: from the `queue_counts` job's tallies, or counted at
    once where the job has not counted yet. Call it just before reading the board."""
    return (lambda: queues.count_queues(NOW)) if request.param == "counted by the job" else (lambda: None)


def row_of(board, user):
    return next(row for row in board.rows if row.sdr == user)


def cell(board, user, view):
    return dict(row_of(board, user).cells)[view]


def test_each_sdr_has_the_count_and_oldest_status_change_of_every_view(sdr, teammate, manager, other_sdr, counting):
    LeadFactory(owner=sdr, status=Status.MQL, status_changed_at=ago(5))
    LeadFactory(owner=sdr, status=Status.MQL, status_changed_at=ago(1), high_priority=True)
    LeadFactory(owner=sdr, status=Status.INQUIRY, status_changed_at=ago(2))
    LeadFactory(owner=teammate, status=Status.QUALIFYING, status_changed_at=ago(3), phone="+1 555 0100")
    LeadFactory(owner=teammate, status=Status.RAW, status_changed_at=ago(9))  # in no view
    LeadFactory(owner=other_sdr, status=Status.MQL, status_changed_at=ago(30))  # another team

    counting()
    board = queues.team_queues(manager)

    assert [row.sdr for row in board.rows] == sorted([sdr, teammate], key=lambda u: (u.first_name, u.last_name))
    assert cell(board, sdr, "my_mqls") == queues.Cell(2, ago(5))
    assert cell(board, sdr, "high_priority") == queues.Cell(1, ago(1))
    assert cell(board, sdr, "my_inquiries") == queues.Cell(1, ago(2))
    assert cell(board, sdr, "callable") == queues.Cell(0, None)  # no phone
    assert cell(board, teammate, "my_qualifying") == queues.Cell(1, ago(3))
    assert cell(board, teammate, "callable") == queues.Cell(1, ago(3))
    assert cell(board, teammate, "my_mqls") == queues.Cell(0, None)
    assert [key for key, _ in row_of(board, sdr).cells] == [key for key, _ in board.views]


def test_sla_breaches_are_counted_per_sdr_and_listed_oldest_first(sdr, teammate, manager, other_sdr, counting):
    late = LeadFactory(owner=sdr, status=Status.MQL, sla_due_at=ago(2), sla_breached_at=ago(1.9))
    later = LeadFactory(owner=teammate, status=Status.MQL, sla_due_at=ago(1), sla_breached_at=ago(0.9))
    LeadFactory(owner=sdr, status=Status.MQL, sla_due_at=NOW + timedelta(hours=5))  # clock running
    LeadFactory(owner=other_sdr, status=Status.MQL, sla_due_at=ago(3), sla_breached_at=ago(2.9))

    counting()
    board = queues.team_queues(manager)

    assert row_of(board, sdr).breaches == queues.Cell(1, ago(2))
    assert row_of(board, teammate).breaches == queues.Cell(1, ago(1))
    assert board.breached == [late, later]
    assert board.breached[0].owner == sdr


def test_the_shared_queues_show_what_waits_in_them(manager, team, counting):
    unassigned = Queue.objects.get(name=Queue.UNASSIGNED)
    LeadFactory(queue=unassigned, status=Status.MQL, status_changed_at=ago(4))
    LeadFactory(queue=unassigned, status=Status.MQL, status_changed_at=ago(1))
    inquiries = Queue.objects.get(name=Queue.INQUIRY)
    LeadFactory(queue=inquiries, status=Status.INQUIRY, status_changed_at=ago(2))

    counting()
    waiting = {row.queue.name: row.waiting for row in queues.team_queues(manager).queues}

    assert waiting[Queue.UNASSIGNED] == queues.Cell(2, ago(4))
    assert waiting[Queue.INQUIRY] == queues.Cell(1, ago(2))
    assert waiting[Queue.SALES_ADMIN] == queues.Cell(0, None)


def test_a_manager_sees_only_the_teams_they_run(sdr, manager, other_sdr):
    board = queues.team_queues(manager)
    assert [team.pk for team in board.teams] == [sdr.team_id]
    assert other_sdr not in [row.sdr for row in board.rows]
    with pytest.raises(Refused) as refused:
        queues.team_queues(manager, team_id=other_sdr.team_id)
    assert refused.value.field == "team"


def test_ops_see_every_team_and_may_pick_one(sdr, other_sdr, ops):
    everyone = queues.team_queues(ops)
    assert {sdr, other_sdr} <= {row.sdr for row in everyone.rows}
    picked = queues.team_queues(ops, team_id=other_sdr.team_id)
    assert picked.team == other_sdr.team
    assert [row.sdr for row in picked.rows] == [other_sdr]


def test_sdrs_and_inactive_or_selling_users_are_not_rows(sdr, team, manager):
    UserFactory(role=Role.SDR, team=team, is_active=False)
    UserFactory(role=Role.AE, team=team)
    bdr = UserFactory(role=Role.BDR, team=team)
    assert {row.sdr for row in queues.team_queues(manager).rows} == {sdr, bdr}
    with pytest.raises(Refused) as refused:
        queues.team_queues(sdr)
    assert refused.value.status == 403


@pytest.mark.parametrize(("counted", "expected"), [(True, 6), (False, 8)])
def test_the_number_of_queries_does_not_grow_with_the_team(team, manager, django_assert_num_queries,
                                                           counted, expected):
    def board_queries() -> int:
        if counted:
            queues.count_queues(NOW)
        # The teams (2), the SDRs, the queues, the tallies, the oldest breaches; counted
        # live: the SDRs' leads' counts and what waits in the queues as well.
        with django_assert_num_queries(expected) as captured:
            queues.team_queues(manager)
        return len(captured.captured_queries)

    UserFactory(role=Role.SDR, team=team)
    small = board_queries()
    for _ in range(5):
        member = UserFactory(role=Role.SDR, team=team)
        LeadFactory(owner=member, status=Status.MQL, sla_due_at=ago(2), sla_breached_at=ago(1))
    assert board_queries() == small


def test_the_board_shows_the_jobs_counts_until_the_next_count(sdr, manager):
    LeadFactory(owner=sdr, status=Status.MQL, status_changed_at=ago(5))
    counted_at = NOW - timedelta(seconds=40)
    queues.count_queues(counted_at)
    LeadFactory(owner=sdr, status=Status.MQL, status_changed_at=ago(1))  # after the count

    board = queues.team_queues(manager, now=NOW)
    assert cell(board, sdr, "my_mqls") == queues.Cell(1, ago(5))
    assert board.counted_at == counted_at and not board.stale

    queues.count_queues(NOW)
    board = queues.team_queues(manager, now=NOW)
    assert cell(board, sdr, "my_mqls") == queues.Cell(2, ago(5))
    assert board.counted_at == NOW


def test_counting_again_replaces_the_last_count(sdr, manager):
    LeadFactory(owner=sdr, status=Status.MQL)
    first = queues.count_queues(ago(1 / 24))
    second = queues.count_queues(NOW)
    assert first == second and second["figures"] == QueueTally.objects.count()
    assert set(QueueTally.objects.values_list("counted_at", flat=True)) == {NOW}


def test_an_sdr_the_job_has_not_counted_makes_the_board_count_at_once(sdr, team, manager):
    queues.count_queues(ago(1 / 24))
    newcomer = UserFactory(role=Role.SDR, team=team)
    LeadFactory(owner=newcomer, status=Status.MQL, status_changed_at=ago(2))
    LeadFactory(owner=sdr, status=Status.MQL, status_changed_at=ago(3))  # after the count

    board = queues.team_queues(manager, now=NOW)

    assert cell(board, newcomer, "my_mqls") == queues.Cell(1, ago(2))
    assert cell(board, sdr, "my_mqls") == queues.Cell(1, ago(3))
    assert board.counted_at == NOW


def test_old_counts_are_flagged_on_the_page_and_in_the_api(client, api, sdr, manager):
    LeadFactory(owner=sdr, status=Status.MQL)
    queues.count_queues(timezone.now() - timedelta(minutes=7))
    client.force_login(manager)
    page = client.get("/leads/queues/").content.decode()
    assert "has not run since" in page and "Counts as of" not in page
    assert api.as_user(manager).get(API).json()["stale"] is True

    queues.count_queues(timezone.now() - timedelta(minutes=1))
    page = client.get("/leads/queues/").content.decode()
    assert "Counts as of" in page and "has not run since" not in page
    assert api.as_user(manager).get(API).json()["stale"] is False


def test_the_job_runs_on_schedule_and_by_hand(sdr):
    from django.conf import settings

    from sdrcrm.jobs import run_job

    assert settings.CELERY_BEAT_SCHEDULE["queue_counts"]["args"] == ("queue_counts",)
    LeadFactory(owner=sdr, status=Status.MQL)
    run = run_job("queue_counts", NOW)
    assert run.counts["sdrs"] >= 1
    assert QueueTally.objects.get(owner=sdr, key="my_mqls").count == 1


def test_the_page_links_each_count_to_the_sdrs_view(client, sdr, manager):
    LeadFactory(owner=sdr, status=Status.MQL, status_changed_at=ago(3), sla_due_at=ago(2), sla_breached_at=ago(1),
                last_name="Late", first_name="Lee")
    client.force_login(manager)

    page = client.get("/leads/queues/").content.decode()

    assert f'href="/leads/?view=my_mqls&amp;owner={sdr.pk}">1</a>' in page
    assert "oldest 3\xa0days" in page
    assert "Lee Late" in page  # in the breaches table
    assert "Unassigned" in page


def test_the_page_refuses_sdrs_and_answers_a_bad_team_with_a_message(client, sdr, manager, other_sdr):
    client.force_login(sdr)
    assert client.get("/leads/queues/").status_code == 403
    client.force_login(manager)
    response = client.get(f"/leads/queues/?team={other_sdr.team_id}", follow=True)
    assert response.status_code == 200
    assert "among the teams you watch" in response.content.decode()
    for bad in ("abc", "-1", "1.5", "²"):
        response = client.get(f"/leads/queues/?team={bad}", follow=True)
        assert response.status_code == 200
        assert "Pick a team from the list" in response.content.decode()


def test_the_menu_shows_team_queues_to_managers_only(client, sdr, manager):
    client.force_login(manager)
    assert "Team queues" in client.get("/leads/").content.decode()
    client.force_login(sdr)
    assert "Team queues" not in client.get("/leads/").content.decode()


def test_a_team_with_nobody_says_so(client, ops):
    empty = TeamFactory(name="Empty team")
    client.force_login(ops)
    page = client.get(f"/leads/queues/?team={empty.pk}").content.decode()
    assert "Team queues: Empty team" in page
    assert "No active SDRs or BDRs in this team." in page


API = "/api/v1/dashboards/queues/"


def test_the_api_gives_the_same_figures_as_json(api, sdr, teammate, manager, counting):
    LeadFactory(owner=sdr, status=Status.MQL, status_changed_at=ago(3), sla_due_at=ago(2), sla_breached_at=ago(1))
    LeadFactory(queue=Queue.objects.get(name=Queue.UNASSIGNED), status=Status.MQL, status_changed_at=ago(6))

    counting()
    body = api.as_user(manager).get(API).json()

    assert body["team"] is None and body["teams"] == [{"id": sdr.team_id, "name": sdr.team.name}]
    assert [view["key"] for view in body["views"]][:2] == ["my_mqls", "high_priority"]
    row = next(r for r in body["sdrs"] if r["id"] == sdr.pk)
    assert row["views"]["my_mqls"]["count"] == 1
    assert row["views"]["my_mqls"]["oldest"].startswith(ago(3).strftime("%Y-%m-%dT%H:%M"))
    assert row["views"]["my_inquiries"] == {"count": 0, "oldest": None}
    assert row["sla_breaches"]["count"] == 1
    assert [b["owner"] for b in body["breaches"]] == [sdr.pk]
    unassigned = next(q for q in body["queues"] if q["name"] == Queue.UNASSIGNED)
    assert unassigned["count"] == 1


def test_the_api_answers_bad_input_and_refusals_with_4xx(api, sdr, manager, other_sdr):
    assert api.get(API).status_code == 401
    assert api.as_user(sdr).get(API).status_code == 403
    client = api.as_user(manager)
    response = client.get(API, {"team": "abc"})
    assert response.status_code == 400 and "team" in response.json()["errors"]
    response = client.get(API, {"team": other_sdr.team_id})
    assert response.status_code == 400
    assert "among the teams you watch" in response.json()["detail"]
    assert client.get(API, {"team": sdr.team_id}).json()["team"] == sdr.team_id
