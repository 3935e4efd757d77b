"""Killing a worker mid-batch loses no sequence event and applies none twice (docs/rules.md §3).

A real `celery worker` (prefork, two children) applies a batch of `step_completed` events
(1,000 per test; RELIABILITY_EVENTS=3000 for a longer soak) from Redis into PostgreSQL.
The test holds row locks on two events in the middle of the batch, so the worker stalls
with exactly those two tasks running, then:

- freezes the worker's main process (SIGSTOP) and releases the first lock, so one child
  applies its event but the message is never acked; then kills the main process with
  SIGKILL (its pool children die with it, as in a container) and starts a new worker:
  both tasks must come back after the visibility timeout, the applied one as a no-op,
  the other (rolled back with its dead child) applying its event;
- kills one pool child with SIGKILL while the main process stays up, with the visibility
  timeout at an hour: only the main process requeueing the lost task
  (task_reject_on_worker_lost) can bring it back in time.

Each run asserts every event applied, every lead accepted exactly once (one StatusChange
each), and a bounded recovery time, which it prints (pytest -s) and logs.
"""

from __future__ import annotations

import logging
import os
import signal
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from leads.models import Cause, Enrollment, Lead, SequenceEvent, Status, StatusChange
from leads.tasks import apply_sequence_event
from sdrcrm.celery import app
from tests.factories import SequenceFactory, UserFactory
from tests.workers import RowLocks, Workers, children_of, kill_group, lock_waiters, workers_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded")]

log = logging.getLogger(__name__)

EVENTS = int(os.environ.get("RELIABILITY_EVENTS", "1000"))
# Main-process kill: the dead worker's tasks come back through Redis's visibility
# timeout, which the new worker checks every second.
SHORT_VISIBILITY = 5
# Child kill: Redis's default, so the visibility timeout cannot be what brings the task back.
LONG_VISIBILITY = 3600
# Seconds from the kill until every event is applied: a new worker's start-up and the
# visibility timeout (20 s), then the backlog (half the batch) at 25 events/s or more.
RECOVERY_BOUND = 20 + EVENTS / 50


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Workers]:
    with workers_for(tmp_path, "rel") as pool:
        yield pool


def make_batch(size: int) -> tuple[list[int], list[int]]:
    """`size` owned MQL leads, each actively enrolled in a 3-step sequence with one
    unapplied `step_completed` step 1 event. Returns (event ids, lead ids), in order."""
    now = timezone.now()
    owner = UserFactory()
    sequence = SequenceFactory(steps=3)
    tag = uuid.uuid4().hex[:8]
    leads = Lead.objects.bulk_create(
        Lead(email=f"rel{n}-{tag}@example{n % 40}.com", email_domain=f"example{n % 40}.com", last_name=f"Rel {n}",
             status=Status.MQL, status_changed_at=now, owner=owner, initial_source="webcast")
        for n in range(size)
    )
    enrollments = Enrollment.objects.bulk_create(
        Enrollment(sequence=sequence, lead=lead, enrolled_at=now) for lead in leads
    )
    events = SequenceEvent.objects.bulk_create(
        SequenceEvent(enrollment=enrollment, kind=SequenceEvent.Kind.STEP_COMPLETED, step=1, occurred_at=now)
        for enrollment in enrollments
    )
    return [event.pk for event in events], [lead.pk for lead in leads]


def enqueue(event_ids: list[int], queue: str) -> None:
    # ignore_result: nobody reads the results, so don't leave thousands of keys in Redis.
    for event_id in event_ids:
        apply_sequence_event.apply_async(args=[event_id], queue=queue, ignore_result=True)


def applied(event_ids: list[int]) -> int:
    return SequenceEvent.objects.filter(pk__in=event_ids, applied_at__isnull=False).count()


def assert_applied_exactly_once(event_ids: list[int], lead_ids: list[int]) -> None:
    assert applied(event_ids) == len(event_ids), "an event was lost"
    assert Lead.objects.filter(pk__in=lead_ids).exclude(status=Status.ACCEPTED).count() == 0
    assert Enrollment.objects.filter(lead__in=lead_ids).exclude(current_step=1).count() == 0
    changes = StatusChange.objects.filter(lead__in=lead_ids)
    doubled = list(changes.values("lead").annotate(n=Count("id")).filter(n__gt=1).values_list("lead", flat=True))
    assert doubled == [], f"leads with more than one status change: {doubled[:10]}"
    assert changes.filter(old=Status.MQL, new=Status.ACCEPTED, cause=Cause.SEQUENCE).count() == len(lead_ids)
    assert changes.count() == len(lead_ids)


def stall_on(event_ids: list[int], position: int, workers: Workers) -> tuple[RowLocks, RowLocks]:
    """Lock the events at `position` and `position + 1`, enqueue the batch, and wait
    until both pool children are blocked on them: everything before is applied, nothing
    after has started, and the worker holds exactly these two tasks (prefetch 1 × 2)."""
    first = workers.lock("leads_sequenceevent", [event_ids[position]])
    second = workers.lock("leads_sequenceevent", [event_ids[position + 1]])
    enqueue(event_ids, workers.queue)
    workers.wait_for(lambda: lock_waiters() == 2, 120, "both pool children to block on the locked events")
    assert applied(event_ids) == position
    return first, second


def recover(event_ids: list[int], stalled: list[int], killed_at: float, workers: Workers, what: str) -> float:
    """Wait until the events the killed process held are applied, then every event;
    print and log both times, and return the second: the recovery time."""
    left = len(event_ids) - applied(event_ids)
    workers.wait_for(lambda: applied(stalled) == len(stalled), RECOVERY_BOUND, "the stalled events to be applied")
    stalled_after = time.monotonic() - killed_at
    workers.wait_for(lambda: applied(event_ids) == len(event_ids), RECOVERY_BOUND, "every event to be applied")
    recovery = time.monotonic() - killed_at
    line = (f"{what}: its events applied {stalled_after:.1f} s after the kill, all {left} events "
            f"left then applied after {recovery:.1f} s")
    log.info(line)
    print(f"\n{line}")
    return recovery


def test_killing_the_worker_main_process_loses_and_doubles_no_event(workers: Workers) -> None:
    event_ids, lead_ids = make_batch(EVENTS)
    middle = EVENTS // 2
    worker = workers.start(SHORT_VISIBILITY)
    first, second = stall_on(event_ids, middle, workers)

    # Freeze the main process, then let the child blocked on the first event go on: it
    # applies and commits the event, but the frozen main can no longer ack the message.
    os.kill(worker.pid, signal.SIGSTOP)
    first.release()
    workers.wait_for(lambda: applied([event_ids[middle]]) == 1, 15, "the child to apply the first event")
    killed_at = time.monotonic()
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)
    # Celery's pool children die with their parent (PR_SET_PDEATHSIG), as a container's
    # processes would; killing the group is only a safety net. The child still blocked
    # on the second event dies with its transaction, which PostgreSQL rolls back.
    kill_group(worker.pid)
    second.release()
    assert applied([event_ids[middle + 1]]) == 0
    assert workers.pending() == EVENTS - middle  # the two unacked + the untouched rest

    workers.start(SHORT_VISIBILITY)
    recovery = recover(event_ids, event_ids[middle:middle + 2], killed_at, workers, "main process killed")
    # Both tasks of the dead worker were delivered again and acked; nothing is stuck.
    workers.wait_for(lambda: workers.pending() == 0, 2 * SHORT_VISIBILITY + 5, "the queue to drain")

    assert_applied_exactly_once(event_ids, lead_ids)
    assert recovery < RECOVERY_BOUND


def test_killing_a_pool_child_loses_and_doubles_no_event(workers: Workers) -> None:
    event_ids, lead_ids = make_batch(EVENTS)
    middle = EVENTS // 2
    worker = workers.start(LONG_VISIBILITY)
    first, second = stall_on(event_ids, middle, workers)
    children = children_of(worker.pid)
    assert len(children) == 2, children

    # Either child holds one of the two stalled tasks.
    killed_at = time.monotonic()
    os.kill(children[0], signal.SIGKILL)
    first.release()
    second.release()
    recovery = recover(event_ids, event_ids[middle:middle + 2], killed_at, workers, "pool child killed")

    # The lost task came back from the main process (the visibility timeout is an hour).
    assert "WorkerLostError" in workers.output(tail=None)
    workers.wait_for(lambda: workers.pending() == 0, 10, "the queue to drain")
    assert worker.poll() is None, "the main process keeps running and replaces the child"
    assert len(children_of(worker.pid)) == 2
    assert_applied_exactly_once(event_ids, lead_ids)
    assert recovery < RECOVERY_BOUND


def route_to(queue: str | None) -> None:
    """Send apply_sequence_event to `queue` (None: back to the default), also where the
    app has already built its router (it caches the routes of its first send)."""
    app.conf.task_routes = {"leads.tasks.apply_sequence_event": {"queue": queue}} if queue else None
    app.amqp.flush_routes()
    app.amqp.__dict__.pop("router", None)


def test_an_event_whose_message_a_dying_worker_popped_is_applied_within_two_minutes(workers: Workers) -> None:
    """kombu's Redis transport pops a message before it records it as unacked: a worker
    killed between the two loses it, and no visibility timeout brings it back. The
    `sequence_events` job (every minute) enqueues events unapplied after
    SEQUENCE_EVENT_REQUEUE_AFTER_SECONDS (60): at most two minutes in all."""
    from sdrcrm.jobs import run_job

    event_ids, lead_ids = make_batch(1)
    route_to(workers.queue)
    try:
        enqueue(event_ids, workers.queue)
        assert workers.broker.rpop(workers.queue) is not None  # the dying worker's pop: the message is gone
        lost_at = time.monotonic()
        assert workers.pending() == 0
        workers.start(SHORT_VISIBILITY)

        # The job's next run, a minute on (beat runs it every minute).
        later = timezone.now() + timedelta(seconds=settings.SEQUENCE_EVENT_REQUEUE_AFTER_SECONDS + 1)
        assert run_job("sequence_events", later).counts == {"requeued": 1}
        workers.wait_for(lambda: applied(event_ids) == 1, 60, "the re-enqueued event to be applied")
    finally:
        route_to(None)

    assert time.monotonic() - lost_at < 120
    assert_applied_exactly_once(event_ids, lead_ids)
    schedule = settings.CELERY_BEAT_SCHEDULE["sequence_events"]["schedule"]
    assert schedule.minute == set(range(60)) and settings.SEQUENCE_EVENT_REQUEUE_AFTER_SECONDS <= 60
