"""The nightly inquiry_queue job (docs/rules.md §3): inquiry leads in no active sequence go to the
Inquiry Queue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from leads.jobs import queue_inquiries
from leads.models import Enrollment, Lead, Queue, Sequence, Status, Touch
from sdrcrm.jobs import run_job
from sdrcrm.models import JobRun
from tests.factories import ContactFactory, LeadFactory

pytestmark = pytest.mark.django_db

# 22:30 in New York on 15 January 2026 (EST).
NOW = datetime(2026, 1, 16, 3, 30, tzinfo=UTC)


def queue(name: str = Queue.INQUIRY) -> Queue:
    return Queue.objects.get(name=name)


def enrol(lead: Lead, state: str = Enrollment.State.ACTIVE) -> Enrollment:
    sequence, _ = Sequence.objects.get_or_create(name="Inbound follow-up", defaults={"touch": Touch.HIGH})
    return Enrollment.objects.create(sequence=sequence, lead=lead, state=state, enrolled_at=NOW - timedelta(days=3),
                                     finished_at=None if state == Enrollment.State.ACTIVE else NOW - timedelta(days=1),
                                     finish_reason="" if state == Enrollment.State.ACTIVE else "completed")


def test_owned_inquiry_without_active_enrolment_moves_to_the_inquiry_queue(sdr):
    lead = LeadFactory(status=Status.INQUIRY, owner=sdr)

    counts = queue_inquiries(NOW)

    lead.refresh_from_db()
    assert (lead.queue, lead.owner) == (queue(), None)
    assert lead.updated_at == NOW
    assert counts == {"queued": 1, "owners_cleared": 1}


def test_unowned_and_unassigned_inquiries_move_too():
    loose = LeadFactory(status=Status.INQUIRY)
    unassigned = LeadFactory(status=Status.INQUIRY, queue=queue(Queue.UNASSIGNED))

    assert queue_inquiries(NOW) == {"queued": 2, "owners_cleared": 0}
    assert set(Lead.objects.filter(queue=queue()).values_list("pk", flat=True)) == {loose.pk, unassigned.pk}


def test_an_inquiry_in_an_active_sequence_stays_with_its_owner(sdr):
    lead = LeadFactory(status=Status.INQUIRY, owner=sdr)
    enrol(lead)

    assert queue_inquiries(NOW) == {"queued": 0, "owners_cleared": 0}
    lead.refresh_from_db()
    assert (lead.owner, lead.queue) == (sdr, None)


def test_a_finished_enrolment_does_not_keep_a_lead_out_of_the_queue(sdr):
    lead = LeadFactory(status=Status.INQUIRY, owner=sdr)
    enrol(lead, Enrollment.State.FINISHED)

    queue_inquiries(NOW)

    assert Lead.objects.get(pk=lead.pk).queue == queue()


def test_other_statuses_converted_leads_and_deliberate_queues_are_left_alone(sdr):
    mql = LeadFactory(status=Status.MQL, owner=sdr)
    community = LeadFactory(status=Status.INQUIRY, queue=queue(Queue.COMMUNITY_ADVOCATE))
    converted = LeadFactory(status=Status.INQUIRY, owner=sdr)
    Lead.objects.filter(pk=converted.pk).update(converted_to=ContactFactory())

    assert queue_inquiries(NOW)["queued"] == 0
    assert Lead.objects.get(pk=mql.pk).owner == sdr
    assert Lead.objects.get(pk=community.pk).queue == queue(Queue.COMMUNITY_ADVOCATE)
    assert Lead.objects.get(pk=converted.pk).owner == sdr


def test_works_through_every_batch_with_ties_on_the_keyset(settings, sdr):
    settings.JOB_BATCH_SIZE = 2
    same_moment = NOW - timedelta(days=2)
    leads = [LeadFactory(status=Status.INQUIRY, owner=sdr if n % 2 else None, status_changed_at=same_moment)
             for n in range(5)]
    kept = LeadFactory(status=Status.INQUIRY, owner=sdr, status_changed_at=same_moment)
    enrol(kept)

    assert queue_inquiries(NOW) == {"queued": 5, "owners_cleared": 2}
    assert Lead.objects.filter(pk__in=[lead.pk for lead in leads], queue=queue(), owner=None).count() == 5


def test_running_the_job_again_changes_nothing(sdr):
    lead = LeadFactory(status=Status.INQUIRY, owner=sdr)
    queue_inquiries(NOW)
    before = Lead.objects.get(pk=lead.pk).updated_at

    assert queue_inquiries(NOW + timedelta(days=1)) == {"queued": 0, "owners_cleared": 0}
    assert Lead.objects.get(pk=lead.pk).updated_at == before


def test_a_rerun_for_the_same_slot_is_a_no_op(sdr):
    LeadFactory(status=Status.INQUIRY, owner=sdr)
    first = run_job("inquiry_queue", NOW)
    late = LeadFactory(status=Status.INQUIRY, owner=sdr)  # left for the next night
    second = run_job("inquiry_queue", NOW)

    assert second.pk == first.pk and first.counts == {"queued": 1, "owners_cleared": 1}
    assert Lead.objects.get(pk=late.pk).owner == sdr


def test_run_job_command_runs_it_with_an_explicit_clock(capsys, sdr):
    lead = LeadFactory(status=Status.INQUIRY, owner=sdr)

    call_command("run_job", "inquiry_queue", "--now", "2026-01-16T03:30:00Z")

    run = JobRun.objects.get(name="inquiry_queue")
    assert run.slot == NOW and run.state == JobRun.State.SUCCEEDED
    assert Lead.objects.get(pk=lead.pk).queue == queue()
    assert "succeeded" in capsys.readouterr().out
