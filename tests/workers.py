"""Real `celery worker` processes for the tests that kill them: started on a queue of
their own against the test database, each in its own process group, so a test can
kill the main process alone, one child, or everything; and row locks held from a
connection of the test's own, so a worker stalls exactly where the test wants."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection, connections

from sdrcrm.celery import app
from tests.conftest import database_url, require_worker_stack


class RowLocks:
    """FOR UPDATE locks on rows of `table`, held from a connection of their own until
    `release`: a worker writing one of them waits."""

    def __init__(self, table: str, ids: list[int]) -> None:
        self.db = connections.create_connection("default")
        self.db.set_autocommit(False)
        try:
            with self.db.cursor() as cursor:
                cursor.execute(f"SELECT id FROM {table} WHERE id = ANY(%s) FOR UPDATE", [ids])  # noqa: S608
                assert cursor.rowcount == len(ids), f"{table}: only {cursor.rowcount} of {ids} to lock"
        except BaseException:
            self.release()
            raise

    def release(self) -> None:
        if self.db.connection is not None:
            self.db.rollback()
            self.db.close()


@dataclass
class Workers:
    queue: str
    logs: Path
    broker: redis.Redis
    started: list[subprocess.Popen] = field(default_factory=list)
    locks: list[RowLocks] = field(default_factory=list)

    def start(self, visibility_timeout: int, concurrency: int = 2, restore_interval: int = 1,
              **env: str) -> subprocess.Popen:
        """A worker on the test's queue, which is also the default queue of the tasks it
        sends; `env`: more settings for it (JOB_BATCH_SIZE, …)."""
        env = {**os.environ, "DATABASE_URL": database_url(), "REDIS_URL": settings.REDIS_URL,
               "CELERY_TASK_ALWAYS_EAGER": "false", "CELERY_TASK_DEFAULT_QUEUE": self.queue,
               "CELERY_VISIBILITY_TIMEOUT": str(visibility_timeout),
               "CELERY_UNACKED_RESTORE_INTERVAL": str(restore_interval), **env}
        out = open(self.logs / f"worker-{len(self.started)}.log", "wb")  # noqa: SIM115 - the child owns it
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "sdrcrm", "worker", "-Q", self.queue,
             f"--concurrency={concurrency}", "--pool=prefork", "--loglevel=WARNING", "--without-gossip",
             "--without-mingle", "--without-heartbeat"],
            env=env, cwd=settings.BASE_DIR, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
        out.close()
        self.started.append(process)
        return process

    def lock(self, table: str, ids: list[int]) -> RowLocks:
        self.locks.append(RowLocks(table, ids))
        return self.locks[-1]

    def kill(self, process: subprocess.Popen) -> None:
        """SIGKILL the worker's main process; its pool children die with it (Celery sets
        PR_SET_PDEATHSIG), as in a container; killing the group is a safety net."""
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        kill_group(process.pid)

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

    def forget_queue(self) -> None:
        """Leave nothing of the test's queue in Redis (a shared database in CI)."""
        for tag, raw in self.broker.hgetall("unacked").items():
            if json.loads(raw)[2] == self.queue:
                self.broker.pipeline().zrem("unacked_index", tag).hdel("unacked", tag).execute()
        self.broker.delete(self.queue, f"_kombu.binding.{self.queue}", f"_kombu.binding_permanent.{self.queue}")
        self.broker.zrem("_kombu.binding_deadlines", self.queue)

    def pending(self) -> int:
        """Messages of the queue still waiting in Redis or delivered and not acked."""
        unacked = sum(1 for raw in self.broker.hvals("unacked") if json.loads(raw)[2] == self.queue)
        return self.broker.llen(self.queue) + unacked

    def wait_for(self, condition: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{self.output()}")
            time.sleep(0.1)


@contextmanager
def workers_for(logs: Path, name: str) -> Iterator[Workers]:
    """Workers on a queue named after the test, cleaned out of Redis afterwards."""
    require_worker_stack()
    pool = Workers(queue=f"test-{name}-{uuid.uuid4().hex[:8]}", logs=logs,
                   broker=redis.Redis.from_url(settings.REDIS_URL))
    app.conf.task_always_eager = False
    try:
        yield pool
    finally:
        pool.stop_all()
        pool.forget_queue()
        pool.broker.close()


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


def lock_waiters() -> int:
    """Database sessions of this test database waiting for a lock."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND wait_event_type = 'Lock'")
        return cursor.fetchone()[0]
