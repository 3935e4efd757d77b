"""PostgreSQL restarted under ingest: 8 clients post leads and their activities while a
throwaway cluster restarts. Every answer is a success or a JSON 503 with Retry-After
(never a 500 or a dropped connection), no lead is half-written, and the app serves again
once the database is back, without being restarted itself."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

from .conftest import App, wait_until

pytestmark = pytest.mark.failure
CLIENTS = 8
TOKEN_CODE = ("from sdrcrm.models import ApiToken, User; "
              "u = User.objects.create(username='feed', role='integration'); "
              "print(ApiToken.objects.create(user=u, name='failure test')[1])")


def test_clients_get_503s_then_successes_and_no_lead_is_half_written(throwaway_postgres, app_env):
    app = App({**app_env["env"], "DATABASE_URL": throwaway_postgres.url,
               "REDIS_URL": app_env["env"].get("REDIS_URL", "")}, app_env["logs"])
    app_env["apps"].append(app)
    app.manage("migrate", "--no-input", "-v0")
    token = app.manage("shell", "-c", TOKEN_CODE).strip().splitlines()[-1]
    app.serve()

    answers: list[tuple[int, float, str, dict, object]] = []  # (client, time, what, headers, status/body)
    created: set[str] = set()
    recorded: set[str] = set()
    stop = threading.Event()

    def client(n: int) -> None:
        i = 0
        while not stop.is_set():
            email = f"c{n}-{i}@firm{n}.de"
            status, headers, body = app.call("POST", "/api/v1/leads/", {
                "email": email, "last_name": "Doe", "country": "DE", "initial_source": "trial_saas"}, token)
            answers.append((n, time.monotonic(), status, headers, body))
            if status == 201:
                created.add(email)
                status, headers, body = app.call("POST", "/api/v1/activities/",
                                                 {"email": email, "type": "trial_request"}, token)
                answers.append((n, time.monotonic(), status, headers, body))
                if status == 201:
                    recorded.add(email)
            i += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    try:
        wait_until(lambda: len(created) >= 40, 60, "the clients to get going")
        throwaway_postgres.restart()
        restarted_at = time.monotonic()
        wait_until(lambda: sum(1 for a in answers if a[1] > restarted_at + 1 and a[2] in (200, 201)) >= 80, 60,
                   "successes after the restart")
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)

    statuses = Counter(answer[2] for answer in answers)
    assert set(statuses) <= {200, 201, 503}, f"{statuses}\n{app.output()}"
    unavailable = [answer for answer in answers if answer[2] == 503]
    for _, _, _, headers, body in unavailable:
        assert headers.get("Retry-After") == "5" and "Retry" in body["detail"]
    # Every client was served again after the restart, the app itself never restarted.
    for n in range(CLIENTS):
        last = [answer[2] for answer in answers if answer[0] == n][-3:]
        assert set(last) <= {200, 201}, f"client {n} ended on {last}"
    assert app.processes[0].poll() is None

    # Nothing half-written: what was answered 201 is there, and every lead's score is its ledger.
    stored = {row[0] for row in throwaway_postgres.query("SELECT email FROM leads_lead")}
    assert created <= stored
    with_activity = {row[0] for row in throwaway_postgres.query(
        "SELECT l.email FROM leads_lead l JOIN leads_activity a ON a.lead_id = l.id")}
    assert recorded <= with_activity
    assert throwaway_postgres.query(
        "SELECT count(*) FROM leads_lead l WHERE l.score <> COALESCE("
        "(SELECT SUM(e.points) FROM scoring_scoreentry e WHERE e.lead_id = l.id), 0)") == [(0,)]
    assert throwaway_postgres.query(
        "SELECT count(*) FROM leads_lead l WHERE l.status <> 'raw' AND NOT EXISTS ("
        "SELECT 1 FROM leads_statuschange c WHERE c.lead_id = l.id AND c.new = l.status)") == [(0,)]
    print(f"\n{len(answers)} answers: {dict(statuses)}")
