"""Bulk actions on the lead list (leads/bulk_actions.py): each row through the same service
as its own page, a result per row in words, one audit line per action, and a big selection
run on the worker with its progress on the page."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leads import bulk_actions
from leads.models import BulkAction, Enrollment, Lead, Status
from sdrcrm.errors import Refused
from sdrcrm.models import FieldChange, Role
from tests.factories import ContactFactory, EnrollmentFactory, LeadFactory, SequenceFactory, UserFactory

pytestmark = pytest.mark.django_db


def outcomes(bulk: BulkAction) -> dict[int, tuple[str, str]]:
    return {lead_id: (outcome, message) for lead_id, outcome, message in bulk.results}


def test_a_manager_gives_three_leads_of_an_sdr_on_leave_to_a_teammate(manager, sdr, teammate):
    leads = LeadFactory.create_batch(3, owner=sdr, status=Status.MQL)

    bulk = bulk_actions.start("lead", "assign", {"owner": teammate.pk}, [lead.pk for lead in leads], manager)

    assert (bulk.state, bulk.total, bulk.done, bulk.refused) == ("finished", 3, 3, 0)
    assert set(Lead.objects.filter(pk__in=[lead.pk for lead in leads]).values_list("owner", flat=True)) == {teammate.pk}
    name = teammate.get_full_name() or teammate.username
    assert bulk.summary == f"Assign to {name}" and bulk.by == manager
    assert {message for _, message in outcomes(bulk).values()} == {f"Given to {name}."}
    # Through update_person: each lead's field history says who changed the owner.
    assert FieldChange.objects.filter(field="owner", by=manager).count() == 3


def test_only_managers_and_ops_assign_in_bulk_and_nothing_is_written_when_refused(sdr, teammate, manager, other_sdr):
    lead = LeadFactory(owner=sdr)
    with pytest.raises(Refused, match="Only managers and ops"):
        bulk_actions.start("lead", "assign", {"owner": teammate.pk}, [lead.pk], sdr)
    with pytest.raises(Refused, match=f"You may not assign records to {other_sdr.username}"):
        bulk_actions.start("lead", "assign", {"owner": other_sdr.pk}, [lead.pk], manager)
    assert not BulkAction.objects.exists()
    assert Lead.objects.get(pk=lead.pk).owner == sdr


@pytest.mark.parametrize(("kind", "params", "message"), [
    ("status", {"status": "recycle"}, "Recycle needs a reason"),
    ("status", {"status": "nope"}, "Pick the new status."),
    ("enrol", {"sequence": 999_999}, "Pick the sequence"),
    ("assign", {}, "Pick the active user"),
    ("fly", {}, "Pick an action"),
])
def test_an_action_that_cannot_run_is_refused_in_words_before_any_row(ops, kind, params, message):
    lead = LeadFactory()
    with pytest.raises(Refused, match=message):
        bulk_actions.start("lead", kind, params, [lead.pk], ops)
    assert not BulkAction.objects.exists()


def test_the_selection_is_bounded_and_not_empty(ops, settings):
    settings.BULK_ACTION_LIMIT = 2
    leads = LeadFactory.create_batch(3)
    with pytest.raises(Refused, match="At most 2 leads at once"):
        bulk_actions.start("lead", "status", {"status": "recycle", "reason": "evaluating"}, [x.pk for x in leads], ops)
    with pytest.raises(Refused, match="Select at least one lead"):
        bulk_actions.start("lead", "status", {"status": "recycle", "reason": "evaluating"}, [], ops)


def test_each_row_is_done_or_refused_with_the_rule_that_refused_it(sdr, teammate, other_sdr):
    mine = LeadFactory(owner=sdr, status=Status.MQL)
    unowned = LeadFactory(owner=None, status=Status.RAW)
    teammates = LeadFactory(owner=teammate, status=Status.MQL)
    elsewhere = LeadFactory(owner=other_sdr, status=Status.MQL)
    converted = LeadFactory(owner=sdr, status=Status.MQL, converted_to=ContactFactory())

    bulk = bulk_actions.start("lead", "status", {"status": "recycle", "reason": "evaluating"},
                              [mine.pk, unowned.pk, teammates.pk, elsewhere.pk, converted.pk], sdr)

    got = outcomes(bulk)
    assert got[mine.pk] == ("done", "Now Recycle.") and got[unowned.pk] == ("done", "Now Recycle.")
    assert got[teammates.pk] == ("refused", "You may read this lead but not change it.")
    assert got[elsewhere.pk] == ("refused", "No such lead, or not one you may see.")
    assert got[converted.pk] == ("refused", "Converted: work its contact instead.")
    assert (bulk.done, bulk.refused) == (2, 3)
    assert Lead.objects.get(pk=mine.pk).status == Status.RECYCLE
    assert Lead.objects.get(pk=teammates.pk).status == Status.MQL
    assert mine.status_changes.get().reason == "evaluating"  # through lifecycle.transition


def test_a_row_the_status_map_refuses_says_so_and_the_others_go_through(sdr):
    mql = LeadFactory(owner=sdr, status=Status.MQL)
    qualified = LeadFactory(owner=sdr, status=Status.QUALIFYING)

    bulk = bulk_actions.start("lead", "status", {"status": "inquiry"}, [mql.pk, qualified.pk], sdr)

    got = outcomes(bulk)
    assert got[qualified.pk][0] == "refused" and "Qualifying" in got[qualified.pk][1]
    assert Lead.objects.get(pk=qualified.pk).status == Status.QUALIFYING


def test_enrolling_in_bulk_refuses_a_lead_already_in_a_sequence(sdr):
    sequence = SequenceFactory(name="Trial follow-up")
    free, busy = LeadFactory(owner=sdr, phone="+1 555 0100"), LeadFactory(owner=sdr)
    EnrollmentFactory(lead=busy)

    bulk = bulk_actions.start("lead", "enrol", {"sequence": sequence.pk}, [free.pk, busy.pk], sdr)

    got = outcomes(bulk)
    assert got[free.pk][0] == "done" and got[free.pk][1].startswith("Enrolled in Trial follow-up.")
    assert got[busy.pk][0] == "refused" and "already in the active sequence" in got[busy.pk][1]
    assert Enrollment.objects.filter(lead=free, sequence=sequence, state="active").exists()


def test_a_big_selection_runs_on_the_worker_after_the_commit(ops, settings, django_capture_on_commit_callbacks):
    settings.BULK_ACTION_INLINE = 2
    leads = LeadFactory.create_batch(5, status=Status.MQL)

    with django_capture_on_commit_callbacks(execute=True):
        bulk = bulk_actions.start("lead", "status", {"status": "recycle", "reason": "evaluating"},
                                  [x.pk for x in leads], ops)
        assert (bulk.state, bulk.progress) == ("queued", 0)  # the request answers at once

    bulk.refresh_from_db()
    assert (bulk.state, bulk.progress, bulk.done) == ("finished", 5, 5)
    assert set(Lead.objects.filter(pk__in=[x.pk for x in leads]).values_list("status", flat=True)) == {"recycle"}


def test_a_run_cut_off_resumes_after_the_last_row_it_recorded(ops, sdr):
    first, second = LeadFactory(status=Status.MQL), LeadFactory(status=Status.MQL)
    bulk = BulkAction.objects.create(kind="assign", params={"owner": sdr.pk}, summary="Assign", by=ops, total=2,
                                     record_ids=[first.pk, second.pk], state="running",
                                     results=[[first.pk, "done", "Given to someone."]], done=1)

    bulk_actions.run(bulk.pk)

    bulk.refresh_from_db()
    assert [row[0] for row in bulk.results] == [first.pk, second.pk] and bulk.state == "finished"
    assert Lead.objects.get(pk=first.pk).owner_id != sdr.pk  # recorded as done: not done twice
    assert Lead.objects.get(pk=second.pk).owner_id == sdr.pk


def test_the_rows_of_a_chunk_are_read_in_the_same_queries_for_2_or_20(ops, sdr, settings):
    settings.BULK_ACTION_INLINE = 100

    def reads_for(count: int) -> int:
        leads = LeadFactory.create_batch(count, owner=sdr)
        with CaptureQueriesContext(connection) as captured:
            bulk_actions.start("lead", "assign", {"owner": sdr.pk}, [x.pk for x in leads], ops)  # already theirs
        # Each row has its own savepoint (one refusal undoes no other row); reads are per chunk.
        return sum(1 for query in captured if query["sql"].startswith("SELECT"))

    assert reads_for(2) == reads_for(20)


def test_a_manager_from_another_team_cannot_touch_these_leads(sdr, teammate):
    stranger = UserFactory(role=Role.SDR_MANAGER)
    lead = LeadFactory(owner=sdr)
    bulk = bulk_actions.start("lead", "status", {"status": "recycle", "reason": "evaluating"}, [lead.pk], stranger)
    assert outcomes(bulk)[lead.pk] == ("refused", "No such lead, or not one you may see.")
