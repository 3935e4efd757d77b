"""Sequences, enrolments and sequence events (docs/rules.md §3): the rules in leads/sequences.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from leads import jobs as lead_jobs
from leads import lifecycle, people, sequences, services
from leads.models import (
    Activity,
    ActivityType,
    Cause,
    Contact,
    Enrollment,
    Lead,
    Queue,
    RecycleReason,
    Sequence,
    SequenceEvent,
    Status,
    StatusChange,
    Touch,
)
from leads.tasks import apply_sequence_event
from routing import engine as routing_engine
from routing import services as routing_services
from sdrcrm.errors import Refused
from sdrcrm.jobs import run_job
from tests.factories import (
    AccountFactory,
    ContactFactory,
    EnrollmentFactory,
    LeadFactory,
    SequenceFactory,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
Kind = SequenceEvent.Kind
Reason = Enrollment.FinishReason


def event(enrollment: Enrollment, kind: str, step: int | None = None, occurred_at: datetime | None = None,
          external_id: str = "") -> SequenceEvent:
    """A stored, not yet applied event (what record_event leaves for the worker)."""
    return SequenceEvent.objects.create(enrollment=enrollment, kind=kind, step=step,
                                        occurred_at=occurred_at or NOW, external_id=external_id)


def apply(enrollment: Enrollment, kind: str, step: int | None = None, **kwargs) -> SequenceEvent:
    stored = event(enrollment, kind, step, **kwargs)
    return sequences.apply_event(stored.pk, now=NOW)


def status_of(person) -> str:
    return type(person).objects.get(pk=person.pk).status


def history(person) -> list[tuple[str, str, str]]:
    field = "lead" if isinstance(person, Lead) else "contact"
    return list(StatusChange.objects.filter(**{field: person}).order_by("id").values_list("old", "new", "cause"))


# --- High touch -----------------------------------------------------------------------


def test_company_domain_and_title_make_a_person_high_touch():
    assert sequences.is_high_touch(LeadFactory.build(email="a@acme.com", company="", phone="", title="CTO"))


def test_phone_and_title_make_a_free_mail_person_high_touch():
    lead = LeadFactory.build(email="a@gmail.com", company="", phone="+1 415 555 0100", title="CTO")
    assert sequences.is_high_touch(lead)


def test_a_free_mail_domain_is_no_company():
    assert not sequences.is_high_touch(LeadFactory.build(email="a@gmail.com", company="", phone="", title="CTO"))


def test_a_placeholder_company_name_is_no_company():
    assert not sequences.is_high_touch(LeadFactory.build(email="a@gmail.com", company="N/A", phone="", title="CTO"))


def test_a_phone_with_too_few_digits_is_no_phone():
    assert not sequences.is_high_touch(LeadFactory.build(email="a@gmail.com", company="", phone="123", title="CTO"))


def test_a_contact_with_company_name_and_phone_is_high_touch():
    contact = ContactFactory.build(email="", company="Acme", phone="415-555-0100", title="")
    assert sequences.is_high_touch(contact)


# --- Creating sequences ---------------------------------------------------------------


def test_create_sequence_stores_the_steps_numbered_in_order():
    sequence = sequences.create_sequence(
        {"name": "Inbound", "touch": Touch.HIGH,
         "steps": [{"day_offset": 0, "type": "call"}, {"day_offset": 0, "type": "auto_email"},
                   {"day_offset": 3, "type": "linkedin"}]},
        by=None,
    )
    assert list(sequence.steps.values_list("position", "day_offset", "type")) == [
        (1, 0, "call"), (2, 0, "auto_email"), (3, 3, "linkedin")]


def test_create_sequence_refuses_decreasing_day_offsets_and_writes_nothing():
    with pytest.raises(Refused, match="day offsets may not decrease"):
        sequences.create_sequence({"name": "Bad", "touch": Touch.LOW, "steps": [
            {"day_offset": 3, "type": "call"}, {"day_offset": 1, "type": "call"}]}, by=None)
    assert not Sequence.objects.filter(name="Bad").exists()


def test_create_sequence_refuses_an_unknown_step_type():
    with pytest.raises(Refused, match="type is one of"):
        sequences.create_sequence({"name": "Bad", "touch": Touch.LOW, "steps": [
            {"day_offset": 0, "type": "fax"}]}, by=None)


def test_create_sequence_refuses_steps_out_of_order():
    with pytest.raises(Refused, match="numbered 1 to 2"):
        sequences.create_sequence({"name": "Bad", "touch": Touch.LOW, "steps": [
            {"position": 2, "day_offset": 0, "type": "call"}, {"position": 1, "day_offset": 0, "type": "call"}]},
            by=None)


def test_create_sequence_refuses_a_sequence_without_steps():
    with pytest.raises(Refused, match="at least one step"):
        sequences.create_sequence({"name": "Empty", "touch": Touch.LOW, "steps": []}, by=None)


def test_update_sequence_refuses_to_drop_a_step_an_enrolment_completed():
    enrollment = EnrollmentFactory(sequence__steps=3, current_step=3)

    with pytest.raises(Refused, match="completed step 3; keep at least 3 steps"):
        sequences.update_sequence(enrollment.sequence, {"steps": [{"day_offset": 0, "type": "call"}]})
    assert enrollment.sequence.steps.count() == 3


def test_update_sequence_replaces_the_steps():
    sequence = SequenceFactory(steps=3)
    sequences.update_sequence(sequence, {"steps": [{"day_offset": 1, "type": "call"}]})
    assert list(sequence.steps.values_list("position", "day_offset", "type")) == [(1, 1, "call")]


# --- Enrolling ------------------------------------------------------------------------


def test_enroll_puts_the_lead_in_an_active_enrolment(sdr):
    lead, sequence = LeadFactory(), SequenceFactory()

    enrollment, warnings = sequences.enroll(lead, sequence, by=sdr, now=NOW)

    assert (enrollment.lead, enrollment.state, enrollment.current_step, enrollment.enrolled_by) == (
        lead, Enrollment.State.ACTIVE, 0, sdr)
    assert warnings == []


def test_enroll_takes_a_contact():
    contact = ContactFactory()
    enrollment, _ = sequences.enroll(contact, SequenceFactory(), by=None, now=NOW)
    assert enrollment.contact == contact and enrollment.lead is None


def test_enroll_refuses_an_opted_out_person():
    with pytest.raises(Refused, match="opted out"):
        sequences.enroll(LeadFactory(opted_out=True), SequenceFactory(), by=None)
    assert not Enrollment.objects.exists()


def test_enroll_refuses_an_inactive_person():
    with pytest.raises(Refused, match="inactive"):
        sequences.enroll(LeadFactory(inactive=True), SequenceFactory(), by=None)


def test_enroll_refuses_a_person_already_in_an_active_sequence():
    current = EnrollmentFactory(sequence__name="Trial follow-up")

    with pytest.raises(Refused, match="already in the active sequence 'Trial follow-up'"):
        sequences.enroll(current.lead, SequenceFactory(), by=None)
    assert Enrollment.objects.count() == 1


def test_enroll_after_the_previous_enrolment_finished_is_allowed():
    previous = EnrollmentFactory(state=Enrollment.State.FINISHED, finish_reason=Reason.COMPLETED, finished_at=NOW)
    enrollment, _ = sequences.enroll(previous.lead, SequenceFactory(), by=None)
    assert enrollment.state == Enrollment.State.ACTIVE


def test_enroll_turns_a_lost_race_on_the_unique_index_into_a_refusal(monkeypatch):
    current = EnrollmentFactory()
    # As if the other request committed between this one's check and its insert.
    monkeypatch.setattr(sequences, "_check_enrollable", lambda person, sequence: None)

    with pytest.raises(Refused, match="already in the active sequence"):
        sequences.enroll(current.lead, SequenceFactory(), by=None)
    assert Enrollment.objects.count() == 1


@pytest.mark.parametrize("status", [Status.QUALIFIED, Status.UNQUALIFIED, Status.BAD_DATA,
                                    Status.WEB_PORTAL_PURCHASE])
def test_enroll_refuses_a_closed_lead(status):
    with pytest.raises(Refused, match="closed status"):
        sequences.enroll(LeadFactory(status=status), SequenceFactory(), by=None)


def test_enroll_refuses_a_converted_lead():
    lead = LeadFactory(status=Status.QUALIFYING, converted_to=ContactFactory())
    with pytest.raises(Refused, match="was converted"):
        sequences.enroll(lead, SequenceFactory(), by=None)


def test_enroll_refuses_an_inactive_sequence():
    with pytest.raises(Refused, match="inactive; pick an active one") as refused:
        sequences.enroll(LeadFactory(), SequenceFactory(is_active=False), by=None)
    assert refused.value.field == "sequence"


def test_enrolling_a_high_touch_lead_in_a_low_touch_sequence_warns():
    lead = LeadFactory(first_name="Ada", last_name="Lovelace", email="ada@acme.com", title="CTO")
    _, warnings = sequences.enroll(lead, SequenceFactory(name="Nurture", touch=Touch.LOW), by=None)
    assert warnings == ["Ada Lovelace is high-touch but 'Nurture' is a low-touch sequence."]


def test_enrolling_a_low_touch_lead_in_a_low_touch_sequence_does_not_warn():
    lead = LeadFactory(email="ada@gmail.com", company="", phone="", title="CTO")
    _, warnings = sequences.enroll(lead, SequenceFactory(touch=Touch.LOW), by=None)
    assert warnings == []


def test_enrolling_a_high_touch_lead_in_a_high_touch_sequence_does_not_warn():
    lead = LeadFactory(email="ada@acme.com", title="CTO")
    _, warnings = sequences.enroll(lead, SequenceFactory(touch=Touch.HIGH), by=None)
    assert warnings == []


# --- Applying events ------------------------------------------------------------------


@pytest.mark.parametrize("status", [Status.RAW, Status.INQUIRY, Status.MQL, Status.RECYCLE, Status.UNRESPONSIVE])
def test_first_step_completed_accepts_the_lead(status):
    enrollment = EnrollmentFactory(lead__status=status)

    applied = apply(enrollment, Kind.STEP_COMPLETED, step=1)

    assert status_of(enrollment.lead) == Status.ACCEPTED
    assert history(enrollment.lead) == [(status, Status.ACCEPTED, Cause.SEQUENCE)]
    assert applied.applied_at == NOW and "Accepted" in applied.result


def test_step_completed_moves_the_enrolment_to_that_step():
    enrollment = EnrollmentFactory()
    apply(enrollment, Kind.STEP_COMPLETED, step=2)
    enrollment.refresh_from_db()
    assert enrollment.current_step == 2


def test_a_first_completed_step_other_than_step_one_accepts_the_lead():
    enrollment = EnrollmentFactory(lead__status=Status.MQL)
    apply(enrollment, Kind.STEP_COMPLETED, step=2)
    assert status_of(enrollment.lead) == Status.ACCEPTED


def test_a_later_step_does_not_accept_a_lead_that_left_accepted():
    enrollment = EnrollmentFactory(lead__status=Status.RECYCLE, current_step=1)
    apply(enrollment, Kind.STEP_COMPLETED, step=2)
    assert status_of(enrollment.lead) == Status.RECYCLE


def test_an_older_step_arriving_late_keeps_the_highest_step():
    enrollment = EnrollmentFactory(current_step=3)
    apply(enrollment, Kind.STEP_COMPLETED, step=2)
    enrollment.refresh_from_db()
    assert enrollment.current_step == 3


def test_first_step_completed_leaves_a_qualifying_lead_alone():
    enrollment = EnrollmentFactory(lead__status=Status.QUALIFYING)
    applied = apply(enrollment, Kind.STEP_COMPLETED, step=1)
    assert status_of(enrollment.lead) == Status.QUALIFYING
    assert history(enrollment.lead) == []
    assert "stays Qualifying" in applied.result


def test_first_step_completed_accepts_a_contact():
    enrollment = EnrollmentFactory(lead=None, contact=ContactFactory(status=Status.MQL))
    apply(enrollment, Kind.STEP_COMPLETED, step=1)
    assert status_of(enrollment.contact) == Status.ACCEPTED
    assert history(enrollment.contact) == [(Status.MQL, Status.ACCEPTED, Cause.SEQUENCE)]


def test_reply_moves_an_accepted_lead_to_qualifying():
    enrollment = EnrollmentFactory(lead__status=Status.ACCEPTED, current_step=2)

    apply(enrollment, Kind.REPLIED, occurred_at=NOW - timedelta(hours=1))

    assert status_of(enrollment.lead) == Status.QUALIFYING
    assert history(enrollment.lead) == [(Status.ACCEPTED, Status.QUALIFYING, Cause.REPLY)]


def test_reply_finishes_the_enrolment_as_replied():
    enrollment = EnrollmentFactory(lead__status=Status.ACCEPTED)
    apply(enrollment, Kind.REPLIED, occurred_at=NOW - timedelta(hours=1))
    enrollment.refresh_from_db()
    assert (enrollment.state, enrollment.finish_reason, enrollment.replied_at) == (
        Enrollment.State.FINISHED, Reason.REPLIED, NOW - timedelta(hours=1))


def test_reply_from_an_mql_lead_accepts_then_qualifies_it():
    enrollment = EnrollmentFactory(lead__status=Status.MQL)
    apply(enrollment, Kind.REPLIED)
    assert history(enrollment.lead) == [
        (Status.MQL, Status.ACCEPTED, Cause.REPLY), (Status.ACCEPTED, Status.QUALIFYING, Cause.REPLY)]


def test_reply_from_a_contact_qualifies_the_contact():
    enrollment = EnrollmentFactory(lead=None, contact=ContactFactory(status=Status.ACCEPTED))
    apply(enrollment, Kind.REPLIED)
    assert status_of(enrollment.contact) == Status.QUALIFYING


def test_a_late_reply_to_a_completed_enrolment_marks_it_replied():
    enrollment = EnrollmentFactory(lead__status=Status.ACCEPTED, state=Enrollment.State.FINISHED,
                                   finish_reason=Reason.COMPLETED, finished_at=NOW - timedelta(days=2))
    apply(enrollment, Kind.REPLIED)
    enrollment.refresh_from_db()
    assert (enrollment.finish_reason, enrollment.replied_at) == (Reason.REPLIED, NOW)
    assert status_of(enrollment.lead) == Status.QUALIFYING


def test_finished_event_finishes_the_enrolment_as_completed_at_the_time_it_happened():
    enrollment = EnrollmentFactory()
    apply(enrollment, Kind.FINISHED, occurred_at=NOW - timedelta(hours=3))
    enrollment.refresh_from_db()
    assert (enrollment.state, enrollment.finish_reason, enrollment.finished_at) == (
        Enrollment.State.FINISHED, Reason.COMPLETED, NOW - timedelta(hours=3))


def test_finished_event_keeps_the_reason_of_an_already_finished_enrolment():
    enrollment = EnrollmentFactory(state=Enrollment.State.FINISHED, finish_reason=Reason.REPLIED,
                                   finished_at=NOW - timedelta(days=1))
    applied = apply(enrollment, Kind.FINISHED)
    enrollment.refresh_from_db()
    assert enrollment.finish_reason == Reason.REPLIED
    assert "already finished" in applied.result


def test_bounced_event_finishes_the_enrolment_as_bounced():
    enrollment = EnrollmentFactory()
    apply(enrollment, Kind.BOUNCED)
    enrollment.refresh_from_db()
    assert (enrollment.state, enrollment.finish_reason) == (Enrollment.State.FINISHED, Reason.BOUNCED)


def test_a_step_completed_before_the_enrolment_finished_still_accepts_the_lead():
    # The tool's `finished` was applied first; the step it reports happened before that.
    enrollment = EnrollmentFactory(lead__status=Status.MQL, state=Enrollment.State.FINISHED,
                                   finish_reason=Reason.COMPLETED, finished_at=NOW)
    apply(enrollment, Kind.STEP_COMPLETED, step=1, occurred_at=NOW - timedelta(days=5))
    assert status_of(enrollment.lead) == Status.ACCEPTED


def test_a_step_completed_after_the_enrolment_finished_changes_nothing():
    enrollment = EnrollmentFactory(lead__status=Status.MQL, state=Enrollment.State.FINISHED,
                                   finish_reason=Reason.INACTIVE, finished_at=NOW - timedelta(days=1))
    applied = apply(enrollment, Kind.STEP_COMPLETED, step=1)
    assert status_of(enrollment.lead) == Status.MQL
    assert "after the enrolment finished" in applied.result


def test_applying_the_same_event_twice_changes_nothing_the_second_time():
    enrollment = EnrollmentFactory(lead__status=Status.MQL)
    stored = event(enrollment, Kind.REPLIED)
    first = sequences.apply_event(stored.pk, now=NOW)

    second = sequences.apply_event(stored.pk, now=NOW + timedelta(minutes=5))

    assert (second.applied_at, second.result) == (first.applied_at, first.result)
    assert len(history(enrollment.lead)) == 2


def test_the_task_applies_a_stored_event():
    enrollment = EnrollmentFactory(lead__status=Status.MQL)
    stored = event(enrollment, Kind.STEP_COMPLETED, step=1)

    apply_sequence_event(stored.pk)

    stored.refresh_from_db()
    assert stored.applied_at is not None
    assert status_of(enrollment.lead) == Status.ACCEPTED


def test_the_task_exits_quietly_when_the_event_is_gone():
    waiting = sequences.record_event(EnrollmentFactory(), Kind.REPLIED, now=NOW)  # applied after commit only
    apply_sequence_event(987654321)  # no exception, nothing written
    waiting.refresh_from_db()
    assert waiting.applied_at is None and not StatusChange.objects.exists()


def test_the_task_leaves_an_applied_event_alone():
    enrollment = EnrollmentFactory(lead__status=Status.MQL)
    stored = event(enrollment, Kind.STEP_COMPLETED, step=1)
    SequenceEvent.objects.filter(pk=stored.pk).update(applied_at=NOW, result="done elsewhere")

    apply_sequence_event(stored.pk)

    assert status_of(enrollment.lead) == Status.MQL
    assert SequenceEvent.objects.get(pk=stored.pk).result == "done elsewhere"


# --- Recording events -----------------------------------------------------------------


def test_record_event_stores_the_event_and_applies_it_after_commit(django_capture_on_commit_callbacks, sdr):
    enrollment = EnrollmentFactory(lead__status=Status.MQL)

    with django_capture_on_commit_callbacks(execute=True):
        recorded = sequences.record_event(enrollment, Kind.STEP_COMPLETED, step=1, by=sdr)
        assert SequenceEvent.objects.get(pk=recorded.pk).applied_at is None  # not before commit

    assert SequenceEvent.objects.get(pk=recorded.pk).applied_at is not None
    assert status_of(enrollment.lead) == Status.ACCEPTED


def test_the_same_external_id_sent_twice_is_stored_once(django_capture_on_commit_callbacks):
    enrollment = EnrollmentFactory(lead__status=Status.MQL)

    with django_capture_on_commit_callbacks(execute=True):
        first = sequences.record_event(enrollment, Kind.STEP_COMPLETED, step=1, external_id="tool-1")
    with django_capture_on_commit_callbacks(execute=True):
        second = sequences.record_event(enrollment, Kind.STEP_COMPLETED, step=1, external_id="tool-1")

    assert second.pk == first.pk
    assert SequenceEvent.objects.count() == 1
    assert len(history(enrollment.lead)) == 1


def test_record_event_refuses_an_unknown_kind():
    with pytest.raises(Refused, match="'opened' is not a sequence event") as refused:
        sequences.record_event(EnrollmentFactory(), "opened")
    assert refused.value.field == "kind"


def test_record_event_needs_the_step_of_a_completed_step():
    with pytest.raises(Refused, match="step is required"):
        sequences.record_event(EnrollmentFactory(), Kind.STEP_COMPLETED)


def test_record_event_refuses_a_step_the_sequence_does_not_have():
    with pytest.raises(Refused, match="has steps 1 to 3; there is no step 4"):
        sequences.record_event(EnrollmentFactory(sequence__steps=3), Kind.STEP_COMPLETED, step=4)


def test_record_event_refuses_a_time_more_than_a_day_ahead():
    with pytest.raises(Refused, match="more than a day in the future"):
        sequences.record_event(EnrollmentFactory(), Kind.REPLIED, occurred_at=NOW + timedelta(days=1, minutes=1),
                               now=NOW)


def test_record_event_refuses_a_new_step_on_a_finished_enrolment():
    enrollment = EnrollmentFactory(state=Enrollment.State.FINISHED, finish_reason=Reason.MANUAL, finished_at=NOW)
    with pytest.raises(Refused, match="enrolment is finished"):
        sequences.record_event(enrollment, Kind.STEP_COMPLETED, step=1, now=NOW + timedelta(hours=1))
    assert not SequenceEvent.objects.exists()


def test_record_event_takes_a_late_reply_on_a_finished_enrolment():
    enrollment = EnrollmentFactory(state=Enrollment.State.FINISHED, finish_reason=Reason.COMPLETED, finished_at=NOW)
    recorded = sequences.record_event(enrollment, Kind.REPLIED, now=NOW + timedelta(days=2))
    applied = sequences.apply_event(recorded.pk, now=NOW + timedelta(days=2))
    enrollment.refresh_from_db()
    assert applied.applied_at is not None and enrollment.replied_at is not None


# --- Finishing enrolments from elsewhere ------------------------------------------------


def test_marking_a_lead_inactive_finishes_its_active_enrolment():
    enrollment = EnrollmentFactory()

    people.update_person(enrollment.lead, {"inactive": True}, by=None)

    enrollment.refresh_from_db()
    assert (enrollment.state, enrollment.finish_reason) == (Enrollment.State.FINISHED, Reason.INACTIVE)


def test_an_ingest_marking_a_lead_inactive_finishes_its_active_enrolment():
    enrollment = EnrollmentFactory()

    services.ingest_lead({"email": enrollment.lead.email, "inactive": True}, by=None)

    enrollment.refresh_from_db()
    assert (enrollment.state, enrollment.finish_reason) == (Enrollment.State.FINISHED, Reason.INACTIVE)


def test_marking_a_contact_inactive_finishes_its_active_enrolment():
    enrollment = EnrollmentFactory(lead=None, contact=ContactFactory())
    people.update_person(enrollment.contact, {"inactive": True}, by=None)
    enrollment.refresh_from_db()
    assert enrollment.finish_reason == Reason.INACTIVE


def test_editing_other_fields_leaves_the_enrolment_active():
    enrollment = EnrollmentFactory()
    people.update_person(enrollment.lead, {"title": "VP Engineering"}, by=None)
    enrollment.refresh_from_db()
    assert enrollment.state == Enrollment.State.ACTIVE


def test_routing_into_the_community_advocate_queue_finishes_active_enrolments(monkeypatch):
    enrollment = EnrollmentFactory()
    monkeypatch.setattr(routing_engine, "decide", lambda facts, rules: routing_engine.Decision(
        "queue", "Education program request.", queue=Queue.COMMUNITY_ADVOCATE))

    routing_services.route_lead(enrollment.lead)

    enrollment.refresh_from_db()
    assert (enrollment.state, enrollment.finish_reason) == (Enrollment.State.FINISHED, Reason.COMMUNITY_PROGRAM)


def test_routing_into_another_queue_leaves_the_enrolment_active(monkeypatch):
    enrollment = EnrollmentFactory()
    monkeypatch.setattr(routing_engine, "decide", lambda facts, rules: routing_engine.Decision(
        "queue", "No rule matched.", queue=Queue.UNASSIGNED))
    routing_services.route_lead(enrollment.lead)
    enrollment.refresh_from_db()
    assert enrollment.state == Enrollment.State.ACTIVE


def test_converting_a_lead_finishes_its_enrolment_as_converted():
    enrollment = EnrollmentFactory(lead__status=Status.QUALIFYING)
    routing_services.convert_into_account(enrollment.lead, AccountFactory(), owner_id=None)
    enrollment.refresh_from_db()
    assert enrollment.finish_reason == Reason.CONVERTED


def test_finish_enrollments_leaves_finished_ones_alone():
    old = EnrollmentFactory(state=Enrollment.State.FINISHED, finish_reason=Reason.REPLIED, finished_at=NOW)
    assert sequences.finish_enrollments(old.lead, Reason.MANUAL, NOW) == 0
    old.refresh_from_db()
    assert old.finish_reason == Reason.REPLIED


# --- The unresponsive job ---------------------------------------------------------------


def completed(days_ago: timedelta, status: str = Status.ACCEPTED, **kwargs) -> Enrollment:
    return EnrollmentFactory(lead__status=status, state=Enrollment.State.FINISHED, finish_reason=Reason.COMPLETED,
                             finished_at=NOW - days_ago, enrolled_at=NOW - days_ago - timedelta(days=10), **kwargs)


def test_seven_days_after_a_sequence_finished_without_reply_the_lead_is_unresponsive():
    enrollment = completed(timedelta(days=7))

    counts = lead_jobs.follow_up_unresponsive(NOW)

    assert status_of(enrollment.lead) == Status.UNRESPONSIVE
    assert history(enrollment.lead) == [(Status.ACCEPTED, Status.UNRESPONSIVE, Cause.JOB)]
    assert counts == {"checked": 1, "moved": 1}


def test_six_days_23_hours_after_it_finished_nothing_happens_yet():
    enrollment = completed(timedelta(days=6, hours=23))

    assert lead_jobs.follow_up_unresponsive(NOW) == {"checked": 0, "moved": 0}
    assert status_of(enrollment.lead) == Status.ACCEPTED
    enrollment.refresh_from_db()
    assert enrollment.followed_up_at is None


def test_running_the_unresponsive_job_twice_with_the_same_clock_does_nothing_new():
    enrollment = completed(timedelta(days=8))
    lead_jobs.follow_up_unresponsive(NOW)
    # Back to accepted by hand: a second run must not move it again.
    lifecycle.transition(Lead.objects.get(pk=enrollment.lead_id), Status.ACCEPTED, by=None)

    assert lead_jobs.follow_up_unresponsive(NOW) == {"checked": 0, "moved": 0}
    assert status_of(enrollment.lead) == Status.ACCEPTED


def test_the_recycle_setting_recycles_for_no_response(settings):
    settings.UNRESPONSIVE_STATUS = "recycle"
    enrollment = completed(timedelta(days=7))

    lead_jobs.follow_up_unresponsive(NOW)

    lead = Lead.objects.get(pk=enrollment.lead_id)
    assert (lead.status, lead.status_reason) == (Status.RECYCLE, RecycleReason.NO_RESPONSE)
    assert history(lead) == [(Status.ACCEPTED, Status.RECYCLE, Cause.JOB)]


def test_the_wait_is_a_setting(settings):
    settings.UNRESPONSIVE_AFTER_DAYS = 3
    enrollment = completed(timedelta(days=3))
    lead_jobs.follow_up_unresponsive(NOW)
    assert status_of(enrollment.lead) == Status.UNRESPONSIVE


def test_a_lead_no_longer_accepted_is_followed_up_but_not_moved():
    enrollment = completed(timedelta(days=9), status=Status.QUALIFYING)

    assert lead_jobs.follow_up_unresponsive(NOW) == {"checked": 1, "moved": 0}
    assert status_of(enrollment.lead) == Status.QUALIFYING
    enrollment.refresh_from_db()
    assert enrollment.followed_up_at == NOW


def test_a_reply_since_in_a_later_enrolment_keeps_the_lead_accepted():
    enrollment = completed(timedelta(days=9))
    EnrollmentFactory(lead=enrollment.lead, state=Enrollment.State.FINISHED, finish_reason=Reason.BOUNCED,
                      finished_at=NOW - timedelta(days=1), replied_at=NOW - timedelta(days=2))
    lead_jobs.follow_up_unresponsive(NOW)
    assert status_of(enrollment.lead) == Status.ACCEPTED


def test_a_sequence_reply_activity_since_keeps_the_lead_accepted():
    enrollment = completed(timedelta(days=9))
    Activity.objects.create(lead=enrollment.lead, type=ActivityType.SEQUENCE_REPLY, occurred_at=NOW - timedelta(days=1))
    lead_jobs.follow_up_unresponsive(NOW)
    assert status_of(enrollment.lead) == Status.ACCEPTED


def test_a_lead_in_a_new_active_enrolment_keeps_accepted():
    enrollment = completed(timedelta(days=9))
    EnrollmentFactory(lead=enrollment.lead)
    lead_jobs.follow_up_unresponsive(NOW)
    assert status_of(enrollment.lead) == Status.ACCEPTED


def test_enrolments_finished_for_other_reasons_are_not_followed_up():
    enrollment = EnrollmentFactory(lead__status=Status.ACCEPTED, state=Enrollment.State.FINISHED,
                                   finish_reason=Reason.MANUAL, finished_at=NOW - timedelta(days=30))
    lead_jobs.follow_up_unresponsive(NOW)
    assert status_of(enrollment.lead) == Status.ACCEPTED


def test_the_unresponsive_job_works_through_every_batch(settings):
    settings.JOB_BATCH_SIZE = 2
    enrollments = [completed(timedelta(days=7, hours=n)) for n in range(5)]

    assert lead_jobs.follow_up_unresponsive(NOW) == {"checked": 5, "moved": 5}
    assert {status_of(e.lead) for e in enrollments} == {Status.UNRESPONSIVE}


def test_a_contact_whose_sequence_ran_out_becomes_unresponsive():
    enrollment = completed(timedelta(days=7), lead=None, contact=ContactFactory(status=Status.ACCEPTED))
    lead_jobs.follow_up_unresponsive(NOW)
    assert Contact.objects.get(pk=enrollment.contact_id).status == Status.UNRESPONSIVE


def test_the_unresponsive_job_runs_through_run_job():
    enrollment = completed(timedelta(days=7))
    run = run_job("unresponsive", NOW)
    assert run.counts == {"checked": 1, "moved": 1}
    assert status_of(enrollment.lead) == Status.UNRESPONSIVE


def test_events_stranded_without_a_task_are_enqueued_again_and_applied(settings, django_capture_on_commit_callbacks):
    lead = LeadFactory(status=Status.MQL)
    enrollment = EnrollmentFactory(lead=lead)
    old = SequenceEvent.objects.create(enrollment=enrollment, kind="step_completed", step=1,
                                       occurred_at=timezone.now())
    fresh_lead = LeadFactory(status=Status.MQL)
    fresh = SequenceEvent.objects.create(enrollment=EnrollmentFactory(lead=fresh_lead), kind="step_completed",
                                         step=1, occurred_at=timezone.now())
    cutoff = timezone.now() - timedelta(seconds=settings.SEQUENCE_EVENT_REQUEUE_AFTER_SECONDS)
    SequenceEvent.objects.filter(pk=old.pk).update(received_at=cutoff - timedelta(seconds=1))

    with django_capture_on_commit_callbacks(execute=True):
        counts = lead_jobs.requeue_stranded_events(timezone.now())

    assert counts == {"requeued": 1}
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.applied_at is not None and fresh.applied_at is None
    lead.refresh_from_db()
    assert lead.status == Status.ACCEPTED
    assert lead_jobs.requeue_stranded_events(timezone.now()) == {"requeued": 0}


def test_a_stranded_event_is_sent_again_only_once_the_delay_has_passed_again(settings):
    event = SequenceEvent.objects.create(enrollment=EnrollmentFactory(lead=LeadFactory(status=Status.MQL)),
                                         kind="step_completed", step=1, occurred_at=timezone.now())
    delay = timedelta(seconds=settings.SEQUENCE_EVENT_REQUEUE_AFTER_SECONDS)
    now = timezone.now()
    SequenceEvent.objects.filter(pk=event.pk).update(received_at=now - 2 * delay)
    # Sent again (its task lost too: the test's transaction never commits).
    assert lead_jobs.requeue_stranded_events(now) == {"requeued": 1}
    assert SequenceEvent.objects.get(pk=event.pk).requeued_at == now

    assert lead_jobs.requeue_stranded_events(now + delay / 2) == {"requeued": 0}
    assert lead_jobs.requeue_stranded_events(now + delay) == {"requeued": 1}
