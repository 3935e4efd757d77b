"""Redis stopped for a minute (FAILURE_OUTAGE_SECONDS) under ingest: the app keeps
answering (the cache fails open, enqueueing fails soft), /healthz reports the broker
down, and the sequence events that arrived meanwhile are applied by a real worker once
Redis is back, exactly once."""

from __future__ import annotations

import os
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from leads.models import Lead, SequenceEvent, Status
from sdrcrm.models import ApiToken, Role
from tests.conftest import database_url
from tests.factories import EnrollmentFactory, LeadFactory, SequenceFactory, UserFactory

from .conftest import App, wait_until

pytestmark = [pytest.mark.failure, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded")]
OUTAGE_SECONDS = int(os.environ.get("FAILURE_OUTAGE_SECONDS", "60"))


def test_ingest_goes_on_and_the_events_sent_meanwhile_are_applied_after(throwaway_redis, app_env):
    feed = UserFactory(role=Role.INTEGRATION)
    token = ApiToken.objects.create(user=feed, name="failure test")[1]
    sequence = SequenceFactory(steps=3)
    enrollments = [EnrollmentFactory(sequence=sequence, enrolled_by=feed,
                                     lead=LeadFactory(status=Status.MQL, created_by=feed, owner=UserFactory()))
                   for _ in range(6)]
    app = App({**app_env["env"], "DATABASE_URL": database_url(), "REDIS_URL": throwaway_redis.url,
               "SEQUENCE_EVENT_REQUEUE_AFTER_SECONDS": "5"}, app_env["logs"])
    app_env["apps"].append(app)
    app.serve()
    app.work()

    # Redis up: an event is applied by the worker.
    assert app.call("POST", f"/api/v1/enrollments/{enrollments[0].pk}/events/",
                    {"kind": "step_completed", "step": 1}, token)[0] == 202
    wait_until(lambda: SequenceEvent.objects.filter(applied_at__isnull=False).count() == 1, 60,
               f"the first event to be applied\n{app.output()}")

    throwaway_redis.stop()
    outage_ends = time.monotonic() + OUTAGE_SECONDS
    statuses = [app.call("POST", f"/api/v1/enrollments/{enrollment.pk}/events/",
                         {"kind": "step_completed", "step": 1}, token)[0] for enrollment in enrollments[1:]]
    health, n = [], 0
    while time.monotonic() < outage_ends:
        email = f"outage{n}@firm.de"
        statuses.append(app.call("POST", "/api/v1/leads/", {"email": email, "last_name": "Doe", "country": "DE",
                                                             "initial_source": "trial_saas"}, token)[0])
        statuses.append(app.call("POST", "/api/v1/activities/", {"email": email, "type": "trial_request"}, token)[0])
        status, _, body = app.call("GET", "/healthz")
        health.append((status, body.get("broker", "") if isinstance(body, dict) else body))
        n += 1
        time.sleep(0.5)
    throwaway_redis.start()  # the same port: the app and the worker reconnect on their own

    assert set(statuses) <= {200, 201, 202}, f"{statuses}\n{app.output()}"
    assert Lead.objects.filter(email__startswith="outage").count() == n
    assert all(status == 503 and broker.startswith("error") for status, broker in health), health
    stored = SequenceEvent.objects.filter(applied_at__isnull=True).count()
    assert stored == len(enrollments) - 1  # arrived during the outage, kept, not yet applied

    # Beat's next `sequence_events` run sends them again; the worker applies each once.
    later = (timezone.now() + timedelta(seconds=6)).isoformat()
    app.manage("run_job", "sequence_events", "--now", later)
    wait_until(lambda: not SequenceEvent.objects.filter(applied_at__isnull=True).exists(), 90,
               f"the events of the outage to be applied\n{app.output()}")
    for enrollment in enrollments:
        lead = Lead.objects.get(pk=enrollment.lead_id)
        assert lead.status == Status.ACCEPTED and lead.status_changes.count() == 1
    assert app.call("GET", "/healthz")[0] == 200
