"""Bulk ingest routes the new leads that reach the routing threshold on arrival in bulk
(routing/batch.py), and ends exactly as ingesting them one by one would: the same owners,
queues, follow-up clocks, pool turns, decisions, alerts and webhook events. Its statements
do not grow with the number of routed leads."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leads import bulk
from leads.models import Activity, Lead, Queue, StatusChange
from routing.models import PoolMember, RoutingDecision, Territory
from scoring.models import ScoreEntry
from sdrcrm import config
from sdrcrm.models import Notification, Role, WebhookEndpoint, WebhookEvent
from tests.conftest import pool_of
from tests.factories import AccountFactory, LeadFactory, UserFactory
from tests.leads.test_bulk import outcome, split_inserts

pytestmark = pytest.mark.django_db

# 55 points (senior title, company email): routed on arrival, short of MQL.
SENIOR = {"title": "VP Engineering", "initial_source": "webcast"}


def hot(name: str, domain: str, **fields) -> dict:
    return {"email": f"{name}@{domain}", "last_name": name.title(), **SENIOR, **fields}


def items() -> list[dict]:
    return [
        # Contact requests of a mid-market company in EMEA: the EMEA BDR pool, in turn, with the SLA clock.
        hot("ann", "alpha.de", country="DE", employee_count=400, initial_source="contact_request"),
        hot("bob", "beta.de", country="DE", employee_count=400, initial_source="contact_request"),
        hot("cat", "gamma.de", country="DE", employee_count=400, initial_source="contact_request"),
        # No request: the AMER territory's SDR; two leads at the same domain in the batch.
        hot("dan", "delta.com", country="US", state="NY"),
        hot("eve", "delta.com", country="US", state="CA"),
        # No country: no territory, queue Unassigned, ops alerted.
        hot("fay", "epsilon.com"),
        # Professional services at an owned account: its SAL, the clock by the SAL's region, SAL and BDR alerted.
        hot("gus", "known.com", country="US", initial_source="professional_services_request"),
        # An ABM account: the ABM pool.
        hot("hal", "abm.com", country="GB"),
        # SMB contact request in EMEA: its Customer Advocate pool has nobody available.
        hot("ida", "zeta.co.uk", country="GB", employee_count=20, initial_source="contact_request"),
        # Below the threshold: not routed.
        {"email": "jon@eta.com", "last_name": "Jon", "initial_source": "webcast", "country": "US"},
        # Colleagues at the domain (a lead stored there is being worked): the careful path.
        hot("kim", "worked.com", country="US"),
        # A careful item (its email is repeated) that takes a turn in the EMEA pool ...
        hot("lou", "theta.de", country="DE", employee_count=400, initial_source="contact_request"),
        # ... so later pool items of the batch take theirs after it, as one by one.
        hot("max", "iota.de", country="DE", employee_count=400, initial_source="contact_request"),
        hot("lou", "theta.de", country="DE", employee_count=400, initial_source="contact_request",
            first_name="Lou"),
        hot("ned", "kappa.de", country="DE", employee_count=400, initial_source="contact_request"),
        # At the domain of the careful item before it: the careful path too.
        hot("oli", "theta.de", country="DE"),
        # An owner given: not routed, and it takes no turn.
        hot("pam", "lambda.de", country="DE", employee_count=400, initial_source="contact_request", owner="sdr"),
        hot("quinn", "mu.de", country="DE", employee_count=400, initial_source="contact_request"),
    ]


def full_outcome() -> dict:
    """outcome() with what routing writes besides the lead's owner and queue."""
    leads = {lead.pk: lead.email for lead in Lead.objects.all()}

    def events(kind: str) -> list:
        found = []
        for payload in WebhookEvent.objects.filter(kind=kind).values_list("payload", flat=True):
            found.append((leads.get(payload["id"]), sorted((k, str(v)) for k, v in payload.items()
                                                           if k not in ("id", "at", "created_at"))))
        return sorted(found)

    return {
        "leads": outcome(),
        "sla": sorted(Lead.objects.values_list("email", "sla_due_at", "sla_breached_at", "sla_pool")),
        "decisions": sorted(
            (leads[d.lead_id], d.rule_kind, d.rule_position, d.action, d.owner_id, d.pool_id, d.queue_id, d.reason,
             d.candidates, sorted(d.inputs.items()), d.ruleset_id)
            for d in RoutingDecision.objects.all()),
        "notifications": sorted((leads.get(n.lead_id), n.user_id, n.kind, n.message)
                                for n in Notification.objects.all()),
        "created": events("lead.created"),
        "assigned": events("lead.assigned"),
        "pools": sorted(PoolMember.objects.values_list("pool__name", "user_id", "credit", "assigned")),
    }


def reset_all() -> None:
    """reset(), but the lead stored before the test stays."""
    for model in (ScoreEntry, RoutingDecision, StatusChange, Activity, Notification, WebhookEvent):
        model.objects.all().delete()
    Lead.objects.exclude(email="boss@worked.com").delete()
    PoolMember.objects.update(credit=0, assigned=0)


@pytest.fixture
def world(sdr):
    """Pools, territories, accounts and a lead being worked, for the items above."""
    bdrs = [UserFactory(role=Role.BDR, region="emea"), UserFactory(role=Role.BDR, region="amer"),
            UserFactory(role=Role.BDR, region="")]
    pool_of("EMEA BDR", *bdrs, weights={bdrs[0]: 2})
    pool_of("Customer Advocate EMEA", UserFactory(role=Role.BDR, is_available=False))
    pool_of("ABM SDR", UserFactory(role=Role.SDR))
    Territory.objects.create(name="AMER", region="amer", sdr=UserFactory(role=Role.SDR))
    UserFactory(role=Role.OPS)
    sal = UserFactory(role=Role.SAL, region="apac")
    AccountFactory(name="Known", domain="known.com", owner=sal, bdr_assigned=UserFactory(role=Role.BDR))
    AccountFactory(name="Abm", domain="abm.com", abm_tier=1)
    LeadFactory(email="boss@worked.com", owner=UserFactory(role=Role.SDR), status="accepted")
    for kind in ("lead.created", "lead.assigned"):
        WebhookEndpoint.objects.create(url=f"https://example.com/{kind}", secret="s" * 32, events=[kind])
    return {"sdr": sdr, "bdrs": bdrs}


def with_ids(world, objects: bool = False) -> list[dict]:
    """items(), the owner given by id (as the API takes it) or as the user (as services take it)."""
    owner = world["sdr"] if objects else world["sdr"].pk
    return [{**item, "owner": owner} if item.get("owner") == "sdr" else item for item in items()]


def test_bulk_routing_ends_exactly_as_one_by_one_ingest(api, integration, world, monkeypatch):
    # The clock stands still, so that both runs start the same follow-up clocks (due at the
    # end of a business day, or a day from now, to the microsecond).
    frozen = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: frozen)
    client = api.as_user(integration)
    for item in with_ids(world):
        assert client.post("/api/v1/leads/", item, format="json").status_code in (200, 201)
    one_by_one = full_outcome()
    reset_all()

    response = client.post("/api/v1/leads/bulk/", {"leads": with_ids(world)}, format="json")

    assert response.status_code == 200 and response.json()["rejected"] == 0
    assert full_outcome() == one_by_one
    # The items really were the interesting ones.
    leads = one_by_one["leads"]
    bdrs = [bdr.pk for bdr in world["bdrs"]]
    pooled = [leads[f"{name}@{domain}"][3] for name, domain in
              [("ann", "alpha.de"), ("bob", "beta.de"), ("cat", "gamma.de"), ("lou", "theta.de"),
               ("max", "iota.de"), ("ned", "kappa.de"), ("quinn", "mu.de")]]
    assert set(pooled) == set(bdrs) and pooled.count(bdrs[0]) > pooled.count(bdrs[1])  # weights 2, 1, 1
    sla = {email: (due, pool) for email, due, _, pool in one_by_one["sla"]}
    assert sla["ann@alpha.de"][0] > frozen and sla["ann@alpha.de"][1] == "EMEA BDR"
    assert sla["gus@known.com"][0] > frozen and sla["dan@delta.com"][0] is None
    assert leads["dan@delta.com"][3] == leads["eve@delta.com"][3] is not None
    unassigned = Queue.objects.get(name=Queue.UNASSIGNED).pk
    assert leads["fay@epsilon.com"][4] == leads["ida@zeta.co.uk"][4] == unassigned
    assert leads["hal@abm.com"][3] is not None and leads["jon@eta.com"][3] is None
    assert leads["kim@worked.com"][-1][0][0] == "domain_working"
    assert one_by_one["assigned"] and one_by_one["notifications"]


def test_bulk_routing_routes_the_common_case_in_bulk(world, monkeypatch):
    """The fast path really routes: the careful path sees only the items it must."""
    careful = []
    ingest_one = bulk.ingest_one

    def spy(item, index, by, cause=bulk.AssignCause.INGEST):
        careful.append(item[0]["email"])
        return ingest_one(item, index, by, cause)

    monkeypatch.setattr(bulk, "ingest_one", spy)
    bulk.ingest_batch([(item, []) for item in with_ids(world, objects=True)], by=None)

    assert sorted(careful) == sorted(["kim@worked.com", "lou@theta.de", "max@iota.de", "lou@theta.de",
                                      "ned@kappa.de", "oli@theta.de", "pam@lambda.de", "quinn@mu.de"])


def routed_batch(start: int, count: int) -> list[tuple[dict, list]]:
    """New leads that all route on arrival: to the EMEA pool, a territory's SDR, or Unassigned."""
    kinds = [{"country": "DE", "employee_count": 400, "initial_source": "contact_request"},
             {"country": "US", "state": "NY"}, {}]
    return [(hot(f"p{n}", f"firm{n}.com", **kinds[n % 3]), []) for n in range(start, start + count)]


def test_routing_a_batch_takes_statements_that_do_not_grow_with_it(world):
    def run(batch: list[tuple[dict, list]]) -> CaptureQueriesContext:
        # One view of the configuration a batch, as a request and an import's batch have.
        with config.pinned(), CaptureQueriesContext(connection) as queries:
            outcomes = bulk.ingest_batch(batch, by=None)
        assert all(o.result == "created" and (o.lead.owner_id or o.lead.queue_id) for o in outcomes)
        return queries

    run(routed_batch(0, 3))  # the process's configuration cache filled
    small, big = run(routed_batch(100, 10)), run(routed_batch(200, 50))

    assert RoutingDecision.objects.count() == 63
    assert PoolMember.objects.aggregate(total=Sum("assigned"))["total"] == 21  # every third went to the pool
    small_other, small_inserts = split_inserts(small.captured_queries)
    big_other, big_inserts = split_inserts(big.captured_queries)
    assert big_other == small_other
    # One INSERT per table on PostgreSQL; SQLite's 999 parameters a statement split a few.
    if connection.features.max_query_params is None:
        assert big_inserts == small_inserts
    else:
        assert big_inserts <= small_inserts + 6
