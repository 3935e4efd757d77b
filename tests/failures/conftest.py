"""Throwaway services for the failure tests: a PostgreSQL cluster (initdb into a folder of
its own, pg_ctl on a free port) and a Redis server on a free port, each started for one
test, broken and restored by it, and removed afterwards. The machine's own PostgreSQL and
Redis are never touched. The app under test runs in gunicorn, as in production."""

from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tests.conftest import on_postgres, require

ROOT = Path(settings.BASE_DIR)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


def pg_bin(name: str) -> str | None:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)),
                                       None)
    return found


def runuser() -> str | None:
    """runuser, which lets root start PostgreSQL as the postgres user (often in /usr/sbin,
    which a minimal PATH leaves out)."""
    return shutil.which("runuser") or next((path for path in ("/usr/sbin/runuser", "/sbin/runuser")
                                            if os.path.exists(path)), None)


def require_failure_stack() -> None:
    programs = (bool(pg_bin("initdb")) and bool(shutil.which("redis-server"))
                and (os.geteuid() != 0 or bool(runuser())))
    require(on_postgres() and bool(settings.REDIS_URL) and programs,
            "CI must run the failure tests: PostgreSQL (with initdb and pg_ctl), Redis and redis-server",
            "needs DATABASE_URL=postgres://…, REDIS_URL and the initdb, pg_ctl and redis-server programs")


@dataclass
class Postgres:
    """A cluster of its own. As root, the server runs as the postgres user (initdb
    refuses root)."""

    folder: Path
    port: int = field(default_factory=free_port)

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/sdrcrm_failure"

    def _run(self, *args: str) -> None:
        command = list(args)
        if os.geteuid() == 0:
            command = [runuser() or "runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        self._run(pg_bin("initdb") or "initdb", "-D", str(self.folder / "data"), "-A", "trust", "-U", "postgres",
                  "--no-sync")
        self.start()
        self._run(pg_bin("createdb") or "createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                  "sdrcrm_failure")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(pg_bin("pg_ctl") or "pg_ctl", "-D", str(self.folder / "data"), "-o", options,
                  "-l", str(self.folder / "server.log"), "-w", "start")

    def restart(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(pg_bin("pg_ctl") or "pg_ctl", "-D", str(self.folder / "data"), "-o", options, "-m", "fast",
                  "-l", str(self.folder / "server.log"), "-w", "restart")

    def stop(self) -> None:
        try:
            self._run(pg_bin("pg_ctl") or "pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "stop")
        except subprocess.CalledProcessError:
            pass  # not running

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        import psycopg2

        with psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="sdrcrm_failure") as db:
            with db.cursor() as cursor:
                cursor.execute(sql)
                return cursor.fetchall()


@pytest.fixture
def throwaway_postgres() -> Iterator[Postgres]:
    require_failure_stack()
    folder = Path(tempfile.mkdtemp(prefix="sdrcrm-pg-"))
    os.chmod(folder, 0o755)
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    cluster = Postgres(folder)
    try:
        cluster.init()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Redis:
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self.answers, 10, "the throwaway Redis to answer")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def answers(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=0.5).ping())
        except redis.exceptions.ConnectionError:
            return False


@pytest.fixture
def throwaway_redis() -> Iterator[Redis]:
    require_failure_stack()
    server = Redis()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class App:
    """gunicorn serving the app with an environment of the test's choosing."""

    env: dict[str, str]
    logs: Path
    port: int = field(default_factory=free_port)
    processes: list[subprocess.Popen] = field(default_factory=list)

    def manage(self, *args: str) -> str:
        result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True,
                                text=True, timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def serve(self) -> None:
        out = open(self.logs / "gunicorn.log", "wb")  # noqa: SIM115 - the child owns it
        self.processes.append(subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "sdrcrm.wsgi", "--bind", f"127.0.0.1:{self.port}", "--workers", "4",
             "--threads", "1", "--timeout", "60"], cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT))
        out.close()
        wait_until(lambda: self.call("GET", "/api/v1/")[0] in (200, 401, 403), 60, "gunicorn to answer")

    def work(self) -> None:
        """A real Celery worker on the same broker and database."""
        out = open(self.logs / "worker.log", "wb")  # noqa: SIM115 - the child owns it
        self.processes.append(subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "sdrcrm", "worker", "--concurrency=2", "--loglevel=WARNING",
             "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT))
        out.close()

    def call(self, method: str, path: str, body: Any = None, token: str = "") -> tuple[int, dict[str, str], Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Token {token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, dict(response.headers), _json(response.read())
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), _json(error.read())
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return 0, {}, None

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()

    def output(self) -> str:
        return "\n".join(f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}"
                         for path in sorted(self.logs.glob("*.log")))


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")


@pytest.fixture
def app_env(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The environment of the app's processes, for the test to point at its services."""
    env = {key: value for key, value in os.environ.items() if key not in ("CI", "CELERY_TASK_ALWAYS_EAGER")}
    env.update(API_THROTTLE_RATE="1000000/minute", API_INTEGRATION_THROTTLE_RATE="1000000/minute",
               API_ANON_THROTTLE_RATE="1000000/minute", LOGIN_ADDRESS_RATE="1000/minute",
               LOGIN_USERNAME_RATE="1000/minute", DEBUG="false", CELERY_VISIBILITY_TIMEOUT="30")
    apps: list[App] = []
    yield {"env": env, "apps": apps, "logs": tmp_path}
    for app in apps:
        app.stop()
