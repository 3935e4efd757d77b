from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext

from leads.models import Activity, BlockedDomain, Lead, Queue, StatusChange
from routing.models import PoolMember, RoutingDecision, Territory
from scoring.models import ScoreEntry
from sdrcrm.models import Notification, Role
from tests.conftest import pool_of
from tests.factories import AccountFactory, UserFactory

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
    assert results[0]["score"] == -10 + 5 + 10  # blank title, company email, pricing
    assert results[1]["id"] == Lead.objects.get(email="known@firm.com").pk
    assert Lead.objects.get(email="known@firm.com").title == "CTO"
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
    # From here on, items the set-based path works out in memory:
    lead(9, title="Head of IT", activities=[{"type": "webcast_registered"}, {"type": "pricing_page_visit"},
                                            {"type": "pricing_page_visit"}]),  # inquiry; one visit a day
    lead(10, email="p10@known-account.com", company="Someone Else", activities=[{"type": "gated_asset_download"}]),
    lead(11, company="Acme, Inc.", activities=[{"type": "newsletter_optin"}, {"type": "newsletter_optin"}]),
    lead(12, email="p12@yahoo.com", title="Student", activities=[{"type": "email_unsubscribe"},
                                                                 {"type": "pricing_page_visit"}]),
    lead(13, first_name="ANNA", last_name="SCHMIDT", country="DE",
         activities=[{"type": "webcast_attended_high_intent", "occurred_at": "2026-01-05T10:00:00Z"},
                     {"type": "career_page_visit", "occurred_at": "2026-01-01T10:00:00Z"}]),
    lead(14, email="p14@disposable.mailinator.com"),  # rejected both ways
    lead(15, country="US", state="CA", activities=[{"type": "trial_request"}], owner="sdr"),  # MQL, owned: no routing
    lead(16, country="US", activities=[], queue="inquiry"),
]


def payload(sdr, inquiry_queue) -> list[dict]:
    """PAYLOAD with the runtime ids filled in."""
    ids = {"sdr": sdr.pk, "inquiry": inquiry_queue.pk}
    items = []
    for item in PAYLOAD:
        item = dict(item)
        for key in ("owner", "queue"):
            if key in item:
                item[key] = ids[item[key]]
        items.append(item)
    return items


def outcome() -> dict[str, tuple]:
    leads = Lead.objects.order_by("email")
    return {
        lead.email: (
            lead.score, lead.status, lead.status_reason, lead.owner_id, lead.queue_id, lead.segment, lead.region,
            lead.account_id, lead.email_domain, lead.first_name, lead.opted_out, lead.mql_at is not None,
            lead.last_handraise_at is not None, lead.active_until is not None, lead.is_passive, lead.activities.count(),
            sorted(ScoreEntry.objects.filter(lead=lead).values("rule_key").annotate(total=Sum("points"))
                   .values_list("rule_key", "total")),
            list(lead.status_changes.order_by("id").values_list("old", "new", "reason", "cause")),
            list(RoutingDecision.objects.filter(lead=lead).values_list("rule_kind", "owner_id", "queue_id")),
        )
        for lead in leads
    }


def reset() -> None:
    for model in (ScoreEntry, RoutingDecision, StatusChange, Activity, Notification, Lead):
        model.objects.all().delete()
    PoolMember.objects.update(credit=0, assigned=0)


def test_bulk_ingest_ends_exactly_as_one_by_one_ingest(api, integration, sdr):
    bdrs = [UserFactory(role=Role.BDR) for _ in range(2)]
    pool_of("EMEA BDR", *bdrs)
    Territory.objects.create(name="AMER", region="amer", sdr=UserFactory(role=Role.SDR))
    UserFactory(role=Role.OPS)
    AccountFactory(name="Known", domain="known-account.com", employee_count=3000)
    AccountFactory(name="ACME Incorporated", employee_count=80)  # its name key: "acme"
    items = payload(sdr, Queue.objects.get(name=Queue.INQUIRY))
    client = api.as_user(integration)

    for item in items:
        item = dict(item)
        activities = item.pop("activities", [])
        status = client.post("/api/v1/leads/", item, format="json").status_code
        assert status in (200, 201) or item["email"].endswith("mailinator.com")
        for activity in activities:
            assert client.post("/api/v1/activities/", {"email": item["email"], **activity},
                               format="json").status_code == 201
    one_by_one = outcome()
    reset()

    response = client.post("/api/v1/leads/bulk/", {"leads": items}, format="json")

    assert response.json()["rejected"] == 1
    assert outcome() == one_by_one
    owners = {one_by_one[f"p{n}@firm{n % 7}.com"][3] for n in (1, 5, 8)}
    assert owners == {b.pk for b in bdrs}  # the trials really went round the pool
    # The set-based items really were the interesting ones.
    assert one_by_one["p9@firm2.com"][1] == "inquiry"
    assert one_by_one["p12@yahoo.com"][1:3] == ("unqualified", "unsubscribe")
    assert one_by_one["p15@firm1.com"][1] == "mql" and one_by_one["p15@firm1.com"][3] == sdr.pk
    assert one_by_one["p10@known-account.com"][7] is not None and one_by_one["p11@firm4.com"][7] is not None


def split_inserts(queries: list[dict]) -> tuple[int, int]:
    inserts = sum(1 for q in queries if q["sql"].lstrip().upper().startswith("INSERT"))
    return len(queries) - inserts, inserts


def test_a_batch_of_new_leads_takes_a_fixed_number_of_queries(api, integration, django_assert_max_num_queries):
    client = api.as_user(integration)
    small = [lead(n, activities=[{"type": "pricing_page_visit"}, {"type": "webcast_registered"}])
             for n in range(100, 110)]
    big = [lead(n, activities=[{"type": "pricing_page_visit"}, {"type": "webcast_registered"}])
           for n in range(200, 400)]
    with django_assert_max_num_queries(20) as small_run:
        assert client.post("/api/v1/leads/bulk/", small, format="json").json()["created"] == 10
    with CaptureQueriesContext(connection) as big_run:
        assert client.post("/api/v1/leads/bulk/", big, format="json").json()["created"] == 200

    small_other, small_inserts = split_inserts(small_run.captured_queries)
    big_other, big_inserts = split_inserts(big_run.captured_queries)
    assert big_other <= small_other
    # One INSERT per table on PostgreSQL. SQLite caps a statement at 999 parameters, so
    # Django splits each bulk insert in chunks: still a handful for 200 leads, not 200.
    chunks = 1 if connection.features.max_query_params is None else 12
    assert big_inserts <= small_inserts * chunks
    assert Lead.objects.get(email="p250@firm5.com").status == "inquiry"
    assert ScoreEntry.objects.filter(lead__email="p250@firm5.com").aggregate(total=Sum("points"))["total"] == \
        Lead.objects.get(email="p250@firm5.com").score
