"""A sequence's steps that a person does (call, manual email, LinkedIn, to-do) are tasks
(leads/sequences.py sync_step_task): the next one of each active enrolment, for the
person's owner, due when the step is; done by the task's Done (which completes the step
in the enrolment) or by the sequencing tool's event; gone when the enrolment finishes;
moved with the person to a new owner."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.utils import timezone

from leads import people, sequences
from leads import today as work
from leads.models import Enrollment, SequenceEvent, Status, Task
from tests.factories import ContactFactory, EnrollmentFactory, LeadFactory, SequenceFactory, SequenceStepFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cadence():
    """Day 0 automatic email, day 2 call, day 5 LinkedIn."""
    sequence = SequenceFactory(steps=0, name="Outbound")
    for position, (day, kind) in enumerate([(0, "auto_email"), (2, "call"), (5, "linkedin")], start=1):
        SequenceStepFactory(sequence=sequence, position=position, day_offset=day, type=kind)
    return sequence


def open_step_tasks(**person) -> list[tuple[int, str, str]]:
    return list(Task.objects.filter(**person, enrollment__isnull=False, done_at=None)
                .values_list("step", "kind", "owner__username"))


def test_enrolling_makes_no_task_for_an_automatic_step_and_the_tools_event_brings_the_call(
        sdr, cadence, django_capture_on_commit_callbacks):
    lead = LeadFactory(owner=sdr, status=Status.MQL)
    enrollment, _ = sequences.enroll(lead, cadence, sdr)
    assert open_step_tasks(lead=lead) == []

    with django_capture_on_commit_callbacks(execute=True):
        sequences.record_event(enrollment, "step_completed", step=1)

    task = Task.objects.get(enrollment=enrollment)
    assert (task.step, task.kind, task.owner, task.lead, task.title) == (
        2, "call", sdr, lead, "Call: step 2 of Outbound")
    assert task.due_at == enrollment.enrolled_at + timedelta(days=2)


def test_a_first_step_done_by_hand_is_a_task_at_once_and_its_done_accepts_the_lead(
        sdr, django_capture_on_commit_callbacks):
    sequence = SequenceFactory(steps=0, name="Call first")
    SequenceStepFactory(sequence=sequence, position=1, day_offset=0, type="call")
    SequenceStepFactory(sequence=sequence, position=2, day_offset=1, type="manual_email")
    lead = LeadFactory(owner=sdr, status=Status.MQL)
    enrollment, _ = sequences.enroll(lead, sequence, sdr)
    first = Task.objects.get(enrollment=enrollment)
    assert first.step == 1

    with django_capture_on_commit_callbacks(execute=True):
        assert work.complete(first, sdr)

    lead.refresh_from_db()
    assert lead.status == Status.ACCEPTED  # the first step completed: the same rule as the tool's event
    assert Enrollment.objects.get(pk=enrollment.pk).current_step == 1
    assert open_step_tasks(lead=lead) == [(2, "email", sdr.username)]
    # A second click on Done (another tab) records nothing more.
    assert not work.complete(first, sdr)
    assert SequenceEvent.objects.filter(enrollment=enrollment).count() == 1


def test_the_tool_completing_a_step_closes_its_task_and_a_reply_drops_the_next(
        sdr, cadence, django_capture_on_commit_callbacks):
    lead = LeadFactory(owner=sdr, status=Status.MQL)
    enrollment = EnrollmentFactory(lead=lead, sequence=cadence, current_step=1)
    sequences.add_step_tasks([enrollment])
    call = Task.objects.get(enrollment=enrollment, step=2)

    with django_capture_on_commit_callbacks(execute=True):
        sequences.record_event(enrollment, "step_completed", step=2)
    assert Task.objects.get(pk=call.pk).done_at is not None
    assert open_step_tasks(lead=lead) == [(3, "linkedin", sdr.username)]

    with django_capture_on_commit_callbacks(execute=True):
        sequences.record_event(enrollment, "replied")
    assert open_step_tasks(lead=lead) == []
    assert Task.objects.filter(pk=call.pk).exists()  # what was done stays in the record


def test_finishing_an_enrolment_by_hand_or_by_a_status_drops_its_open_step_task(sdr, cadence):
    lead, contact = LeadFactory(owner=sdr, status=Status.MQL), ContactFactory(owner=sdr, status=Status.MQL)
    by_hand = EnrollmentFactory(lead=lead, sequence=cadence, current_step=1)
    of_contact = EnrollmentFactory(lead=None, contact=contact, sequence=cadence, current_step=1)
    assert sequences.add_step_tasks([by_hand, of_contact]) == 2

    sequences.finish_enrollment(by_hand)
    sequences.finish_enrollments(contact, sequences.Reason.INACTIVE)

    assert open_step_tasks(lead=lead) == [] and open_step_tasks(contact=contact) == []


def test_a_person_given_to_a_teammate_takes_the_open_step_task_not_the_hand_made_ones(
        sdr, teammate, manager, cadence):
    lead = LeadFactory(owner=sdr, status=Status.MQL)
    sequences.add_step_tasks([EnrollmentFactory(lead=lead, sequence=cadence, current_step=1)])
    mine = work.add_task(lead, sdr, "Send the deck", "email", timezone.now() + timedelta(hours=1))

    people.update_person(lead, {"owner": teammate}, manager)

    assert open_step_tasks(lead=lead) == [(2, "call", teammate.username)]
    assert Task.objects.get(pk=mine.pk).owner == sdr
    assert [t.title for t in work.today(teammate, timezone.now() + timedelta(days=3)).steps_due] == [
        "Call: step 2 of Outbound"]


def test_a_queued_person_has_no_step_task_until_someone_owns_them(cadence):
    lead = LeadFactory(owner=None, status=Status.MQL)
    assert sequences.add_step_tasks([EnrollmentFactory(lead=lead, sequence=cadence, current_step=1)]) == 0


def test_the_migration_gives_the_active_enrolments_of_the_day_their_step_tasks(sdr, cadence):
    lead, done = LeadFactory(owner=sdr, status=Status.MQL), LeadFactory(owner=sdr, status=Status.MQL)
    active = EnrollmentFactory(lead=lead, sequence=cadence, current_step=1)
    EnrollmentFactory(lead=done, sequence=cadence, current_step=1, state="finished")
    migration = importlib.import_module("leads.migrations.0020_sequence_step_tasks")

    migration.add_step_tasks(apps, None)
    migration.add_step_tasks(apps, None)  # twice: nothing doubled

    task = Task.objects.get(enrollment__isnull=False)
    assert (task.enrollment_id, task.step, task.kind, task.title) == (active.pk, 2, "call", "Call: step 2 of Outbound")
    assert task.due_at == active.enrolled_at + timedelta(days=2)


def test_the_api_lists_a_step_task_with_its_step_and_its_done_completes_the_step(
        sdr_api, sdr, cadence, django_capture_on_commit_callbacks):
    lead = LeadFactory(owner=sdr, status=Status.MQL)
    enrollment = EnrollmentFactory(lead=lead, sequence=cadence, current_step=1)
    sequences.add_step_tasks([enrollment])

    listed = sdr_api.get("/api/v1/tasks/").json()["results"]
    assert [(row["enrollment"], row["step"], row["title"]) for row in listed] == [
        (enrollment.pk, 2, "Call: step 2 of Outbound")]
    with django_capture_on_commit_callbacks(execute=True):
        answer = sdr_api.post(f"/api/v1/tasks/{listed[0]['id']}/done/")

    assert answer.status_code == 200 and answer.json()["done_at"] is not None
    assert Enrollment.objects.get(pk=enrollment.pk).current_step == 2
    assert open_step_tasks(lead=lead) == [(3, "linkedin", sdr.username)]
