"""Retries are safe: a write sent again with the same Idempotency-Key replays the first
answer and writes nothing; a different body with the key is a 422; a refused write keeps
no key; a write cut off before it answered leaves nothing, so its retry runs afresh."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from leads import bulk
from leads.models import Activity, Lead, SequenceEvent
from opportunities.models import StageChange
from scoring.models import ScoreEntry
from sdrcrm.jobs import run_job
from sdrcrm.models import IdempotentRequest
from tests.factories import EnrollmentFactory, LeadFactory, OpportunityFactory

pytestmark = pytest.mark.django_db
NEW_LEAD = {"email": "kim@firm.com", "last_name": "Kim", "initial_source": "webcast"}


def post(client, url, body, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(url, body, format="json", **headers)


def test_a_resent_lead_post_replays_the_first_answer(api, integration):
    client = api.as_user(integration)
    first = post(client, "/api/v1/leads/", NEW_LEAD, key="k-1")
    again = post(client, "/api/v1/leads/", NEW_LEAD, key="k-1")

    assert (first.status_code, again.status_code) == (201, 201)  # not the 200 of an update
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert Lead.objects.count() == 1


def test_the_header_is_read_whatever_the_case_of_its_name(api, integration):
    client = api.as_user(integration)
    first = client.post("/api/v1/leads/", NEW_LEAD, format="json", headers={"idempotency-key": "k-case"})
    again = client.post("/api/v1/leads/", NEW_LEAD, format="json", headers={"IDEMPOTENCY-KEY": "k-case"})

    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert "Idempotent-Replayed" not in first


def test_a_resent_activity_counts_once(api, integration):
    LeadFactory(email="kim@firm.com", created_by=integration)
    client = api.as_user(integration)
    body = {"email": "kim@firm.com", "type": "pricing_page_visit"}

    for _ in range(3):
        assert post(client, "/api/v1/activities/", body, key="act-9").status_code == 201

    assert Activity.objects.count() == 1
    assert ScoreEntry.objects.filter(activity__isnull=False).count() == 1


def test_without_a_key_two_posts_are_two_activities(api, integration):
    LeadFactory(email="kim@firm.com", created_by=integration)
    client = api.as_user(integration)
    for _ in range(2):
        post(client, "/api/v1/activities/", {"email": "kim@firm.com", "type": "pricing_page_visit"})
    assert Activity.objects.count() == 2


def test_the_same_key_with_another_body_is_422_and_writes_nothing(api, integration):
    client = api.as_user(integration)
    post(client, "/api/v1/leads/", NEW_LEAD, key="k-2")

    response = post(client, "/api/v1/leads/", {**NEW_LEAD, "email": "other@firm.com"}, key="k-2")

    assert response.status_code == 422 and "different request" in response.json()["detail"]
    assert not Lead.objects.filter(email="other@firm.com").exists()


def test_keys_are_per_user(api, integration, ops):
    post(api.as_user(integration), "/api/v1/leads/", NEW_LEAD, key="shared")
    response = post(api.as_user(ops), "/api/v1/leads/", {**NEW_LEAD, "email": "ops@firm.com"}, key="shared")
    assert response.status_code == 201 and Lead.objects.count() == 2


def test_a_refused_write_keeps_no_key_so_the_corrected_one_may_reuse_it(api, integration):
    client = api.as_user(integration)
    refused = post(client, "/api/v1/leads/", {"email": "kim@firm.com", "last_name": "Kim"}, key="k-3")

    fixed = post(client, "/api/v1/leads/", NEW_LEAD, key="k-3")

    assert refused.status_code == 400 and fixed.status_code == 201
    assert not IdempotentRequest.objects.filter(status__gte=400).exists()


def test_a_bulk_cut_off_before_answering_leaves_nothing_and_its_retry_writes_once(api, integration, monkeypatch):
    client = api.as_user(integration)
    body = {"leads": [{**NEW_LEAD, "email": f"p{n}@firm.com", "activities": [{"type": "pricing_page_visit"}]}
                      for n in range(5)]}
    real = bulk.ingest_batch

    def killed_after_writing(items, by):
        real(items, by)  # everything written, then the worker dies before answering
        raise SystemExit("worker killed")

    monkeypatch.setattr(bulk, "ingest_batch", killed_after_writing)
    with pytest.raises(SystemExit):
        post(client, "/api/v1/leads/bulk/", body, key="bulk-1")
    assert not Lead.objects.exists() and not IdempotentRequest.objects.exists()  # rolled back together

    monkeypatch.setattr(bulk, "ingest_batch", real)
    first = post(client, "/api/v1/leads/bulk/", body, key="bulk-1")
    again = post(client, "/api/v1/leads/bulk/", body, key="bulk-1")

    assert first.json()["created"] == 5 and again.json() == first.json()
    assert Lead.objects.count() == 5 and Activity.objects.count() == 5


def test_a_resent_sequence_event_is_stored_once(api, integration):
    enrollment = EnrollmentFactory(enrolled_by=integration)
    client = api.as_user(integration)
    for _ in range(2):
        assert post(client, f"/api/v1/enrollments/{enrollment.pk}/events/", {"kind": "bounced"},
                    key="ev-1").status_code == 202
    assert SequenceEvent.objects.count() == 1


def test_a_resent_stage_move_is_recorded_once(api, ops):
    opportunity = OpportunityFactory(stage="pending_acceptance")
    client = api.as_user(ops)
    body = {"stage": "closed_lost", "closed_lost_reason": "no_budget"}
    answers = [post(client, f"/api/v1/opportunities/{opportunity.pk}/stage/", body, key="st-1") for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 200]
    assert StageChange.objects.filter(opportunity=opportunity, new="closed_lost").count() == 1


def test_a_key_longer_than_255_characters_is_refused(api, integration):
    response = post(api.as_user(integration), "/api/v1/leads/", NEW_LEAD, key="k" * 256)
    assert response.status_code == 400 and "Idempotency-Key" in response.json()["errors"]


def test_keys_are_forgotten_after_a_day(api, integration):
    client = api.as_user(integration)
    post(client, "/api/v1/leads/", NEW_LEAD, key="old")
    IdempotentRequest.objects.update(created_at=timezone.now() - timedelta(hours=25))

    assert run_job("idempotency_keys").counts == {"deleted": 1}
    assert not IdempotentRequest.objects.exists()


# --- An activity's external_id: sent again, the same activity -------------------------------


def test_an_activity_sent_again_with_its_external_id_is_the_same_activity(api, integration):
    lead = LeadFactory(email="kim@firm.com", created_by=integration)
    client = api.as_user(integration)
    body = {"email": "kim@firm.com", "type": "pricing_page_visit", "source_system": "marketo",
            "external_id": "mkto-991"}

    first, again = post(client, "/api/v1/activities/", body), post(client, "/api/v1/activities/", body)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"] and again.json()["external_id"] == "mkto-991"
    assert Activity.objects.filter(lead=lead).count() == 1
    assert ScoreEntry.objects.filter(lead=lead, activity__isnull=False).count() == 1


def test_external_ids_are_unique_per_source(api, integration):
    LeadFactory(email="kim@firm.com", created_by=integration)
    client = api.as_user(integration)
    for source in ("marketo", "outreach"):
        post(client, "/api/v1/activities/", {"email": "kim@firm.com", "type": "pricing_page_visit",
                                             "source_system": source, "external_id": "42"})
    assert Activity.objects.count() == 2


def test_an_external_id_of_another_persons_activity_is_refused(api, integration):
    LeadFactory(email="kim@firm.com", created_by=integration)
    LeadFactory(email="lee@firm.com", created_by=integration)
    client = api.as_user(integration)
    body = {"type": "pricing_page_visit", "source_system": "marketo", "external_id": "mkto-5"}
    post(client, "/api/v1/activities/", {**body, "email": "kim@firm.com"})

    response = post(client, "/api/v1/activities/", {**body, "email": "lee@firm.com"})

    assert response.status_code == 409 and "already an activity of another person" in response.json()["detail"]
    assert Activity.objects.count() == 1


def test_a_bulk_resent_with_external_ids_counts_each_activity_once(api, integration):
    client = api.as_user(integration)
    body = {"leads": [{**NEW_LEAD, "email": f"p{n}@firm.com",
                       "activities": [{"type": "pricing_page_visit", "source_system": "marketo",
                                       "external_id": f"m-{n}"}]} for n in range(3)]}

    first, again = post(client, "/api/v1/leads/bulk/", body), post(client, "/api/v1/leads/bulk/", body)

    assert first.json()["created"] == 3 and again.json()["updated"] == 3
    assert Activity.objects.count() == 3
