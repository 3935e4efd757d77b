"""Sequences, enrolments and sequence events (docs/rules.md §3): the business rules, once.

Events are stored first (`record_event`) and applied later by a worker (`apply_event`,
through leads.tasks.apply_sequence_event). Applying locks the event row and checks
`applied_at` in the same transaction as everything the event changes, so a task that is
delivered twice, or re-run after its worker was killed, applies the event exactly once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from sdrcrm.celery import enqueue
from sdrcrm.errors import Refused
from sdrcrm.models import User

from . import domains, lifecycle
from .models import (
    MAX_CLOCK_SKEW,
    OPEN_STATUSES,
    Cause,
    Contact,
    Enrollment,
    Lead,
    Person,
    Sequence,
    SequenceEvent,
    SequenceStep,
    Status,
    StepType,
    Task,
    Touch,
)

Kind = SequenceEvent.Kind
Reason = Enrollment.FinishReason
# The statuses a first completed step (or a reply) accepts; the transition map allows
# `bad_data` → `accepted` too, but a bad-data record is closed and never enrolled.
ACCEPT_FROM = OPEN_STATUSES - {Status.ACCEPTED, Status.QUALIFYING}
# The steps a person does by hand become tasks (an automatic email sends itself).
STEP_TASK_KINDS = {StepType.CALL: Task.Kind.CALL, StepType.MANUAL_EMAIL: Task.Kind.EMAIL,
                   StepType.LINKEDIN: Task.Kind.LINKEDIN, StepType.TASK: Task.Kind.TODO}
PLACEHOLDERS = frozenset({"-", "--", ".", "?", "n/a", "na", "none", "null", "unknown", "test", "x"})


# --- High touch ---------------------------------------------------------------------


def _real(value: str) -> bool:
    value = value.strip().lower()
    return bool(value) and value not in PLACEHOLDERS


def _has_company(person: Person) -> bool:
    domain = domains.email_domain(person.email) if person.email else ""
    if domain and not domains.is_free(domain) and not domains.is_disposable(domain):
        return True
    return _real(person.company)


def _has_phone(person: Person) -> bool:
    return len(re.sub(r"\D", "", person.phone)) >= 7


def is_high_touch(person: Person) -> bool:
    """docs/rules.md §3: valid values for at least two of company (a company email domain, or a
    company name), phone and title."""
    return sum((_has_company(person), _has_phone(person), _real(person.title))) >= 2


# --- Sequences ----------------------------------------------------------------------


def check_steps(steps: list[Mapping[str, Any]], sequence: Sequence | None = None) -> None:
    """Refuse a step list that is empty, out of order or of an unknown type, and (for an
    existing sequence) one that drops steps an enrolment has already completed."""
    if not steps:
        raise Refused("A sequence needs at least one step.", field="steps")
    last_offset = 0
    for number, step in enumerate(steps, start=1):
        position = step.get("position", number)
        if position != number:
            raise Refused(f"Steps are numbered 1 to {len(steps)} in order; step {number} says {position}.",
                          field="steps")
        if step.get("type") not in StepType.values:
            raise Refused(f"Step {number}: type is one of {', '.join(StepType.values)}.", field="steps")
        offset = step.get("day_offset")
        if not isinstance(offset, int) or offset < 0:
            raise Refused(f"Step {number}: day_offset is a whole number of days, 0 or more.", field="steps")
        if offset < last_offset:
            raise Refused(f"Step {number} (day {offset}) comes before step {number - 1} (day {last_offset}); "
                          "day offsets may not decrease.", field="steps")
        last_offset = offset
    if sequence is not None:
        furthest = sequence.enrollments.order_by("-current_step").values_list("current_step", flat=True).first()
        if furthest and furthest > len(steps):
            raise Refused(f"An enrolment has completed step {furthest}; keep at least {furthest} steps.",
                          field="steps")


def _write_steps(sequence: Sequence, steps: list[Mapping[str, Any]]) -> None:
    SequenceStep.objects.bulk_create([
        SequenceStep(sequence=sequence, position=number, day_offset=step["day_offset"], type=step["type"])
        for number, step in enumerate(steps, start=1)
    ])


@transaction.atomic
def create_sequence(data: Mapping[str, Any], by: User | None) -> Sequence:
    """A sequence with its ordered steps (`data["steps"]`: dicts of day_offset and type,
    positions 1..n in order)."""
    data = dict(data)
    steps = list(data.pop("steps", None) or [])
    check_steps(steps)
    if data.get("touch") not in Touch.values:
        raise Refused(f"touch is one of {', '.join(Touch.values)}.", field="touch")
    if Sequence.objects.filter(name=data.get("name", "")).exists():
        raise Refused(f"A sequence named '{data.get('name')}' already exists.", field="name")
    sequence = Sequence.objects.create(created_by=by, **data)
    _write_steps(sequence, steps)
    return sequence


@transaction.atomic
def update_sequence(sequence: Sequence, data: Mapping[str, Any]) -> Sequence:
    """Edit a sequence; `steps`, when given, replaces them all. Steps may not be removed
    while an enrolment has completed them (its current step would point nowhere)."""
    data = dict(data)
    steps = data.pop("steps", None)
    if "touch" in data and data["touch"] not in Touch.values:
        raise Refused(f"touch is one of {', '.join(Touch.values)}.", field="touch")
    if "name" in data and Sequence.objects.filter(name=data["name"]).exclude(pk=sequence.pk).exists():
        raise Refused(f"A sequence named '{data['name']}' already exists.", field="name")
    for field, value in data.items():
        setattr(sequence, field, value)
    sequence.save()
    if steps is not None:
        steps = list(steps)
        check_steps(steps, sequence)
        sequence.steps.all().delete()
        _write_steps(sequence, steps)
    return sequence


# --- Enrolments ---------------------------------------------------------------------


def active_enrollment(person: Person) -> Enrollment | None:
    return (Enrollment.objects.select_related("sequence")
            .filter(**{person.PERSON_FIELD: person}, state=Enrollment.State.ACTIVE).first())


def _check_enrollable(person: Person, sequence: Sequence) -> None:
    name = person.full_name or person.email
    if not sequence.is_active:
        raise Refused(f"The sequence '{sequence.name}' is inactive; pick an active one.", field="sequence")
    if person.opted_out:
        raise Refused(f"{name} opted out of email; they cannot be enrolled in a sequence.")
    if person.inactive:
        raise Refused(f"{name} is marked inactive; they cannot be enrolled in a sequence.")
    if isinstance(person, Lead) and person.converted_to_id is not None:
        raise Refused(f"{name} was converted; enrol their contact instead.")
    if person.status not in OPEN_STATUSES:
        raise Refused(f"{name} is {Status(person.status).label}, a closed status; reopen them before enrolling.")
    current = active_enrollment(person)
    if current is not None:
        raise Refused(f"{name} is already in the active sequence '{current.sequence.name}'; "
                      "finish that enrolment first.")


def enroll(person: Person, sequence: Sequence, by: User | None,
           now: datetime | None = None) -> tuple[Enrollment, list[str]]:
    """Put a lead or contact in a sequence. Returns the enrolment and warnings (a
    high-touch person in a low-touch sequence: allowed, but worth a second look)."""
    now = now or timezone.now()
    _check_enrollable(person, sequence)
    try:
        with transaction.atomic():
            enrollment = Enrollment.objects.create(
                **{person.PERSON_FIELD: person}, sequence=sequence, enrolled_by=by, enrolled_at=now
            )
    except IntegrityError:
        # Two enrolments raced past the check; the partial unique index kept one.
        current = active_enrollment(person)
        where = f" '{current.sequence.name}'" if current else ""
        raise Refused(f"{person.full_name or person.email} is already in the active sequence{where}; "
                      "finish that enrolment first.") from None
    sync_step_task(enrollment, person, now)
    warnings = []
    if sequence.touch == Touch.LOW and is_high_touch(person):
        warnings.append(f"{person.full_name or person.email} is high-touch but '{sequence.name}' "
                        "is a low-touch sequence.")
    return enrollment, warnings


def finish_enrollments(person: Person, reason: str, now: datetime | None = None) -> int:
    """Finish every active enrolment of a lead or contact (inactive, community program,
    converted, by hand), and drop their steps' open tasks; returns how many."""
    active = Enrollment.objects.filter(**{person.PERSON_FIELD: person}, state=Enrollment.State.ACTIVE)
    Task.objects.filter(enrollment__in=active, done_at=None).delete()
    return active.update(state=Enrollment.State.FINISHED, finish_reason=reason, finished_at=now or timezone.now())


def finish_enrollment(enrollment: Enrollment, now: datetime | None = None) -> Enrollment:
    """Finish one enrolment by hand, and drop its step's open task."""
    changed = Enrollment.objects.filter(pk=enrollment.pk, state=Enrollment.State.ACTIVE).update(
        state=Enrollment.State.FINISHED, finish_reason=Reason.MANUAL, finished_at=now or timezone.now()
    )
    if not changed:
        raise Refused("This enrolment is already finished.", field="state")
    Task.objects.filter(enrollment=enrollment, done_at=None).delete()
    enrollment.refresh_from_db()
    return enrollment


# --- Step tasks ---------------------------------------------------------------------


def _step_task(enrollment: Enrollment, step: SequenceStep, person: Person) -> Task:
    """The (unsaved) task of `step`: for the person's owner, due when the step is."""
    return Task(enrollment=enrollment, step=step.position, kind=STEP_TASK_KINDS[step.type],
                title=f"{step.get_type_display()}: step {step.position} of {enrollment.sequence.name}",
                due_at=enrollment.enrolled_at + timedelta(days=step.day_offset), owner_id=person.owner_id,
                created_by_id=enrollment.enrolled_by_id, **{person.PERSON_FIELD: person})


def _wants_task(step: SequenceStep | None, person: Person) -> bool:
    return step is not None and step.type in STEP_TASK_KINDS and person.owner_id is not None


def sync_step_task(enrollment: Enrollment, person: Person, now: datetime) -> Task | None:
    """Keep the enrolment's step task true: a step once done (by the task's Done or by
    the sequencing tool's event) closes its task; a finished enrolment drops its open
    one; the next step, if a person does it and the person has an owner, is a task for
    that owner, due when the step is (enrolled at + its day offset). The open task
    follows the person's owner. Returns the open step task, if any."""
    open_tasks = Task.objects.filter(enrollment=enrollment, done_at=None)
    if enrollment.state != Enrollment.State.ACTIVE:
        open_tasks.delete()
        return None
    open_tasks.filter(step__lte=enrollment.current_step).update(done_at=now)
    step = enrollment.sequence.steps.filter(position=enrollment.current_step + 1).first()
    if not _wants_task(step, person):
        return None
    task = Task.objects.filter(enrollment=enrollment, step=step.position).first()
    if task is None:
        try:
            with transaction.atomic():
                task = _step_task(enrollment, step, person)
                task.save()
        except IntegrityError:  # made meanwhile by another event of this enrolment
            task = Task.objects.get(enrollment=enrollment, step=step.position)
    if task.done_at is not None:
        return None  # done by hand; the tool's event for it has not come yet
    if task.owner_id != person.owner_id:
        Task.objects.filter(pk=task.pk).update(owner_id=person.owner_id)
    return task


def follow_owner(person: Person) -> int:
    """A person given to someone else: their open step task goes with them (a task added
    by hand stays with whoever added it). Returns how many moved."""
    if person.owner_id is None:
        return 0  # back in a queue: the task waits with whoever had it
    step_tasks = Task.objects.filter(**{person.PERSON_FIELD: person}, enrollment__isnull=False, done_at=None)
    return step_tasks.exclude(owner_id=person.owner_id).update(owner_id=person.owner_id)


def add_step_tasks(enrollments: Iterable[Enrollment]) -> int:
    """The step tasks of enrolments written in bulk (the demo's): sync_step_task's rule for
    each active one, in one insert; returns how many."""
    enrollments = [e for e in enrollments if e.state == Enrollment.State.ACTIVE]
    steps = {(step.sequence_id, step.position): step
             for step in SequenceStep.objects.filter(sequence__in={e.sequence_id for e in enrollments})}
    tasks = []
    for enrollment in enrollments:
        person = enrollment.lead or enrollment.contact
        step = steps.get((enrollment.sequence_id, enrollment.current_step + 1))
        if _wants_task(step, person):
            tasks.append(_step_task(enrollment, step, person))
    return len(Task.objects.bulk_create(tasks, batch_size=1000, ignore_conflicts=True))


def complete_step_task(task: Task, by: User, now: datetime | None = None) -> SequenceEvent | None:
    """A step task marked done: the step is completed in its enrolment (the same event
    the sequencing tool sends, so the lead is accepted on the first step and the next
    step's task follows once a worker applies it). None when the enrolment has finished."""
    enrollment = Enrollment.objects.select_related("sequence").get(pk=task.enrollment_id)
    if enrollment.state != Enrollment.State.ACTIVE:
        return None
    return record_event(enrollment, Kind.STEP_COMPLETED, step=task.step, by=by, now=now,
                        external_id=f"task-{task.pk}")


# --- Events -------------------------------------------------------------------------


def record_event(
    enrollment: Enrollment,
    kind: str,
    *,
    step: int | None = None,
    occurred_at: datetime | None = None,
    external_id: str = "",
    by: User | None = None,
    now: datetime | None = None,
) -> SequenceEvent:
    """Store an event, then have a worker apply it once the transaction commits. A resend
    with the same `external_id` returns the stored event and stores nothing new.

    A finished enrolment still takes a reply (replies arrive late) and events that
    happened before it finished (the tool's events may arrive out of order); anything
    else is refused.
    """
    now = now or timezone.now()
    external_id = (external_id or "").strip()
    if external_id:
        stored = SequenceEvent.objects.filter(enrollment=enrollment, external_id=external_id).first()
        if stored is not None:
            _enqueue_if_pending(stored)
            return stored
    if kind not in Kind.values:
        raise Refused(f"'{kind}' is not a sequence event; one of: {', '.join(Kind.values)}.", field="kind")
    occurred_at = occurred_at or now
    if occurred_at > now + MAX_CLOCK_SKEW:
        raise Refused("occurred_at is more than a day in the future.", field="occurred_at")
    if kind == Kind.STEP_COMPLETED:
        if step is None:
            raise Refused("step is required for step_completed.", field="step")
        count = enrollment.sequence.steps.count()
        if not 1 <= step <= count:
            raise Refused(f"'{enrollment.sequence.name}' has steps 1 to {count}; there is no step {step}.",
                          field="step")
    if (enrollment.state == Enrollment.State.FINISHED and kind != Kind.REPLIED
            and not (enrollment.finished_at and occurred_at <= enrollment.finished_at)):
        raise Refused(f"This enrolment is finished ({enrollment.get_finish_reason_display()}); "
                      "only a reply may still be recorded.", field="kind")
    try:
        with transaction.atomic():
            event = SequenceEvent.objects.create(
                enrollment=enrollment, kind=kind, step=step, occurred_at=occurred_at,
                external_id=external_id, created_by=by,
            )
    except IntegrityError:
        # The same external id, sent twice at once: the other request stored it.
        event = SequenceEvent.objects.get(enrollment=enrollment, external_id=external_id)
    _enqueue_if_pending(event)
    return event


def _enqueue_if_pending(event: SequenceEvent) -> None:
    # Enqueueing an event that is stored but not yet applied again is harmless (applying
    # is idempotent) and recovers an event whose task was lost.
    if event.applied_at is None:
        enqueue("leads.tasks.apply_sequence_event", event.pk)


def apply_event(event_id: int, now: datetime | None = None) -> SequenceEvent | None:
    """Apply a stored event exactly once: in one transaction, lock the event, return if
    it was applied, else carry it out and mark it applied with what it did in words."""
    now = now or timezone.now()
    with transaction.atomic():
        event = SequenceEvent.objects.select_for_update().filter(pk=event_id).first()
        if event is None or event.applied_at is not None:
            return event
        # Lock order: event, person, enrolment. Events of one enrolment apply one at a
        # time, and the order matches update_person and routing (person row, then its
        # enrolments), so none of them wait on each other in a cycle.
        lead_id, contact_id = Enrollment.objects.filter(pk=event.enrollment_id).values_list(
            "lead_id", "contact_id").get()
        person: Person = (Lead.objects.select_for_update().get(pk=lead_id) if lead_id
                          else Contact.objects.select_for_update().get(pk=contact_id))
        enrollment = Enrollment.objects.select_for_update().select_related("sequence").get(pk=event.enrollment_id)
        result = APPLY[event.kind](event, enrollment, person, now)
        sync_step_task(enrollment, person, now)
        event.applied_at, event.result = now, result[:255]
        event.save(update_fields=["applied_at", "result"])
    return event


def _accept(person: Person, cause: str, now: datetime) -> str:
    if person.status not in ACCEPT_FROM:
        return ""
    old = person.status
    if lifecycle.transition(person, Status.ACCEPTED, cause=cause, now=now):
        return f"{person.PERSON_FIELD} {Status(old).label} → Accepted"
    return ""


def _happened_while_active(event: SequenceEvent, enrollment: Enrollment) -> bool:
    return enrollment.state == Enrollment.State.ACTIVE or (
        enrollment.finished_at is not None and event.occurred_at <= enrollment.finished_at
    )


def _apply_step_completed(event: SequenceEvent, enrollment: Enrollment, person: Person, now: datetime) -> str:
    if not _happened_while_active(event, enrollment):
        return f"step {event.step} completed after the enrolment finished; nothing changed"
    step = event.step or 0
    first = enrollment.current_step == 0 or step == 1
    said = [f"step {step} completed"]
    if step > enrollment.current_step:
        enrollment.current_step = step
        enrollment.save(update_fields=["current_step"])
    else:
        said.append(f"already at step {enrollment.current_step}")
    if first:
        stays = f"{person.PERSON_FIELD} stays {person.get_status_display()}"
        said.append(_accept(person, Cause.SEQUENCE, now) or stays)
    return "; ".join(said)


def _apply_replied(event: SequenceEvent, enrollment: Enrollment, person: Person, now: datetime) -> str:
    # A reply to a lead nobody accepted yet (no step recorded) accepts it first, then
    # qualifies it: two history rows, both caused by the reply.
    said = ["replied"]
    accepted = _accept(person, Cause.REPLY, now)
    if accepted:
        said.append(accepted)
    if person.status == Status.ACCEPTED and lifecycle.transition(person, Status.QUALIFYING, cause=Cause.REPLY,
                                                                 now=now):
        said.append(f"{person.PERSON_FIELD} Accepted → Qualifying")
    elif not accepted:
        said.append(f"{person.PERSON_FIELD} stays {person.get_status_display()}")
    updates: dict[str, Any] = {"replied_at": enrollment.replied_at or event.occurred_at}
    if enrollment.state == Enrollment.State.ACTIVE:
        updates.update(state=Enrollment.State.FINISHED, finish_reason=Reason.REPLIED, finished_at=event.occurred_at)
        said.append("enrolment finished (replied)")
    elif enrollment.finish_reason == Reason.COMPLETED:
        # A late reply to a sequence that ran out: it did get an answer after all.
        updates["finish_reason"] = Reason.REPLIED
        said.append("enrolment marked replied")
    for field, value in updates.items():
        setattr(enrollment, field, value)
    enrollment.save(update_fields=list(updates))
    return "; ".join(said)


def _finish(enrollment: Enrollment, reason: str, at: datetime, kind: str) -> str:
    if enrollment.state != Enrollment.State.ACTIVE:
        return f"{kind}; enrolment was already finished ({enrollment.get_finish_reason_display()})"
    enrollment.state, enrollment.finish_reason, enrollment.finished_at = Enrollment.State.FINISHED, reason, at
    enrollment.save(update_fields=["state", "finish_reason", "finished_at"])
    return f"{kind}; enrolment finished ({enrollment.get_finish_reason_display()})"


def _apply_finished(event: SequenceEvent, enrollment: Enrollment, person: Person, now: datetime) -> str:
    # finished_at is when the tool finished it: the unresponsive wait counts from there.
    return _finish(enrollment, Reason.COMPLETED, min(event.occurred_at, now), "finished")


def _apply_bounced(event: SequenceEvent, enrollment: Enrollment, person: Person, now: datetime) -> str:
    return _finish(enrollment, Reason.BOUNCED, min(event.occurred_at, now), "bounced")


APPLY = {
    Kind.STEP_COMPLETED: _apply_step_completed,
    Kind.REPLIED: _apply_replied,
    Kind.FINISHED: _apply_finished,
    Kind.BOUNCED: _apply_bounced,
}
