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

import json
import logging
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection, connections
from django.db.models import Count
from django.utils import timezone

from leads.models import Cause, Enrollment, Lead, SequenceEvent, Status, StatusChange
from leads.tasks import apply_sequence_event
from sdrcrm.celery import app
from tests.conftest import database_url, require_worker_stack
from tests.factories import SequenceFactory, UserFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded")]

log = logging.getLogger(__name__)

EVENTS = int(os.environ.get("RELIABILITY_EVENTS", "1000"))
# Main-process kill: the dead worker's tasks come back through Redis's visibility
# timeout, which the new worker checks every RESTORE_INTERVAL seconds.
SHORT_VISIBILITY = 5
RESTORE_INTERVAL = 1
# Child kill: Redis's default, so the visibility timeout cannot be what brings the task back.
LONG_VISIBILITY = 3600
# Seconds from the kill until every event is applied: a new worker's start-up and the
# visibility timeout (20 s), then the backlog (half the batch) at 25 events/s or more.
RECOVERY_BOUND = 20 + EVENTS / 50


class RowLocks:
    """Holds FOR UPDATE locks on some events from a connection of its own, so the
    workers' apply_event blocks on them until `release`."""

    def __init__(self, event_ids: list[int]) -> None:
        self.db = connections.create_connection("default")
        self.db.set_autocommit(False)
        with self.db.cursor() as cursor:
            cursor.execute("SELECT id FROM leads_sequenceevent WHERE id = ANY(%s) FOR UPDATE", [event_ids])

    def release(self) -> None:
        if self.db.connection is not None:
            self.db.rollback()
            self.db.close()


@dataclass
class Workers:
    """Starts `celery worker` processes on one queue of their own, each in its own
    process group so a test can kill the main process alone, one child, or everything."""

    queue: str
    logs: Path
    broker: redis.Redis
    started: list[subprocess.Popen] = field(default_factory=list)
    locks: list[RowLocks] = field(default_factory=list)

    def start(self, visibility_timeout: int) -> subprocess.Popen:
        env = {**os.environ, "DATABASE_URL": database_url(), "REDIS_URL": settings.REDIS_URL,
               "CELERY_TASK_ALWAYS_EAGER": "false",
               "CELERY_VISIBILITY_TIMEOUT": str(visibility_timeout),
               "CELERY_UNACKED_RESTORE_INTERVAL": str(RESTORE_INTERVAL)}
        out = open(self.logs / f"worker-{len(self.started)}.log", "wb")  # noqa: SIM115 - the child owns it
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "sdrcrm", "worker", "-Q", self.queue, "--concurrency=2",
             "--pool=prefork", "--loglevel=WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"],
            env=env, cwd=settings.BASE_DIR, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
        out.close()
        self.started.append(process)
        return process

    def lock(self, event_ids: list[int]) -> RowLocks:
        self.locks.append(RowLocks(event_ids))
        return self.locks[-1]

    def stop_all(self) -> None:
        for locks in self.locks:
            locks.release()  # else the test database's flush waits for them forever
        for process in self.started:
            if process.poll() is None:
                process.terminate()  # warm shutdown: puts its unacked tasks back
        for process in self.started:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
            kill_group(process.pid)  # children left behind by a killed main process
            if process.poll() is None:
                process.wait(timeout=5)

    def output(self, tail: int | None = 3000) -> str:
        """What the workers wrote (the end of it, unless `tail` is None)."""
        parts = []
        for path in sorted(self.logs.glob("worker-*.log")):
            text = path.read_text(errors="replace")
            parts.append(f"--- {path.name}\n{text[-tail:] if tail else text}")
        return "\n".join(parts)


def kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def children_of(pid: int) -> list[int]:
    """The pool processes of a worker: processes whose parent is `pid` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The fields after the command name, which is in parentheses and may hold spaces.
        if int(stat.rpartition(")")[2].split()[1]) == pid:
            found.append(int(entry.name))
    return found


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Workers]:
    require_worker_stack()
    pool = Workers(queue=f"test-rel-{uuid.uuid4().hex[:8]}", logs=tmp_path,
                   broker=redis.Redis.from_url(settings.REDIS_URL))
    app.conf.task_always_eager = False
    try:
        yield pool
    finally:
        pool.stop_all()
        forget_queue(pool.broker, pool.queue)
        pool.broker.close()


def forget_queue(broker: redis.Redis, queue: str) -> None:
    """Leave nothing of the test's queue in Redis (a shared database in CI)."""
    for tag, raw in broker.hgetall("unacked").items():
        if json.loads(raw)[2] == queue:
            broker.pipeline().zrem("unacked_index", tag).hdel("unacked", tag).execute()
    broker.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
    broker.zrem("_kombu.binding_deadlines", queue)


def pending(workers: Workers) -> int:
    """Messages of the workers' queue still waiting in Redis or delivered and not acked."""
    unacked = sum(1 for raw in workers.broker.hvals("unacked") if json.loads(raw)[2] == workers.queue)
    return workers.broker.llen(workers.queue) + unacked


def wait_for(condition: Callable[[], bool], timeout: float, what: str, workers: Workers) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{workers.output()}")
        time.sleep(0.1)


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


def lock_waiters() -> int:
    """Database sessions of this test database waiting for a row lock."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND wait_event_type = 'Lock'")
        return cursor.fetchone()[0]


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
    first, second = workers.lock([event_ids[position]]), workers.lock([event_ids[position + 1]])
    enqueue(event_ids, workers.queue)
    wait_for(lambda: lock_waiters() == 2, 120, "both pool children to block on the locked events", workers)
    assert applied(event_ids) == position
    return first, second


def recover(event_ids: list[int], stalled: list[int], killed_at: float, workers: Workers, what: str) -> float:
    """Wait until the events the killed process held are applied, then every event;
    print and log both times, and return the second: the recovery time."""
    left = len(event_ids) - applied(event_ids)
    wait_for(lambda: applied(stalled) == len(stalled), RECOVERY_BOUND, "the stalled events to be applied", workers)
    stalled_after = time.monotonic() - killed_at
    wait_for(lambda: applied(event_ids) == len(event_ids), RECOVERY_BOUND, "every event to be applied", workers)
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
    wait_for(lambda: applied([event_ids[middle]]) == 1, 15, "the child to apply the first event", workers)
    killed_at = time.monotonic()
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)
    # Celery's pool children die with their parent (PR_SET_PDEATHSIG), as a container's
    # processes would; killing the group is only a safety net. The child still blocked
    # on the second event dies with its transaction, which PostgreSQL rolls back.
    kill_group(worker.pid)
    second.release()
    assert applied([event_ids[middle + 1]]) == 0
    assert pending(workers) == EVENTS - middle  # the two unacked + the untouched rest

    workers.start(SHORT_VISIBILITY)
    recovery = recover(event_ids, event_ids[middle:middle + 2], killed_at, workers, "main process killed")
    # Both tasks of the dead worker were delivered again and acked; nothing is stuck.
    wait_for(lambda: pending(workers) == 0, 2 * SHORT_VISIBILITY + 5, "the queue to drain", workers)

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
    wait_for(lambda: pending(workers) == 0, 10, "the queue to drain", workers)
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
        assert pending(workers) == 0
        workers.start(SHORT_VISIBILITY)

        # The job's next run, a minute on (beat runs it every minute).
        later = timezone.now() + timedelta(seconds=settings.SEQUENCE_EVENT_REQUEUE_AFTER_SECONDS + 1)
        assert run_job("sequence_events", later).counts == {"requeued": 1}
        wait_for(lambda: applied(event_ids) == 1, 60, "the re-enqueued event to be applied", workers)
    finally:
        route_to(None)

    assert time.monotonic() - lost_at < 120
    assert_applied_exactly_once(event_ids, lead_ids)
    schedule = settings.CELERY_BEAT_SCHEDULE["sequence_events"]["schedule"]
    assert schedule.minute == set(range(60)) and settings.SEQUENCE_EVENT_REQUEUE_AFTER_SECONDS <= 60
