"""The daily stale_opportunities job (docs/rules.md §3, §4): a stage-0 opportunity whose IQM ended
more than 48 hours ago without a stage move reminds its AE once; an IQM no-show not
rebooked within 14 days is flagged for the AE to unqualify."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from leads.models import Lead, Task
from opportunities.jobs import stale_opportunities
from opportunities.models import IQM, Disposition, Opportunity, Stage
from sdrcrm.jobs import JOBS, run_job
from sdrcrm.models import JobRun, Notification, Role
from tests.factories import AccountFactory, ContactFactory, IQMFactory, LeadFactory, OpportunityFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
NOTHING = {"reminded": 0, "flagged": 0}


def opportunity_with_iqm(ended_hours_ago: float, stage_moved_hours_ago: float = 100, lead: Lead | None = None,
                         **fields) -> Opportunity:
    """A stage-0 opportunity (in that stage since `stage_moved_hours_ago`) and its 30-minute
    IQM (with `lead`, else a new lead)."""
    opportunity = OpportunityFactory(stage_changed_at=NOW - stage_moved_hours_ago * HOUR, **fields)
    end = NOW - ended_hours_ago * HOUR
    IQMFactory(opportunity=opportunity, start=end - HOUR / 2, end=end, **({"lead": lead} if lead else {}))
    return opportunity


def no_show(days_ago: float, **fields) -> IQM:
    start = NOW - days_ago * DAY
    return IQMFactory(disposition=Disposition.NO_SHOW, start=start, end=start + HOUR / 2, **fields)


def reminded(opportunity: Opportunity) -> datetime | None:
    return Opportunity.objects.get(pk=opportunity.pk).stale_reminded_at


def flagged(iqm: IQM) -> datetime | None:
    return IQM.objects.get(pk=iqm.pk).unqualify_flagged_at


# --- Reminders -------------------------------------------------------------------------------


def test_49_hours_after_the_iqm_the_ae_is_reminded():
    opportunity = opportunity_with_iqm(ended_hours_ago=49, name="Acme - New",
                                       lead=LeadFactory(first_name="Ada", last_name="Lovelace"))

    assert stale_opportunities(NOW) == {"reminded": 1, "flagged": 0}

    assert reminded(opportunity) == NOW
    note = Notification.objects.get()
    assert (note.user, note.kind, note.opportunity) == (opportunity.owner, "stale_opportunity", opportunity)
    assert note.message == ("Acme - New is still in 0-Pending Acceptance more than 48 hours after its IQM "
                            "(Ada Lovelace - IQM, ended 2026-11-29 05:00 UTC): accept it into 1-Discovery or "
                            "unqualify it.")
    task = Task.objects.get()
    assert (task.owner, task.opportunity, task.due_at, task.done_at) == (opportunity.owner, opportunity, NOW, None)
    assert task.title == "Accept or unqualify Acme - New"


def test_47_hours_after_the_iqm_nothing_happens_yet():
    opportunity = opportunity_with_iqm(ended_hours_ago=47)

    assert stale_opportunities(NOW) == NOTHING
    assert reminded(opportunity) is None and not Notification.objects.exists()


def test_a_stage_move_after_the_iqm_means_no_reminder():
    accepted = opportunity_with_iqm(ended_hours_ago=72, stage=Stage.DISCOVERY, stage_moved_hours_ago=24)
    lost = opportunity_with_iqm(ended_hours_ago=72, stage=Stage.CLOSED_LOST, stage_moved_hours_ago=60)

    assert stale_opportunities(NOW) == NOTHING
    assert reminded(accepted) is None and reminded(lost) is None


def test_an_opportunity_created_after_its_iqm_gets_the_48_hours_from_its_creation():
    # The usual path: the meeting, then the SDR converts the lead with an opportunity.
    fresh = opportunity_with_iqm(ended_hours_ago=72, stage_moved_hours_ago=47)
    waiting = opportunity_with_iqm(ended_hours_ago=72, stage_moved_hours_ago=49)

    assert stale_opportunities(NOW) == {"reminded": 1, "flagged": 0}
    assert reminded(fresh) is None and reminded(waiting) == NOW


def test_an_opportunity_in_another_stage_is_never_reminded():
    for stage in (Stage.PRE_OPPORTUNITY, Stage.DISCOVERY, Stage.CLOSED_LOST, Stage.UNQUALIFIED):
        opportunity_with_iqm(ended_hours_ago=100, stage=stage, stage_moved_hours_ago=200)
    assert stale_opportunities(NOW) == NOTHING


def test_an_opportunity_without_an_iqm_is_not_reminded():
    OpportunityFactory(stage_changed_at=NOW - 30 * DAY)
    assert stale_opportunities(NOW) == NOTHING


def test_the_reminder_is_sent_once_for_the_same_or_a_later_clock():
    opportunity = opportunity_with_iqm(ended_hours_ago=49)
    stale_opportunities(NOW)

    assert stale_opportunities(NOW) == NOTHING
    assert stale_opportunities(NOW + 3 * DAY) == NOTHING
    assert Notification.objects.count() == 1 and reminded(opportunity) == NOW
    assert Task.objects.filter(opportunity=opportunity).count() == 1


def test_a_later_iqm_without_a_stage_move_reminds_again():
    opportunity = opportunity_with_iqm(ended_hours_ago=49)
    stale_opportunities(NOW)
    later = NOW + 2 * DAY
    IQMFactory(opportunity=opportunity, start=later, end=later + HOUR)

    assert stale_opportunities(later + 48 * HOUR) == NOTHING
    assert stale_opportunities(later + 50 * HOUR) == {"reminded": 1, "flagged": 0}
    assert Notification.objects.filter(kind="stale_opportunity").count() == 2
    assert Task.objects.filter(opportunity=opportunity).count() == 2


def test_two_old_iqms_make_one_reminder():
    opportunity = opportunity_with_iqm(ended_hours_ago=60)
    IQMFactory(opportunity=opportunity, start=NOW - 50 * HOUR, end=NOW - 49 * HOUR)

    assert stale_opportunities(NOW) == {"reminded": 1, "flagged": 0}
    assert Notification.objects.count() == 1


def test_the_reminder_delay_is_a_setting(settings):
    settings.STALE_OPPORTUNITY_HOURS = 24
    opportunity_with_iqm(ended_hours_ago=25)

    assert stale_opportunities(NOW)["reminded"] == 1
    assert "more than 24 hours" in Notification.objects.get().message


def test_reminders_work_through_batches(settings):
    settings.JOB_BATCH_SIZE = 2
    due = [opportunity_with_iqm(ended_hours_ago=49 + n, stage_moved_hours_ago=100 + n) for n in range(5)]
    waiting = [opportunity_with_iqm(ended_hours_ago=10, stage_moved_hours_ago=100 + n) for n in range(3)]

    assert stale_opportunities(NOW) == {"reminded": 5, "flagged": 0}
    assert all(reminded(o) == NOW for o in due) and not any(reminded(o) for o in waiting)


# --- No-shows --------------------------------------------------------------------------------


def test_a_no_show_15_days_ago_not_rebooked_is_flagged_for_the_ae():
    opportunity = OpportunityFactory(name="Acme - New", stage=Stage.DISCOVERY)
    iqm = no_show(days_ago=15, opportunity=opportunity, lead=LeadFactory(first_name="Ada", last_name="Lovelace"))

    assert stale_opportunities(NOW) == {"reminded": 0, "flagged": 1}

    assert flagged(iqm) == NOW
    note = Notification.objects.get()
    assert (note.user, note.kind, note.opportunity, note.lead) == (
        opportunity.owner, "no_show_not_rebooked", opportunity, iqm.lead)
    assert note.message == ("Ada Lovelace - IQM on 2026-11-16 was a no-show and has not been rebooked in 14 days: "
                            "unqualify the opportunity Acme - New.")


def test_a_no_show_13_days_ago_is_not_flagged_yet():
    iqm = no_show(days_ago=13)
    assert stale_opportunities(NOW) == NOTHING
    assert flagged(iqm) is None


def test_a_rebooked_no_show_is_not_flagged():
    lead, contact = LeadFactory(), ContactFactory()
    by_lead = no_show(days_ago=20, lead=lead)
    by_contact = no_show(days_ago=20, lead=None, contact=contact)
    IQMFactory(lead=lead, start=NOW - 10 * DAY, end=NOW - 10 * DAY + HOUR)
    IQMFactory(lead=None, contact=contact, start=NOW + DAY, end=NOW + DAY + HOUR)

    assert stale_opportunities(NOW) == NOTHING
    assert flagged(by_lead) is None and flagged(by_contact) is None


def test_an_earlier_iqm_or_another_persons_is_no_rebooking():
    lead = LeadFactory()
    iqm = no_show(days_ago=20, lead=lead)
    IQMFactory(lead=lead, start=NOW - 40 * DAY, end=NOW - 40 * DAY + HOUR)
    IQMFactory(start=NOW - DAY, end=NOW - DAY + HOUR)  # someone else's

    assert stale_opportunities(NOW) == {"reminded": 0, "flagged": 1}
    assert flagged(iqm) == NOW


def test_only_no_shows_are_flagged():
    for disposition in set(Disposition) - {Disposition.NO_SHOW}:
        IQMFactory(disposition=disposition, start=NOW - 30 * DAY, end=NOW - 30 * DAY + HOUR)
    assert stale_opportunities(NOW) == NOTHING


def test_without_an_opportunity_the_account_owner_is_told_and_without_either_the_sdr():
    account_owner = UserFactory(role=Role.AE)
    on_account = no_show(days_ago=15, account=AccountFactory(owner=account_owner))
    bare = no_show(days_ago=15, lead=None, contact=ContactFactory())

    stale_opportunities(NOW)

    recipients = dict(Notification.objects.values_list("user", "message"))
    assert recipients.keys() == {account_owner.pk, bare.sdr_id}
    assert recipients[account_owner.pk].endswith("unqualify the lead.")
    assert recipients[bare.sdr_id].endswith("unqualify the contact.")
    assert on_account.sdr_id not in recipients


def test_a_flagged_no_show_is_flagged_once():
    iqm = no_show(days_ago=15)
    stale_opportunities(NOW)

    assert stale_opportunities(NOW) == NOTHING
    assert stale_opportunities(NOW + 5 * DAY) == NOTHING
    assert flagged(iqm) == NOW and Notification.objects.count() == 1


def test_the_rebooking_window_is_a_setting(settings):
    settings.NO_SHOW_REBOOK_DAYS = 7
    iqm = no_show(days_ago=8)

    stale_opportunities(NOW)

    assert flagged(iqm) == NOW
    assert "in 7 days" in Notification.objects.get().message


def test_no_shows_work_through_batches_past_rebooked_ones(settings):
    settings.JOB_BATCH_SIZE = 2
    shows = [no_show(days_ago=20 + n) for n in range(6)]
    for rebooked in shows[::2]:
        IQMFactory(lead=rebooked.lead, start=NOW - DAY, end=NOW - DAY + HOUR)

    assert stale_opportunities(NOW) == {"reminded": 0, "flagged": 3}
    assert [flagged(iqm) is not None for iqm in shows] == [False, True] * 3


# --- Running it ------------------------------------------------------------------------------


def test_both_parts_in_one_run_and_a_rerun_for_the_same_slot_is_a_no_op():
    opportunity = opportunity_with_iqm(ended_hours_ago=49)
    no_show(days_ago=15)

    first = run_job("stale_opportunities", NOW)
    late = opportunity_with_iqm(ended_hours_ago=50)  # would qualify, but the slot already ran
    second = run_job("stale_opportunities", NOW)

    assert first.state == JobRun.State.SUCCEEDED and first.counts == {"reminded": 1, "flagged": 1}
    assert second.pk == first.pk
    assert reminded(opportunity) == NOW and reminded(late) is None


def test_run_job_command_runs_it_with_an_explicit_clock(capsys):
    opportunity = opportunity_with_iqm(ended_hours_ago=49)

    call_command("run_job", "stale_opportunities", "--now", "2026-12-01T06:00:00Z")

    assert JobRun.objects.get(name="stale_opportunities").slot == NOW
    assert reminded(opportunity) == NOW
    assert "succeeded" in capsys.readouterr().out


def test_beat_runs_it_daily_through_the_job_runner():
    entry = settings.CELERY_BEAT_SCHEDULE["stale_opportunities"]
    assert entry["task"] == "sdrcrm.tasks.run_job_task" and entry["args"] == ("stale_opportunities",)
    assert entry["schedule"].hour == {6} and entry["schedule"].minute == {0}
    assert JOBS["stale_opportunities"] is stale_opportunities


def test_the_queries_per_batch_do_not_grow_with_rows(settings, django_assert_max_num_queries):
    settings.JOB_BATCH_SIZE = 100
    for n in range(15):
        opportunity_with_iqm(ended_hours_ago=49 + n)
        no_show(days_ago=15 + n)

    # Per part: select · lock · update · notify (+ savepoint pair) · the empty next batch;
    # the reminders' tasks in one more insert.
    with django_assert_max_num_queries(15):
        assert stale_opportunities(NOW) == {"reminded": 15, "flagged": 15}


def test_the_reminders_task_shows_on_the_aes_today_and_on_the_opportunity(client):
    opportunity = opportunity_with_iqm(ended_hours_ago=49, name="Acme - New")
    stale_opportunities(timezone.now())
    client.force_login(opportunity.owner)

    today = client.get("/leads/today/").content.decode()
    page = client.get(f"/opportunities/{opportunity.pk}/").content.decode()

    assert "Accept or unqualify Acme - New" in today and f"/opportunities/{opportunity.pk}/" in today
    assert "Open tasks" in page and "Accept or unqualify Acme - New" in page
