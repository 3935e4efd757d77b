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
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import random
import sys
import time
from typing import Any

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
        "layers": {name: {"ms_per_lead_profiled": round(seconds / leads * 1000, 2),
                          "share_pct": round(100 * seconds / total, 1)}
                   for name, seconds in sorted(by_layer.items(), key=lambda item: -item[1])},
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=300)
    args = parser.parse_args(argv)
    seed.setup_django()
    result = run(args.leads)
    print(f"{result['ms_per_lead_unprofiled']} ms a lead (both requests, in process, unprofiled); "
          f"{result['statements_per_lead']} statements a lead")
    for name, figures in result["layers"].items():
        print(f"  {figures['share_pct']:5.1f} %  {figures['ms_per_lead_profiled']:6.2f} ms  {name}")
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
