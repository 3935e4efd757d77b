"""What clients see while a service is down, tested by breaking it for one request: the
database not answering gives a JSON 503 with Retry-After (a page elsewhere); Redis not
answering costs cache misses, not errors; a broker not answering leaves the work stored
for the jobs that send stranded work again. (tests/failures/ breaks real services.)"""

from __future__ import annotations

import pytest
from django.core.cache.backends.redis import RedisCacheClient
from django.db import OperationalError
from kombu.exceptions import OperationalError as BrokerDown
from redis.exceptions import ConnectionError as RedisDown

from leads.models import SequenceEvent
from sdrcrm import cache as resilient
from tests.factories import EnrollmentFactory, LeadFactory

pytestmark = pytest.mark.django_db


def test_an_api_request_while_the_database_is_down_answers_json_503_with_retry_after(api, sdr, monkeypatch):
    client = api.as_user(sdr)
    client.raise_request_exception = False

    def refuse(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("leads.api.leads.LeadViewSet.list", refuse)
    response = client.get("/api/v1/leads/")

    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert response["Content-Type"] == "application/json" and "Retry in a few seconds" in response.json()["detail"]


def test_a_page_while_the_database_is_down_answers_a_503_page(client, sdr, monkeypatch):
    client.force_login(sdr)
    client.raise_request_exception = False

    def refuse(*args, **kwargs):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr("leads.views.leads.Lead.objects.visible_to", refuse)
    response = client.get("/leads/")

    assert response.status_code == 503 and "Back in a moment" in response.content.decode()


def test_other_api_failures_stay_json_500(api, sdr, monkeypatch):
    client = api.as_user(sdr)
    client.raise_request_exception = False
    monkeypatch.setattr("leads.api.leads.LeadViewSet.list", lambda *a, **k: 1 / 0)

    response = client.get("/api/v1/leads/")

    assert response.status_code == 500 and response["Content-Type"] == "application/json"


def test_the_redis_cache_fails_open(monkeypatch):
    backend = resilient.ResilientRedisCache("redis://127.0.0.1:1/0", {})

    def down(*args, **kwargs):
        raise RedisDown("Connection refused")

    for name in ("get", "set", "add", "delete", "incr", "get_many", "delete_many"):
        monkeypatch.setattr(RedisCacheClient, name, down)

    assert backend.get("k", "fallback") == "fallback" and backend.get_many(["k"]) == {}
    assert backend.set("k", 1) is None and backend.add("k", 1) is False and backend.delete("k") is False
    assert backend.incr("n", 3) == 3


def test_a_sequence_event_posted_while_the_broker_is_down_is_stored_and_answered(api, integration, monkeypatch,
                                                                               django_capture_on_commit_callbacks):
    from leads.tasks import apply_sequence_event

    def broker_down(*args, **kwargs):
        raise BrokerDown("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(apply_sequence_event, "delay", broker_down)
    enrollment = EnrollmentFactory(lead=LeadFactory(created_by=integration, status="mql"), enrolled_by=integration)

    with django_capture_on_commit_callbacks(execute=True):
        response = api.as_user(integration).post(f"/api/v1/enrollments/{enrollment.pk}/events/",
                                                 {"kind": "step_completed", "step": 1}, format="json")

    assert response.status_code == 202
    event = SequenceEvent.objects.get()
    assert event.applied_at is None  # stored: the sequence_events job sends it once the broker is back
