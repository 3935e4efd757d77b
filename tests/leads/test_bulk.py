from __future__ import annotations

import pytest

from leads.models import Activity, BlockedDomain, Lead, StatusChange
from routing.models import Pool, PoolMember, RoutingDecision, Territory
from scoring.models import ScoreEntry
from sdrcrm.models import Notification, Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def lead(n: int, **fields) -> dict:
    return {"email": f"p{n}@firm{n % 7}.com", "last_name": f"Doe{n}", "initial_source": "webcast", **fields}


def test_each_item_gets_its_result_and_good_items_are_written_despite_bad_ones(api, integration):
    BlockedDomain.objects.create(domain="blocked.biz")
    Lead.objects.create(email="known@firm.com", last_name="Known", initial_source="webcast",
                        status_changed_at="2026-01-01T00:00:00Z")
    body = {"leads": [
        lead(1, activities=[{"type": "pricing_page_visit"}]),
        {"email": "KNOWN@firm.com", "title": "CTO"},
        {"email": "x@blocked.biz", "last_name": "X", "initial_source": "webcast"},
        {"email": "y@firm.com", "last_name": "Y", "initial_source": "unknown"},
        {"last_name": "No email", "initial_source": "webcast"},
        lead(2, activities=[{"type": "teleport"}]),
        "not an object",
    ]}
    response = api.as_user(integration).post("/api/v1/leads/bulk/", body, format="json")

    assert response.status_code == 200
    data = response.json()
    assert (data["created"], data["updated"], data["rejected"]) == (1, 1, 5)
    results = data["results"]
    assert [r["result"] for r in results] == ["created", "updated", "rejected", "rejected", "rejected", "rejected",
                                              "rejected"]
    assert results[0]["score"] == -10 + 5 + 10 and results[1]["title"] == "CTO"  # blank title, company email, pricing
    assert "block list" in results[2]["detail"]
    assert set(results[3]["errors"]) == {"initial_source"}
    assert set(results[4]["errors"]) == {"email"}
    assert set(results[5]["errors"]) == {"activities"}
    assert set(Lead.objects.values_list("email", flat=True)) == {"known@firm.com", "p1@firm1.com"}
    assert Activity.objects.count() == 1


def test_more_than_1000_leads_are_refused_whole(api, integration):
    response = api.as_user(integration).post("/api/v1/leads/bulk/", {"leads": [lead(i) for i in range(1001)]},
                                             format="json")
    assert response.status_code == 400 and "leads" in response.json()["errors"]
    assert not Lead.objects.exists()


def test_a_bare_list_is_accepted_too(api, integration):
    response = api.as_user(integration).post("/api/v1/leads/bulk/", [lead(1), lead(2)], format="json")
    assert response.status_code == 200 and response.json()["created"] == 2


def test_an_empty_or_malformed_body_answers_400(api, integration):
    client = api.as_user(integration)
    assert client.post("/api/v1/leads/bulk/", {"leads": []}, format="json").status_code == 400
    assert client.post("/api/v1/leads/bulk/", {"leads": "x"}, format="json").status_code == 400
    assert client.post("/api/v1/leads/bulk/", "{", content_type="application/json").status_code == 400


PAYLOAD = [
    lead(1, country="DE", activities=[{"type": "trial_request"}]),
    lead(2, country="US", state="NY", title="Director", activities=[{"type": "pricing_page_visit"}]),
    lead(3, country="US", employee_count=5000, activities=[{"type": "contact_request"}]),
    lead(4, country="JP", title="Engineer", activities=[{"type": "webcast_registered"},
                                                        {"type": "email_unsubscribe"}]),
    lead(5, country="DE", activities=[{"type": "trial_request"}]),
    lead(6, country="GB", employee_count=40, activities=[{"type": "contact_request"}]),
    lead(1, title="VP Sales"),  # the same person again in the batch: an update
    lead(7, email="p7@gmail.com", country="US", activities=[{"type": "career_page_visit"},
                                                            {"type": "career_page_visit"}]),
    lead(8, country="FR", activities=[{"type": "trial_request"}]),
]


def outcome() -> dict[str, tuple]:
    return {
        lead.email: (lead.score, lead.status, lead.owner_id, lead.queue_id, lead.segment, lead.region,
                     lead.opted_out, lead.mql_at is not None, lead.activities.count())
        for lead in Lead.objects.all()
    }


def reset() -> None:
    for model in (ScoreEntry, RoutingDecision, StatusChange, Activity, Notification, Lead):
        model.objects.all().delete()
    PoolMember.objects.update(credit=0, assigned=0)


def test_bulk_ingest_ends_exactly_as_one_by_one_ingest(api, integration):
    bdrs = [UserFactory(role=Role.BDR) for _ in range(2)]
    for i, user in enumerate(bdrs):
        PoolMember.objects.create(pool=Pool.objects.get(name="EMEA BDR"), user=user, position=i)
    Territory.objects.create(name="AMER", region="amer", sdr=UserFactory(role=Role.SDR))
    UserFactory(role=Role.OPS)
    client = api.as_user(integration)

    for item in PAYLOAD:
        item = dict(item)
        activities = item.pop("activities", [])
        assert client.post("/api/v1/leads/", item, format="json").status_code in (200, 201)
        for activity in activities:
            assert client.post("/api/v1/activities/", {"email": item["email"], **activity},
                               format="json").status_code == 201
    one_by_one = outcome()
    reset()

    response = client.post("/api/v1/leads/bulk/", {"leads": PAYLOAD}, format="json")

    assert response.json()["rejected"] == 0
    assert outcome() == one_by_one
    owners = {one_by_one[f"p{n}@firm{n % 7}.com"][2] for n in (1, 5, 8)}
    assert owners == {b.pk for b in bdrs}  # the trials really went round the pool
