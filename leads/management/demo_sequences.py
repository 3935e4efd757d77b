"""Demo sequences for `seed_demo`: three cadences and a few hundred enrolments whose
state matches each lead's status (accepted: in a sequence; qualifying: replied;
unresponsive: ran out and was followed up; a few MQLs just enrolled; a few accepted
leads whose sequence ran out recently, for the hourly `unresponsive` job to find).

The sequences go through the service; enrolments and events are written with bulk
inserts like the rest of the demo, not replayed through the services."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from leads.models import Enrollment, Lead, Sequence, SequenceEvent, Status, StepType, Touch
from leads.sequences import add_step_tasks, create_sequence, is_high_touch
from sdrcrm.models import User

T = StepType
DEMO_SEQUENCES = [
    ("Inbound high touch", Touch.HIGH, "Hand-raisers with a company, a phone or a title: call first.",
     [(0, T.CALL), (0, T.MANUAL_EMAIL), (2, T.LINKEDIN), (4, T.CALL), (7, T.MANUAL_EMAIL)]),
    ("Inbound low touch", Touch.LOW, "Everyone else: three automatic emails.",
     [(0, T.AUTO_EMAIL), (3, T.AUTO_EMAIL), (7, T.AUTO_EMAIL)]),
    ("Trial follow-up", Touch.HIGH, "Trial sign-ups, during the trial.",
     [(0, T.MANUAL_EMAIL), (1, T.CALL), (3, T.AUTO_EMAIL), (6, T.CALL)]),
]
PER_STATUS = 120  # at most this many enrolments per lead status


def seed_sequences(rng: random.Random, now: datetime, users: dict[str, User]) -> tuple[int, int]:
    """Create the sequences, enrol demo leads, store their (applied) events; returns the
    number of enrolments and events."""
    sequences = []
    for name, touch, description, steps in DEMO_SEQUENCES:
        sequence = create_sequence({"name": name, "touch": touch, "description": description,
                                    "steps": [{"day_offset": offset, "type": kind} for offset, kind in steps]},
                                   by=users["ops"])
        sequences.append((sequence, [offset for offset, _ in steps]))
    high = [s for s in sequences if s[0].touch == Touch.HIGH]
    low = [s for s in sequences if s[0].touch == Touch.LOW]

    plans: list[tuple[Enrollment, list[int], bool]] = []  # enrolment, step offsets, replied
    for status in (Status.ACCEPTED, Status.QUALIFYING, Status.UNRESPONSIVE, Status.MQL):
        leads = list(Lead.objects.filter(status=status, owner__isnull=False, opted_out=False, inactive=False)
                     .order_by("pk"))
        for lead in rng.sample(leads, min(len(leads), PER_STATUS if status != Status.MQL else PER_STATUS // 4)):
            # Now and then a high-touch lead sits in the low-touch cadence, as in life.
            pool = high if is_high_touch(lead) and rng.random() < 0.85 else low
            sequence, offsets = rng.choice(pool)
            plans.append(_plan(rng, now, lead, sequence, offsets, status))
    enrollments = Enrollment.objects.bulk_create([e for e, _, _ in plans], batch_size=500)
    add_step_tasks(enrollments)  # each active one's next hand-done step, on its SDR's Today page
    events = []
    for enrollment, offsets, replied in plans:
        for n in range(1, enrollment.current_step + 1):
            at = min(enrollment.enrolled_at + timedelta(days=offsets[n - 1], hours=1), now)
            events.append(_event(enrollment, SequenceEvent.Kind.STEP_COMPLETED, at, n, f"step {n} completed"))
        if replied and enrollment.replied_at:
            events.append(_event(enrollment, SequenceEvent.Kind.REPLIED, enrollment.replied_at, None,
                                 "lead Accepted → Qualifying; enrolment finished (replied)"))
        elif enrollment.finish_reason == Enrollment.FinishReason.COMPLETED and enrollment.finished_at:
            events.append(_event(enrollment, SequenceEvent.Kind.FINISHED, enrollment.finished_at, None,
                                 "finished; enrolment finished (Completed without reply)"))
    SequenceEvent.objects.bulk_create(events, batch_size=1000)
    return len(enrollments), len(events)


def _plan(rng: random.Random, now: datetime, lead: Lead, sequence: Sequence, offsets: list[int],
          status: str) -> tuple[Enrollment, list[int], bool]:
    changed = lead.status_changed_at
    enrollment = Enrollment(lead=lead, sequence=sequence, enrolled_by=lead.owner)
    replied = False
    if status == Status.MQL:  # just enrolled, nothing done yet
        enrollment.enrolled_at, enrollment.current_step = now - timedelta(hours=rng.randint(1, 20)), 0
    elif status == Status.ACCEPTED and rng.random() < 0.2:
        # Ran out without a reply: some a week or more ago (the next `unresponsive` run
        # moves them), some recently (still waiting).
        finished = now - timedelta(days=rng.choice([2, 4, 6, 8, 10]), hours=rng.randint(0, 12))
        enrollment.enrolled_at = finished - timedelta(days=offsets[-1] + 1)
        enrollment.current_step = len(offsets)
        enrollment.state, enrollment.finish_reason = Enrollment.State.FINISHED, Enrollment.FinishReason.COMPLETED
        enrollment.finished_at = finished
    elif status == Status.ACCEPTED:  # accepted by its first step, somewhere in the cadence
        enrollment.enrolled_at = min(changed, now - timedelta(hours=2))
        enrollment.current_step = rng.randint(1, len(offsets) - 1)
    elif status == Status.QUALIFYING:  # replied part-way through
        enrollment.current_step = rng.randint(1, len(offsets))
        enrollment.enrolled_at = changed - timedelta(days=offsets[enrollment.current_step - 1] + 1)
        enrollment.state, enrollment.finish_reason = Enrollment.State.FINISHED, Enrollment.FinishReason.REPLIED
        enrollment.replied_at = enrollment.finished_at = changed
        replied = True
    else:  # unresponsive: ran out, and the job moved it a week later
        enrollment.finished_at = changed - timedelta(days=7)
        enrollment.enrolled_at = enrollment.finished_at - timedelta(days=offsets[-1] + 1)
        enrollment.current_step = len(offsets)
        enrollment.state, enrollment.finish_reason = Enrollment.State.FINISHED, Enrollment.FinishReason.COMPLETED
        enrollment.followed_up_at = changed
    return enrollment, offsets, replied


def _event(enrollment: Enrollment, kind: str, at: datetime, step: int | None, result: str) -> SequenceEvent:
    return SequenceEvent(enrollment=enrollment, kind=kind, step=step, occurred_at=at,
                         external_id=f"demo-{enrollment.pk}-{kind}-{step or 0}", applied_at=at, result=result)
