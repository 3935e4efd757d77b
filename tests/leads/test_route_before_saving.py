"""Routing writes a lead once: a new lead that routing gives away at once is inserted
with its owner, and an activity that makes a lead MQL and routes it updates it once;
everything else is what routing after the write would give."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leads import services
from leads.models import Lead, Queue
from routing import services as routing_services
from routing.models import PoolMember, RoutingDecision
from sdrcrm.models import Role
from tests.conftest import on_postgres, pool_of, require
from tests.factories import LeadFactory, UserFactory

# 55 points (senior title, company email): past the routing threshold, short of MQL.
HOT = {"last_name": "Doe", "title": "VP Engineering", "country": "DE", "initial_source": "contact_request",
       "employee_count": 400}


@pytest.mark.django_db
def test_a_lead_routed_on_arrival_is_inserted_with_its_owner_and_sla_and_never_updated():
    bdr = UserFactory(role=Role.BDR)
    pool_of("EMEA BDR", bdr)

    with CaptureQueriesContext(connection) as queries:
        lead = services.ingest_lead({"email": "cto@firm.de", **HOT}, by=None).lead

    stored = Lead.objects.get(pk=lead.pk)
    assert (stored.owner_id, stored.queue_id, stored.score) == (bdr.pk, None, 55)
    assert stored.sla_due_at is not None and stored.sla_pool == "EMEA BDR"
    decision = RoutingDecision.objects.get(lead=lead)
    assert (decision.owner_id, decision.action) == (bdr.pk, "pool") and "Next in turn" in decision.reason
    assert PoolMember.objects.get(user=bdr).assigned == 1
    assert not [q["sql"] for q in queries.captured_queries if q["sql"].startswith('UPDATE "leads_lead"')]


@pytest.mark.django_db
def test_a_lead_sent_to_a_queue_on_arrival_is_inserted_in_it():
    pool_of("EMEA BDR", UserFactory(role=Role.BDR, is_available=False))  # nobody there: Unassigned

    with CaptureQueriesContext(connection) as queries:
        lead = services.ingest_lead({"email": "cto@firm.de", **HOT}, by=None).lead

    assert Lead.objects.filter(pk=lead.pk).values_list("owner_id", "queue__name").get() == (None, Queue.UNASSIGNED)
    assert RoutingDecision.objects.get(lead=lead).queue.name == Queue.UNASSIGNED
    assert not [q["sql"] for q in queries.captured_queries if q["sql"].startswith('UPDATE "leads_lead"')]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("seeded")
def test_a_twin_that_wins_the_insert_gives_the_pool_turn_back(monkeypatch):
    require(on_postgres(), "CI must run the twin-insert test on PostgreSQL",
            "a twin insert from a second connection needs PostgreSQL (DATABASE_URL=postgres://…)")
    bdr, other = UserFactory(role=Role.BDR), UserFactory(role=Role.BDR)
    pool_of("EMEA BDR", bdr, other)
    plan = routing_services.plan_route

    def twin_arrives_meanwhile(lead, request, now):
        route = plan(lead, request, now)  # before the insert, the turn is taken: bdr's
        if lead.pk is not None:
            return route  # the twin being routed

        def insert_twin():
            try:
                LeadFactory(email=lead.email, title="", employee_count=400, country="DE")
            finally:
                connection.close()

        thread = threading.Thread(target=insert_twin)
        thread.start()
        thread.join()
        return route

    monkeypatch.setattr(routing_services, "plan_route", twin_arrives_meanwhile)
    result = services.ingest_lead({"email": "cto@firm.de", **HOT}, by=None)

    assert not result.created and Lead.objects.filter(email="cto@firm.de").count() == 1
    # The insert lost: its turn was rolled back with it; the twin, updated, was routed once.
    assert sorted(PoolMember.objects.values_list("user_id", "assigned")) == sorted([(bdr.pk, 1), (other.pk, 0)])
    assert Lead.objects.get(email="cto@firm.de").owner_id == bdr.pk
    assert RoutingDecision.objects.filter(lead=result.lead).count() == 1


@pytest.mark.django_db
def test_an_activity_that_makes_a_lead_mql_and_routes_it_updates_the_lead_once():
    bdr = UserFactory(role=Role.BDR)
    pool_of("EMEA BDR", bdr)
    lead = services.ingest_lead({"email": "dev@firm.de", **HOT, "title": "Developer"}, by=None).lead
    assert lead.owner_id is None  # 5 points: not routed on arrival

    with CaptureQueriesContext(connection) as queries:
        services.record_activity(lead, "contact_request")

    stored = Lead.objects.get(pk=lead.pk)
    assert (stored.status, stored.owner_id, stored.score) == ("mql", bdr.pk, lead.score)
    assert stored.mql_at is not None and stored.sla_due_at is not None
    assert stored.status_changes.get().new == "mql"
    assert RoutingDecision.objects.get(lead=lead).owner_id == bdr.pk
    assert len([q for q in queries.captured_queries if q["sql"].startswith('UPDATE "leads_lead"')]) == 1
