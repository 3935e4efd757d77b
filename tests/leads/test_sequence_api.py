"""Sequences, enrolments and sequence events through /api/v1/ (docs/rules.md §3)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from leads.models import Enrollment, Lead, Sequence, SequenceEvent, Status, Touch
from tests.factories import ContactFactory, EnrollmentFactory, LeadFactory, SequenceFactory

pytestmark = pytest.mark.django_db

SEQUENCES = "/api/v1/sequences/"
ENROLLMENTS = "/api/v1/enrollments/"
MAX_LIST_QUERIES = 8


def events_url(enrollment: Enrollment) -> str:
    return f"{ENROLLMENTS}{enrollment.pk}/events/"


def finish_url(enrollment: Enrollment) -> str:
    return f"{ENROLLMENTS}{enrollment.pk}/finish/"


def steps(*offsets: int, type: str = "auto_email") -> list[dict]:
    return [{"day_offset": offset, "type": type} for offset in offsets]


# --- Sequences --------------------------------------------------------------------------


def test_an_sdr_reads_sequences_with_their_steps_in_order(api, sdr):
    SequenceFactory(name="Inbound", steps=3)

    body = api.as_user(sdr).get(SEQUENCES).json()

    assert [row["name"] for row in body["results"]] == ["Inbound"]
    assert [step["position"] for step in body["results"][0]["steps"]] == [1, 2, 3]


def test_a_sequence_shows_how_many_enrolments_are_active(api, sdr):
    sequence = SequenceFactory()
    EnrollmentFactory.create_batch(2, sequence=sequence)
    EnrollmentFactory(sequence=sequence, state=Enrollment.State.FINISHED, finish_reason="manual",
                      finished_at=timezone.now())

    row = api.as_user(sdr).get(f"{SEQUENCES}{sequence.pk}/").json()

    assert row["active_enrollments"] == 2


def test_an_sdr_may_not_create_a_sequence(api, sdr):
    response = api.as_user(sdr).post(SEQUENCES, {"name": "Mine", "touch": "high", "steps": steps(0)},
                                     format="json")
    assert response.status_code == 403
    assert "Ops and managers may create" in response.json()["detail"]


def test_a_manager_creates_a_sequence_with_its_steps(api, manager):
    response = api.as_user(manager).post(
        SEQUENCES, {"name": "Inbound high touch", "touch": "high", "steps": steps(0, 1, 3)}, format="json")

    assert response.status_code == 201, response.content
    assert [(s["position"], s["day_offset"]) for s in response.json()["steps"]] == [(1, 0), (2, 1), (3, 3)]
    assert response.json()["created_by"] == manager.username


def test_ops_replace_the_steps_of_a_sequence(api, ops):
    sequence = SequenceFactory(steps=3)

    response = api.as_user(ops).patch(f"{SEQUENCES}{sequence.pk}/", {"steps": steps(0, 5, type="call")},
                                      format="json")

    assert response.status_code == 200, response.content
    assert list(sequence.steps.values_list("position", "day_offset", "type")) == [(1, 0, "call"), (2, 5, "call")]


def test_decreasing_day_offsets_answer_400_and_create_nothing(api, ops):
    response = api.as_user(ops).post(SEQUENCES, {"name": "Bad", "touch": "low", "steps": steps(3, 1)},
                                     format="json")
    assert response.status_code == 400
    assert "day offsets may not decrease" in response.json()["detail"]
    assert response.json()["errors"] == {"steps": [response.json()["detail"]]}
    assert not Sequence.objects.filter(name="Bad").exists()


def test_an_unknown_step_type_answers_400(api, ops):
    response = api.as_user(ops).post(SEQUENCES, {"name": "Bad", "touch": "low", "steps": steps(0, type="fax")},
                                      format="json")
    assert response.status_code == 400
    assert "steps" in response.json()["errors"]


@pytest.mark.parametrize("rows", [5, 60])
def test_the_sequence_list_takes_the_same_few_queries_for_5_or_60(api, sdr, rows, django_assert_max_num_queries):
    for _ in range(rows):
        EnrollmentFactory(sequence=SequenceFactory(created_by=sdr))
    client = api.as_user(sdr)

    with django_assert_max_num_queries(MAX_LIST_QUERIES):
        response = client.get(SEQUENCES)

    assert len(response.json()["results"]) == min(rows, 50)


# --- Enrolling --------------------------------------------------------------------------


def test_an_sdr_enrols_their_lead_and_gets_201_with_warnings(api, sdr):
    lead, sequence = LeadFactory(owner=sdr), SequenceFactory(steps=4)

    response = api.as_user(sdr).post(ENROLLMENTS, {"sequence": sequence.pk, "lead": lead.pk}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["lead"], body["state"], body["step_count"], body["warnings"]) == (lead.pk, "active", 4, [])
    assert Enrollment.objects.get(pk=body["id"]).enrolled_by == sdr


def test_enrolling_a_high_touch_lead_in_a_low_touch_sequence_answers_the_warning(api, sdr):
    lead = LeadFactory(owner=sdr, email="ada@acme.com", title="CTO")
    sequence = SequenceFactory(name="Nurture", touch=Touch.LOW)

    body = api.as_user(sdr).post(ENROLLMENTS, {"sequence": sequence.pk, "lead": lead.pk}, format="json").json()

    assert body["warnings"] == [f"{lead.full_name} is high-touch but 'Nurture' is a low-touch sequence."]


def test_an_sdr_enrols_their_contact(api, sdr):
    contact = ContactFactory(owner=sdr)
    response = api.as_user(sdr).post(ENROLLMENTS, {"sequence": SequenceFactory().pk, "contact": contact.pk},
                                     format="json")
    assert response.status_code == 201
    assert response.json()["contact"] == contact.pk


def test_enrolling_another_teams_lead_answers_404(api, sdr, other_sdr):
    lead = LeadFactory(owner=sdr)
    response = api.as_user(other_sdr).post(ENROLLMENTS, {"sequence": SequenceFactory().pk, "lead": lead.pk},
                                           format="json")
    assert response.status_code == 404
    assert not Enrollment.objects.exists()


def test_enrolling_a_teammates_lead_answers_403(api, sdr, teammate):
    lead = LeadFactory(owner=teammate)
    response = api.as_user(sdr).post(ENROLLMENTS, {"sequence": SequenceFactory().pk, "lead": lead.pk},
                                      format="json")
    assert response.status_code == 403
    assert not Enrollment.objects.exists()


@pytest.mark.parametrize("people", [{}, {"lead": 1, "contact": 1}])
def test_enrolling_needs_exactly_one_of_lead_or_contact(api, sdr, people):
    response = api.as_user(sdr).post(ENROLLMENTS, {"sequence": SequenceFactory().pk, **people}, format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == "Give exactly one of lead or contact."


def test_enrolling_in_an_unknown_sequence_answers_400(api, sdr):
    lead = LeadFactory(owner=sdr)
    response = api.as_user(sdr).post(ENROLLMENTS, {"sequence": 999999, "lead": lead.pk}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"sequence": ["No sequence with id 999999."]}


def test_enrolling_an_opted_out_lead_answers_400_with_the_reason(api, sdr):
    lead = LeadFactory(owner=sdr, opted_out=True)
    response = api.as_user(sdr).post(ENROLLMENTS, {"sequence": SequenceFactory().pk, "lead": lead.pk},
                                     format="json")
    assert response.status_code == 400
    assert "opted out" in response.json()["detail"]


def test_enrolling_a_lead_already_in_a_sequence_answers_400(api, sdr):
    current = EnrollmentFactory(lead__owner=sdr, sequence__name="Trial follow-up")
    response = api.as_user(sdr).post(ENROLLMENTS, {"sequence": SequenceFactory().pk, "lead": current.lead_id},
                                     format="json")
    assert response.status_code == 400
    assert "already in the active sequence 'Trial follow-up'" in response.json()["detail"]


def test_enrolling_in_an_inactive_sequence_answers_400(api, sdr):
    lead = LeadFactory(owner=sdr)
    response = api.as_user(sdr).post(ENROLLMENTS, {"sequence": SequenceFactory(is_active=False).pk,
                                                   "lead": lead.pk}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["sequence"]


# --- Listing enrolments -------------------------------------------------------------------


def test_the_enrolment_list_shows_only_enrolments_of_visible_people(api, sdr, other_sdr):
    mine = EnrollmentFactory(lead__owner=sdr)
    EnrollmentFactory(lead__owner=other_sdr)

    body = api.as_user(sdr).get(ENROLLMENTS).json()

    assert [row["id"] for row in body["results"]] == [mine.pk]


def test_another_teams_enrolment_answers_404(api, sdr, other_sdr):
    enrollment = EnrollmentFactory(lead__owner=sdr)
    assert api.as_user(other_sdr).get(f"{ENROLLMENTS}{enrollment.pk}/").status_code == 404


def test_the_enrolment_list_filters_by_lead(api, sdr):
    wanted = EnrollmentFactory(lead__owner=sdr)
    EnrollmentFactory(lead__owner=sdr)
    body = api.as_user(sdr).get(f"{ENROLLMENTS}?lead={wanted.lead_id}").json()
    assert [row["id"] for row in body["results"]] == [wanted.pk]


def test_the_enrolment_list_filters_by_contact(api, sdr):
    wanted = EnrollmentFactory(lead=None, contact=ContactFactory(owner=sdr))
    EnrollmentFactory(lead__owner=sdr)
    body = api.as_user(sdr).get(f"{ENROLLMENTS}?contact={wanted.contact_id}").json()
    assert [row["id"] for row in body["results"]] == [wanted.pk]


def test_the_enrolment_list_filters_by_state(api, sdr):
    EnrollmentFactory(lead__owner=sdr)
    finished = EnrollmentFactory(lead__owner=sdr, state=Enrollment.State.FINISHED, finish_reason="manual",
                                 finished_at=timezone.now())
    body = api.as_user(sdr).get(f"{ENROLLMENTS}?state=finished").json()
    assert [row["id"] for row in body["results"]] == [finished.pk]


def test_a_bad_state_filter_answers_400(api, sdr):
    response = api.as_user(sdr).get(f"{ENROLLMENTS}?state=paused")
    assert response.status_code == 400
    assert "state" in response.json()["errors"]


@pytest.mark.parametrize("rows", [5, 60])
@pytest.mark.parametrize("user_fixture", ["sdr", "manager", "ops"])
def test_the_enrolment_list_takes_the_same_few_queries_for_5_or_60(
    request, api, sdr, user_fixture, rows, django_assert_max_num_queries
):
    sequence = SequenceFactory()
    for _ in range(rows):
        EnrollmentFactory(sequence=sequence, lead__owner=sdr, enrolled_by=sdr)
    client = api.as_user(request.getfixturevalue(user_fixture))

    with django_assert_max_num_queries(MAX_LIST_QUERIES):
        response = client.get(ENROLLMENTS)

    assert len(response.json()["results"]) == min(rows, 50)


# --- Events -------------------------------------------------------------------------------


def test_posting_an_event_answers_202_with_the_stored_unapplied_event(api, sdr):
    enrollment = EnrollmentFactory(lead__owner=sdr)

    response = api.as_user(sdr).post(events_url(enrollment), {"kind": "step_completed", "step": 1}, format="json")

    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["kind"], body["step"], body["applied_at"]) == ("step_completed", 1, None)
    assert SequenceEvent.objects.filter(pk=body["id"], enrollment=enrollment).exists()


def test_a_posted_event_is_applied_once_the_request_commits(api, sdr, django_capture_on_commit_callbacks):
    enrollment = EnrollmentFactory(lead__owner=sdr, lead__status=Status.MQL)

    with django_capture_on_commit_callbacks(execute=True):
        api.as_user(sdr).post(events_url(enrollment), {"kind": "step_completed", "step": 1}, format="json")

    assert Lead.objects.get(pk=enrollment.lead_id).status == Status.ACCEPTED


def test_the_same_external_id_posted_twice_answers_the_same_event(api, integration):
    enrollment = EnrollmentFactory(enrolled_by=integration)
    client = api.as_user(integration)
    body = {"kind": "replied", "external_id": "outreach-42"}

    first = client.post(events_url(enrollment), body, format="json").json()
    second = client.post(events_url(enrollment), body, format="json").json()

    assert second["id"] == first["id"]
    assert SequenceEvent.objects.count() == 1


def test_the_sequencing_tool_reports_events_only_on_enrolments_it_may_see(api, integration, sdr):
    theirs = EnrollmentFactory(lead__owner=sdr)
    its_own = EnrollmentFactory(lead__owner=sdr, enrolled_by=integration)
    client = api.as_user(integration)

    assert client.post(events_url(theirs), {"kind": "bounced"}, format="json").status_code == 404
    assert client.post(events_url(its_own), {"kind": "bounced"}, format="json").status_code == 202
    assert list(SequenceEvent.objects.values_list("enrollment", "kind")) == [(its_own.pk, "bounced")]


@pytest.mark.parametrize(("body", "message"), [
    ({"kind": "opened"}, "'opened' is not a sequence event; one of: step_completed, replied, finished, bounced."),
    ({"kind": "step_completed"}, "step is required for step_completed."),
    ({"kind": "step_completed", "step": 4}, "has steps 1 to 3; there is no step 4."),
    ({"kind": "replied", "occurred_at": "2999-01-01T00:00:00Z"}, "occurred_at is more than a day in the future."),
    ({"kind": "replied", "occurred_at": "yesterday"}, "occurred_at"),
    ({}, "kind"),
])
def test_a_bad_event_answers_400_with_a_message_and_stores_nothing(api, sdr, body, message):
    enrollment = EnrollmentFactory(lead__owner=sdr, sequence__steps=3)

    response = api.as_user(sdr).post(events_url(enrollment), body, format="json")

    assert response.status_code == 400
    assert message in response.json()["detail"]
    assert not SequenceEvent.objects.exists()


def test_a_step_on_a_finished_enrolment_answers_400(api, sdr):
    enrollment = EnrollmentFactory(lead__owner=sdr, state=Enrollment.State.FINISHED, finish_reason="manual",
                                   finished_at=timezone.now() - timedelta(hours=1))
    response = api.as_user(sdr).post(events_url(enrollment), {"kind": "step_completed", "step": 1}, format="json")
    assert response.status_code == 400
    assert "enrolment is finished" in response.json()["detail"]


def test_a_late_reply_on_a_finished_enrolment_is_accepted(api, sdr, django_capture_on_commit_callbacks):
    enrollment = EnrollmentFactory(lead__owner=sdr, state=Enrollment.State.FINISHED, finish_reason="completed",
                                   finished_at=timezone.now() - timedelta(days=2))
    with django_capture_on_commit_callbacks(execute=True):
        response = api.as_user(sdr).post(events_url(enrollment), {"kind": "replied"}, format="json")
    assert response.status_code == 202
    assert SequenceEvent.objects.filter(enrollment=enrollment, kind="replied").exclude(applied_at=None).exists()
    assert Enrollment.objects.get(pk=enrollment.pk).finish_reason == "replied"


def test_another_teams_sdr_gets_404_posting_an_event(api, sdr, other_sdr):
    enrollment = EnrollmentFactory(lead__owner=sdr)
    response = api.as_user(other_sdr).post(events_url(enrollment), {"kind": "replied"}, format="json")
    assert response.status_code == 404
    assert not SequenceEvent.objects.exists()


def test_a_teammate_who_may_only_read_gets_403_posting_an_event(api, sdr, teammate):
    enrollment = EnrollmentFactory(lead__owner=teammate)
    response = api.as_user(sdr).post(events_url(enrollment), {"kind": "replied"}, format="json")
    assert response.status_code == 403
    assert not SequenceEvent.objects.exists()


def test_the_events_of_an_enrolment_are_listed_oldest_first(api, sdr):
    enrollment = EnrollmentFactory(lead__owner=sdr)
    first = SequenceEvent.objects.create(enrollment=enrollment, kind="step_completed", step=1,
                                         occurred_at=timezone.now())
    second = SequenceEvent.objects.create(enrollment=enrollment, kind="replied", occurred_at=timezone.now())
    SequenceEvent.objects.create(enrollment=EnrollmentFactory(lead__owner=sdr), kind="bounced",
                                 occurred_at=timezone.now())

    body = api.as_user(sdr).get(events_url(enrollment)).json()

    assert [row["id"] for row in body["results"]] == [first.pk, second.pk]


def test_a_teammate_reads_the_events_of_a_team_enrolment(api, sdr, teammate):
    enrollment = EnrollmentFactory(lead__owner=teammate)
    assert api.as_user(sdr).get(events_url(enrollment)).status_code == 200


# --- Finishing by hand --------------------------------------------------------------------


def test_finishing_an_enrolment_by_hand_records_manual(api, sdr):
    enrollment = EnrollmentFactory(lead__owner=sdr)

    response = api.as_user(sdr).post(finish_url(enrollment))

    assert response.status_code == 200
    assert (response.json()["state"], response.json()["finish_reason"]) == ("finished", "manual")


def test_finishing_a_finished_enrolment_answers_400(api, sdr):
    enrollment = EnrollmentFactory(lead__owner=sdr, state=Enrollment.State.FINISHED, finish_reason="replied",
                                   finished_at=timezone.now())
    response = api.as_user(sdr).post(finish_url(enrollment))
    assert response.status_code == 400
    assert response.json()["detail"] == "This enrolment is already finished."


def test_a_teammate_who_may_only_read_gets_403_finishing(api, sdr, teammate):
    enrollment = EnrollmentFactory(lead__owner=teammate)
    response = api.as_user(sdr).post(finish_url(enrollment))
    assert response.status_code == 403
    enrollment.refresh_from_db()
    assert enrollment.state == Enrollment.State.ACTIVE
