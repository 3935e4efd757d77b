"""Where one ingest's time goes, by layer (issue 18: publish the breakdown before and after
each cut). Run against the bench database with the benchmark's environment:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sdrcrm_bench REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/profile_ingest.py --leads 300

Each lead is the ingest scenario's pair of requests (`POST leads/`, then `POST activities/`
for the same email) as the bench integration user, sent in process through Django's test
client: the same handler, middleware, authentication, throttle, views, services and ORM as
under gunicorn, without the socket. The time each function spends in itself (cProfile's
tottime) is added up by the layer its file belongs to; the statements sent and their
round trips are counted apart. cProfile slows Python down, so the layers' shares matter
more than their milliseconds. Prints the table and, as its last line, the same as JSON.

`--instructions` counts instead the machine instructions the app's process runs per
lead, under valgrind's callgrind (Debian's `valgrind`): the requests go to the WSGI
handler as gunicorn calls it (no test client), and only the measured leads are counted
(instrumentation switched on and off around them with `callgrind_control`). Unlike CPU
time, the count does not move with the machine's speed, which drifts by a third within
minutes on a shared machine: two codes measured an hour apart compare. Python's cyclic
garbage collections are shown apart (a full one, tens of millions of instructions, falls
in a short run or not by chance). User-space instructions only: the kernel's work for the
sockets is not in it. About a minute for 40 leads.

`--postgres-instructions PGDATA` counts the instructions of the PostgreSQL backend that
serves those requests, on a server of this script's own started under callgrind on a
throwaway cluster's data directory (bench/README.md says how to make one); the machine's
server is never touched.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg2
import seed  # bench/seed.py: setup_django, the bench users and the ingest scenario's payloads

# The first pattern found in a function's file names its layer; the order matters.
LAYERS = [
    ("PostgreSQL round trips (client wait, server time included)", ("psycopg2", "sdrcrm/postgresql")),
    ("authentication and throttle", ("rest_framework/authentication", "knox/", "sdrcrm/authentication",
                                     "sdrcrm/throttling", "rest_framework/throttling", "django/core/cache",
                                     "redis/", "sdrcrm/cache")),
    ("WSGI and middleware", ("django/core/handlers", "django/middleware", "django/contrib/sessions",
                             "django/contrib/auth", "sdrcrm/middleware", "csp/", "django/urls", "django/http",
                             "django/test")),
    ("parsing and validation, serialization (DRF)", ("rest_framework/", "leads/api/", "sdrcrm/api/")),
    ("ORM: building and compiling statements, rows to objects", ("django/db/",)),
    ("the services' Python (leads, scoring, routing, sdrcrm)", ("leads/", "scoring/", "routing/", "opportunities/",
                                                                "sdrcrm/")),
    ("Django, other", ("django/",)),
]
OTHER = "the rest (standard library, JSON, …)"


def layer_of(filename: str) -> str:
    for name, patterns in LAYERS:
        if any(pattern in filename for pattern in patterns):
            return name
    return OTHER


def run(leads: int) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    from sdrcrm.models import ApiToken, User

    user = User.objects.get(username=seed.INTEGRATION_USER)
    token = ApiToken.objects.create(user=user, name=f"profile {time.time():.0f}")[1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    rng, tag = random.Random(18), f"prof{time.time():.0f}"

    def one(n: int) -> None:
        lead, activity = seed.ingest_payload(rng, tag, 0, n)
        assert client.post("/api/v1/leads/", lead, format="json").status_code in (200, 201)
        answer = client.post("/api/v1/activities/", {"email": lead["email"], "type": activity}, format="json")
        assert answer.status_code in (200, 201)

    for n in range(30):  # warm the caches (configuration, token, compiled validators)
        one(n)
    started = time.perf_counter()
    for n in range(30, 30 + leads):
        one(n)
    plain = (time.perf_counter() - started) / leads
    profile = cProfile.Profile()
    with CaptureQueriesContext(connection) as queries:
        profile.enable()
        for n in range(30 + leads, 30 + 2 * leads):
            one(n)
        profile.disable()
    by_layer: dict[str, float] = {}

    def add(layer: str, seconds: float) -> None:
        by_layer[layer] = by_layer.get(layer, 0.0) + seconds

    for (filename, _, function), (_, _, tottime, _, callers) in pstats.Stats(profile).stats.items():
        if filename != "~" or "psycopg2" in function:
            add(layer_of(filename if filename != "~" else function), tottime)
            continue
        # A built-in (getattr, isinstance, a dict's get…) works for whoever called it: its
        # time goes to each caller's layer, as much as that caller's calls took.
        for (caller_file, _, _), (_, _, caller_tottime, _) in callers.items():
            add(layer_of(caller_file) if caller_file != "~" else OTHER, caller_tottime)
    total = sum(by_layer.values())
    return {
        "leads": leads, "ms_per_lead_unprofiled": round(plain * 1000, 2),
        "statements_per_lead": round(len(queries) / leads, 1),
        # Django logs a BEGIN for every transaction; the project's backend sends it with the
        # transaction's first statement (sdrcrm/postgresql), so it is no round trip there.
        "round_trips_per_lead": round(sum(
            1 for q in queries if q["sql"] != "BEGIN" or not getattr(connection, "defers_begin", False)) / leads, 1),
        "layers": {name: {"ms_per_lead_profiled": round(seconds / leads * 1000, 2),
                          "share_pct": round(100 * seconds / total, 1)}
                   for name, seconds in sorted(by_layer.items(), key=lambda item: -item[1])},
    }


def wsgi_ingest(leads: int, counted: bool = True) -> None:
    """The ingest scenario's requests for 30 leads to warm up and `leads` leads more, sent
    to the WSGI handler as gunicorn calls it. `counted`: callgrind's instrumentation of
    this process (run under valgrind: see instructions()) on only around the measured leads."""
    from sdrcrm.models import ApiToken, User
    from sdrcrm.wsgi import application

    user = User.objects.get(username=seed.INTEGRATION_USER)
    token = ApiToken.objects.create(user=user, name=f"instructions {time.time():.0f}")[1]
    rng, tag = random.Random(18), f"ins{time.time():.0f}{os.getpid()}"

    def call(path: str, body: dict[str, Any]) -> None:
        raw = json.dumps(body).encode()
        environ = {
            "REQUEST_METHOD": "POST", "PATH_INFO": path, "SCRIPT_NAME": "", "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
            "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(raw)), "HTTP_HOST": "127.0.0.1:8000",
            "HTTP_AUTHORIZATION": f"Token {token}", "HTTP_ACCEPT": "application/json", "REMOTE_ADDR": "127.0.0.1",
            "wsgi.input": io.BytesIO(raw), "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr,
            "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False, "wsgi.version": (1, 0),
        }
        status: list[str] = []
        result = application(environ, lambda line, headers, exc_info=None: status.append(line))
        body_bytes = b"".join(result)
        result.close()
        if status[0][:3] not in ("200", "201"):
            raise SystemExit(f"{path} answered {status[0]}: {body_bytes[:300]!r}")

    def one(n: int) -> None:
        lead, activity = seed.ingest_payload(rng, tag, 0, n)
        call("/api/v1/leads/", lead)
        call("/api/v1/activities/", {"email": lead["email"], "type": activity})

    for n in range(30):  # warm the caches (configuration, token, compiled validators, prepared statements)
        one(n)
    if not counted:
        for n in range(30, 30 + leads):
            one(n)
        return
    switch = ["callgrind_control", "--instr", "on", str(os.getpid())]
    subprocess.run(switch, check=True, capture_output=True)
    for n in range(30, 30 + leads):
        one(n)
    subprocess.run([*switch[:2], "off", switch[3]], check=True, capture_output=True)


def backend_pid() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def instructions(leads: int) -> dict[str, Any]:
    """Instructions per lead of the app's process, this script run again under callgrind."""
    if not (shutil.which("valgrind") and shutil.which("callgrind_annotate")):
        raise SystemExit("--instructions needs valgrind (Debian: apt-get install valgrind)")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        subprocess.run(["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
                        sys.executable, __file__, "--leads", str(leads), "--under-callgrind"],
                       check=True, capture_output=True)
        total, collections = callgrind_total(out)
    return {"leads": leads, "instructions_per_lead": round(total / leads),
            "without_gc_collections": round((total - collections) / leads),
            "gc_collections_per_lead": round(collections / leads)}


def callgrind_total(out: Path) -> tuple[int, int]:
    """A callgrind file's instructions, and those of Python's cyclic garbage collections."""
    totals = subprocess.run(["callgrind_annotate", "--inclusive=yes", str(out)], check=True,
                            capture_output=True, text=True).stdout

    def count(pattern: str) -> int:
        found = re.search(rf"^\s*([\d,]+) .*{pattern}", totals, re.MULTILINE)
        return int(found.group(1).replace(",", "")) if found else 0

    return count("PROGRAM TOTALS"), count(r"gcmodule\.c:gc_collect_main \[")


# The count's server is kept steady, so that two codes counted an hour apart compare: no
# checkpoint during a count (after one, the first change to each page writes all of it to
# the WAL, a cost that depends on when the last one ran), no full-page images, every page
# read once stays in memory, no autovacuum.
STEADY_SERVER = ("autovacuum=off", "jit=off", "full_page_writes=off", "checkpoint_timeout=1h", "max_wal_size=20GB",
                 "shared_buffers=2GB")


def postgres_instructions(leads: int, pgdata: str, database: str) -> dict[str, Any]:
    """Instructions per lead of the PostgreSQL backend serving the app's connection. A
    server of its own is started under callgrind on the cluster `pgdata` (a throwaway
    copy: never the machine's server) and stopped afterwards."""
    for tool in ("valgrind", "callgrind_annotate", "pg_config"):
        if not shutil.which(tool):
            raise SystemExit(f"--postgres-instructions needs {tool}")
    bindir = subprocess.run(["pg_config", "--bindir"], check=True, capture_output=True, text=True).stdout.strip()
    owner = Path(pgdata).stat().st_uid
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o777)  # the server runs as the cluster's owner
        server = subprocess.Popen(
            ["valgrind", "--tool=callgrind", "--trace-children=yes",
             f"--callgrind-out-file={tmp}/callgrind.out.%p", f"{bindir}/postgres", "-D", pgdata, "-p", str(port),
             "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={tmp}",
             *(arg for setting in STEADY_SERVER for arg in ("-c", setting))],
            user=owner if os.geteuid() == 0 else None, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(600):
                if server.poll() is not None:
                    raise SystemExit(f"PostgreSQL on {pgdata} did not start (is another server using it?)")
                if subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", str(port)]).returncode == 0:
                    break
                time.sleep(0.5)
            else:
                raise SystemExit(f"PostgreSQL on {pgdata} did not answer within 5 minutes")
            os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:{port}/{database}"
            # Every table and index read into shared buffers first: else the count depends on
            # which pages the leads happen to read for the first time.
            with psycopg2.connect(os.environ["DATABASE_URL"]) as prewarm, prewarm.cursor() as cursor:
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
                cursor.execute("SELECT pg_prewarm(oid) FROM pg_class WHERE relkind IN ('r', 'i', 't') "
                               "AND relnamespace = 'public'::regnamespace")
            seed.setup_django()
            from django.db import connection

            # valgrind takes callgrind_control's requests only from a running process, and a
            # backend waits for its client in the kernel: its whole life is counted instead,
            # once with the warm-up alone and once with the measured leads after it.
            backends = []
            for measured in (0, leads):
                wsgi_ingest(measured, counted=False)
                backends.append(backend_pid())
                connection.close()
        finally:
            server.send_signal(signal.SIGINT)  # a fast shutdown: each process writes its counts
            server.wait(timeout=300)
        warm, both = (callgrind_total(Path(tmp) / f"callgrind.out.{pid}")[0] for pid in backends)
    return {"leads": leads, "postgres_instructions_per_lead": round((both - warm) / leads)}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=300)
    parser.add_argument("--instructions", action="store_true",
                        help="count instructions per lead under callgrind instead (default 40 leads)")
    parser.add_argument("--postgres-instructions", metavar="PGDATA",
                        help="count instead the instructions of the PostgreSQL backend per lead, on a server of "
                             "its own started under callgrind on this cluster's data directory (a throwaway copy "
                             "of the bench database: see bench/README.md; default 40 leads)")
    parser.add_argument("--database", default="sdrcrm_bench", help="the database in --postgres-instructions' cluster")
    parser.add_argument("--under-callgrind", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    # As the benchmark's gunicorn runs (bench/run.py bench_env): Celery tasks inline, and a
    # throttle nobody reaches.
    os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
    os.environ.setdefault("API_THROTTLE_RATE", "100000000/hour")
    if args.instructions:
        result = instructions(args.leads if "--leads" in argv else 40)
        print(f"{result['instructions_per_lead'] / 1e6:.2f} M instructions a lead (both requests, the app's "
              f"process), {result['without_gc_collections'] / 1e6:.2f} M without Python's cyclic garbage "
              f"collections ({result['gc_collections_per_lead'] / 1e6:.2f} M)")
        print(json.dumps(result))
        return
    if args.postgres_instructions:
        result = postgres_instructions(args.leads if "--leads" in argv else 40, args.postgres_instructions,
                                       args.database)
        print(f"{result['postgres_instructions_per_lead'] / 1e6:.2f} M instructions a lead in the PostgreSQL "
              f"backend (both requests)")
        print(json.dumps(result))
        return
    seed.setup_django()
    if args.under_callgrind:
        wsgi_ingest(args.leads)
        return
    result = run(args.leads)
    print(f"{result['ms_per_lead_unprofiled']} ms a lead (both requests, in process, unprofiled); "
          f"{result['statements_per_lead']} statements a lead, {result['round_trips_per_lead']} round trips")
    for name, figures in result["layers"].items():
        print(f"  {figures['share_pct']:5.1f} %  {figures['ms_per_lead_profiled']:6.2f} ms  {name}")
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
