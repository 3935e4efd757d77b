"""The Sequences card on the lead page and the sequences page (docs/rules.md §3)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leads.models import Enrollment, Lead, SequenceEvent, Status, Touch
from tests.conftest import lead_page
from tests.factories import EnrollmentFactory, LeadFactory, SequenceFactory

pytestmark = pytest.mark.django_db


def test_the_lead_page_lists_the_leads_enrolments_with_their_step(client, sdr):
    EnrollmentFactory(lead__owner=sdr, sequence__name="Inbound high touch", sequence__steps=5, current_step=2,
                      state=Enrollment.State.FINISHED, finish_reason="bounced", finished_at=timezone.now())
    lead = Lead.objects.get()
    client.force_login(sdr)

    page = lead_page(client, lead)

    assert "Inbound high touch" in page and "2 / 5" in page and "Finished: Bounced" in page


def test_the_lead_page_offers_active_sequences_to_enrol_in(client, sdr):
    lead = LeadFactory(owner=sdr)
    SequenceFactory(name="Trial follow-up")
    SequenceFactory(name="Retired cadence", is_active=False)
    client.force_login(sdr)

    page = lead_page(client, lead)

    assert "Trial follow-up (high touch)" in page
    assert "Retired cadence" not in page


def test_enrolling_from_the_lead_page_enrols_and_says_so(client, sdr):
    lead, sequence = LeadFactory(owner=sdr), SequenceFactory(name="Trial follow-up")
    client.force_login(sdr)

    response = client.post(f"/leads/{lead.pk}/enroll/", {"sequence": sequence.pk}, follow=True)

    assert Enrollment.objects.get().sequence == sequence
    assert "Enrolled in Trial follow-up." in response.content.decode()


def test_enrolling_a_high_touch_lead_in_a_low_touch_sequence_shows_the_warning(client, sdr):
    lead = LeadFactory(owner=sdr, first_name="Ada", last_name="Lovelace", email="ada@acme.com", title="CTO")
    sequence = SequenceFactory(name="Nurture", touch=Touch.LOW)
    client.force_login(sdr)

    page = client.post(f"/leads/{lead.pk}/enroll/", {"sequence": sequence.pk}, follow=True).content.decode()

    assert "Ada Lovelace is high-touch but &#x27;Nurture&#x27; is a low-touch sequence." in page


def test_a_refused_enrolment_shows_the_reason(client, sdr):
    lead = LeadFactory(owner=sdr, opted_out=True)
    client.force_login(sdr)

    page = client.post(f"/leads/{lead.pk}/enroll/", {"sequence": SequenceFactory().pk}, follow=True).content.decode()

    assert "opted out of email" in page
    assert not Enrollment.objects.exists()


def test_a_read_only_teammate_cannot_enrol_from_the_page(client, sdr, teammate):
    lead = LeadFactory(owner=teammate)
    client.force_login(sdr)

    page = client.post(f"/leads/{lead.pk}/enroll/", {"sequence": SequenceFactory().pk}, follow=True).content.decode()

    assert "You may read this lead but not change it." in page
    assert not Enrollment.objects.exists()


def test_another_teams_sdr_cannot_enrol_from_the_page(client, sdr, other_sdr):
    lead = LeadFactory(owner=sdr)
    client.force_login(other_sdr)
    assert client.post(f"/leads/{lead.pk}/enroll/", {"sequence": SequenceFactory().pk}).status_code == 404


def test_enrolling_needs_a_login(client):
    lead = LeadFactory()
    response = client.post(f"/leads/{lead.pk}/enroll/", {"sequence": SequenceFactory().pk})
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert not Enrollment.objects.exists()


def test_recording_the_first_step_from_the_page_accepts_the_lead(client, sdr, django_capture_on_commit_callbacks):
    enrollment = EnrollmentFactory(lead__owner=sdr, lead__status=Status.MQL)
    client.force_login(sdr)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/leads/enrollments/{enrollment.pk}/event/", {"kind": "step_completed", "step": "1"})

    assert Lead.objects.get(pk=enrollment.lead_id).status == Status.ACCEPTED
    enrollment.refresh_from_db()
    assert enrollment.current_step == 1


def test_recording_a_reply_from_the_page_stores_a_reply_event(client, sdr):
    enrollment = EnrollmentFactory(lead__owner=sdr)
    client.force_login(sdr)

    page = client.post(f"/leads/enrollments/{enrollment.pk}/event/", {"kind": "replied"}, follow=True)

    assert SequenceEvent.objects.get().kind == "replied"
    assert "Recorded" in page.content.decode()


def test_recording_a_step_the_sequence_lacks_shows_the_reason(client, sdr):
    enrollment = EnrollmentFactory(lead__owner=sdr, sequence__steps=2)
    client.force_login(sdr)

    page = client.post(f"/leads/enrollments/{enrollment.pk}/event/", {"kind": "step_completed", "step": "7"},
                       follow=True).content.decode()

    assert "there is no step 7" in page
    assert not SequenceEvent.objects.exists()


def test_recording_an_event_on_another_teams_enrolment_is_not_found(client, sdr, other_sdr):
    enrollment = EnrollmentFactory(lead__owner=sdr)
    client.force_login(other_sdr)
    assert client.post(f"/leads/enrollments/{enrollment.pk}/event/", {"kind": "replied"}).status_code == 404
    assert not SequenceEvent.objects.exists()


def test_a_read_only_teammate_cannot_record_events(client, sdr, teammate):
    enrollment = EnrollmentFactory(lead__owner=teammate)
    client.force_login(sdr)
    client.post(f"/leads/enrollments/{enrollment.pk}/event/", {"kind": "replied"})
    assert not SequenceEvent.objects.exists()


def test_recording_events_needs_a_post(client, sdr):
    enrollment = EnrollmentFactory(lead__owner=sdr)
    client.force_login(sdr)
    assert client.get(f"/leads/enrollments/{enrollment.pk}/event/").status_code == 405


def test_finishing_by_hand_from_the_page_finishes_the_enrolment(client, sdr):
    enrollment = EnrollmentFactory(lead__owner=sdr)
    client.force_login(sdr)

    client.post(f"/leads/enrollments/{enrollment.pk}/finish/")

    enrollment.refresh_from_db()
    assert (enrollment.state, enrollment.finish_reason) == (Enrollment.State.FINISHED, "manual")


def test_the_page_offers_event_buttons_only_for_the_active_enrolment(client, sdr):
    enrollment = EnrollmentFactory(lead__owner=sdr)
    done = EnrollmentFactory(lead=enrollment.lead, state=Enrollment.State.FINISHED, finish_reason="manual",
                             finished_at=timezone.now())
    client.force_login(sdr)

    page = lead_page(client, enrollment.lead)

    assert f"/leads/enrollments/{enrollment.pk}/event/" in page
    assert f"/leads/enrollments/{done.pk}/event/" not in page
    assert "Enrol in" not in page  # already in an active sequence


def test_the_sequences_page_lists_steps_and_active_counts(client, sdr):
    sequence = SequenceFactory(name="Inbound low touch", touch=Touch.LOW, steps=3)
    EnrollmentFactory.create_batch(2, sequence=sequence)
    client.force_login(sdr)

    page = client.get("/leads/sequences/").content.decode()

    assert "Inbound low touch" in page and "Day 4: Automatic email" in page
    assert "<td>2</td>" in page


@pytest.mark.parametrize("sequences", [3, 30])
def test_the_sequences_page_takes_the_same_few_queries_for_3_or_30_sequences(client, sdr, sequences,
                                                                             django_assert_max_num_queries):
    for _ in range(sequences):
        EnrollmentFactory(sequence=SequenceFactory())
    client.force_login(sdr)

    with django_assert_max_num_queries(8):
        response = client.get("/leads/sequences/")

    assert response.content.decode().count("<strong>Sequence ") == sequences


def test_the_lead_page_takes_no_more_queries_with_many_enrolments(client, sdr):
    lead = LeadFactory(owner=sdr)
    EnrollmentFactory(lead=lead)
    client.force_login(sdr)
    lead_page(client, lead)  # warm up (session, caches)
    with CaptureQueriesContext(connection) as one:
        lead_page(client, lead)
    for _ in range(10):
        EnrollmentFactory(lead=lead, state=Enrollment.State.FINISHED, finish_reason="manual",
                          finished_at=timezone.now())

    with CaptureQueriesContext(connection) as eleven:
        lead_page(client, lead)

    assert len(eleven.captured_queries) == len(one.captured_queries)
