"""Routing writes a lead as few times as it can, and takes a pool's turn last: a new lead
that routing sends to a queue is inserted in it; one that goes to a pool is inserted, and
its owner comes with the pool's turn (one statement on PostgreSQL), after which only the
SLA clock and the decision log are written, so the pool's members stay locked for the
shortest time. An activity that makes a lead MQL and gives it to a pool takes the turn
first, locking the lead before the pool, then writes the score, the move, the owner, the
ledger, the history and the decision in one statement (PostgreSQL); everything else is
what routing after the write would give."""

from __future__ import annotations

import re
import threading
import time

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from leads import services
from leads.models import Lead, Queue
from routing import pools
from routing import services as routing_services
from routing.models import PoolMember, RoutingDecision
from sdrcrm.models import Role
from tests.conftest import on_postgres, pool_of, require
from tests.factories import LeadFactory, UserFactory

# 55 points (senior title, company email): past the routing threshold, short of MQL.
HOT = {"last_name": "Doe", "title": "VP Engineering", "country": "DE", "initial_source": "contact_request",
       "employee_count": 400}

AFTER_THE_TURN = {"routing_routingdecision"} if on_postgres() else {"leads_lead", "routing_routingdecision"}
WRITE = re.compile(r"(?:INSERT INTO|UPDATE|DELETE FROM) (\w+)")
ALL_WRITES = re.compile(r"(?:INSERT INTO|UPDATE) (\w+)")  # anywhere in a statement (its WITHs too)


def tables_written_after_the_turn(queries: CaptureQueriesContext) -> set[str]:
    """The tables written after the pool's turn: its function on PostgreSQL (which writes
    the lead), the members' update on SQLite (then the lead, in the same step)."""
    sqls = [q["sql"].replace('"', "") for q in queries.captured_queries]
    turn = max(i for i, sql in enumerate(sqls) if "routing_take_turn(" in sql or "UPDATE routing_poolmember" in sql)
    return {found.group(1) for sql in sqls[turn + 1:] if (found := WRITE.match(sql))}


@pytest.mark.django_db
def test_a_lead_routed_on_arrival_to_a_pool_gets_its_owner_with_the_turn_taken_last():
    bdr = UserFactory(role=Role.BDR)
    pool_of("EMEA BDR", bdr)

    with CaptureQueriesContext(connection) as queries:
        lead = services.ingest_lead({"email": "cto@firm.de", **HOT}, by=None).lead

    stored = Lead.objects.get(pk=lead.pk)
    assert (stored.owner_id, stored.queue_id, stored.score) == (bdr.pk, None, 55)
    assert (lead.owner_id, lead.sla_due_at) == (bdr.pk, stored.sla_due_at)  # the caller's copy too
    assert stored.sla_due_at is not None and stored.sla_pool == "EMEA BDR"
    decision = RoutingDecision.objects.get(lead=lead)
    assert (decision.owner_id, decision.action) == (bdr.pk, "pool") and "Next in turn" in decision.reason
    assert PoolMember.objects.get(user=bdr).assigned == 1
    # After the turn, nothing but the decision (the owner and the SLA clock of a contact
    # request came with it).
    assert tables_written_after_the_turn(queries) == AFTER_THE_TURN


@pytest.mark.django_db
def test_a_lead_sent_to_a_queue_on_arrival_is_inserted_in_it():
    ops = UserFactory(role=Role.OPS)

    with CaptureQueriesContext(connection) as queries:  # no country: no territory covers it
        lead = services.ingest_lead({"email": "cto@firm.com", **HOT, "country": ""}, by=None).lead

    assert Lead.objects.filter(pk=lead.pk).values_list("owner_id", "queue__name").get() == (None, Queue.UNASSIGNED)
    decision = RoutingDecision.objects.get(lead=lead)
    assert (decision.action, decision.queue.name) == ("queue", Queue.UNASSIGNED)
    assert ops.notifications.filter(lead=lead).exists()
    assert not [q["sql"] for q in queries.captured_queries if q["sql"].startswith('UPDATE "leads_lead"')]


@pytest.mark.django_db
def test_a_lead_whose_pool_has_nobody_available_goes_to_unassigned_and_ops_are_alerted():
    ops = UserFactory(role=Role.OPS)
    pool_of("EMEA BDR", UserFactory(role=Role.BDR, is_available=False))

    lead = services.ingest_lead({"email": "cto@firm.de", **HOT}, by=None).lead

    assert Lead.objects.filter(pk=lead.pk).values_list("owner_id", "queue__name").get() == (None, Queue.UNASSIGNED)
    assert (lead.owner_id, lead.queue.name) == (None, Queue.UNASSIGNED)
    decision = RoutingDecision.objects.get(lead=lead)
    assert (decision.action, decision.queue.name) == ("pool", Queue.UNASSIGNED)
    assert "Nobody in EMEA BDR is available" in decision.reason
    assert ops.notifications.filter(lead=lead).exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("seeded")
def test_a_twin_that_wins_the_insert_gives_the_pool_turn_back(monkeypatch):
    require(on_postgres(), "CI must run the twin-insert test on PostgreSQL",
            "a twin insert from a second connection needs PostgreSQL (DATABASE_URL=postgres://…)")
    bdr, other = UserFactory(role=Role.BDR), UserFactory(role=Role.BDR)
    pool_of("EMEA BDR", bdr, other)
    plan = routing_services.plan_route

    def twin_arrives_meanwhile(lead, request, now):
        route = plan(lead, request, now)  # decided before the insert; the turn waits for it
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
    # The insert lost and took no turn; the twin, updated, was routed once.
    assert sorted(PoolMember.objects.values_list("user_id", "assigned")) == sorted([(bdr.pk, 1), (other.pk, 0)])
    assert Lead.objects.get(email="cto@firm.de").owner_id == bdr.pk
    assert RoutingDecision.objects.filter(lead=result.lead).count() == 1


@pytest.mark.django_db
def test_an_activity_that_makes_a_lead_mql_takes_the_turn_then_writes_everything_in_one_update():
    bdr = UserFactory(role=Role.BDR)
    pool_of("EMEA BDR", bdr)
    lead = services.ingest_lead({"email": "dev@firm.de", **HOT, "title": "Developer"}, by=None).lead
    assert lead.owner_id is None  # 5 points: not routed on arrival

    with CaptureQueriesContext(connection) as queries:
        services.record_activity(lead, "contact_request")

    stored = Lead.objects.get(pk=lead.pk)
    assert (stored.status, stored.owner_id, stored.score) == ("mql", bdr.pk, lead.score)
    assert stored.mql_at is not None and stored.sla_due_at is not None and stored.sla_pool == "EMEA BDR"
    assert stored.status_changes.get().new == "mql"
    assert RoutingDecision.objects.get(lead=lead).owner_id == bdr.pk
    assert stored.score_entries.filter(rule_key="activity-contact-request").exists()
    sqls = [q["sql"].replace('"', "") for q in queries.captured_queries]
    # The lead is written once: its score, the move and the owner the turn chose, together.
    updates = [sql for sql in sqls if "UPDATE leads_lead " in sql]
    assert len(updates) == 1 and "score = " in updates[0] and "status = " in updates[0]
    assert "owner_id = " in updates[0] and "sla_due_at = " in updates[0]
    # After the turn, the lead's update with its ledger rows, history row and decision: one
    # statement on PostgreSQL; on SQLite the rows go first, then the update and the history.
    turn = max(i for i, sql in enumerate(sqls) if "routing_take_turn(" in sql or "UPDATE routing_poolmember" in sql)
    after = [sql for sql in sqls[turn + 1:] if ALL_WRITES.search(sql)]
    assert {table for sql in after for table in ALL_WRITES.findall(sql)} == {
        "leads_lead", "scoring_scoreentry", "leads_statuschange", "routing_routingdecision"}
    assert len(after) == (1 if on_postgres() else 4)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("seeded")
def test_an_activity_locks_its_lead_before_the_pool_so_an_edit_of_the_lead_holds_up_no_other_turn():
    """The turn comes before the lead's update, so it locks the lead first: were the pool
    locked first, an activity waiting for its lead would hold every other lead's turn of
    that pool (and a writer of the lead that then routes it would deadlock with it)."""
    require(on_postgres(), "CI must run the lock-order test on PostgreSQL",
            "row locks from a second connection need PostgreSQL (DATABASE_URL=postgres://…)")
    first, second = UserFactory(role=Role.BDR), UserFactory(role=Role.BDR)
    pool_of("EMEA BDR", first, second)
    lead = services.ingest_lead({"email": "dev@firm.de", **HOT, "title": "Developer"}, by=None).lead
    held, release = threading.Event(), threading.Event()

    def edit_in_progress():  # an SDR's edit of the lead, not committed yet
        try:
            with transaction.atomic():
                list(Lead.objects.select_for_update().filter(pk=lead.pk))
                held.set()
                release.wait(30)
        finally:
            connection.close()

    def activity():
        try:
            services.record_activity(Lead.objects.get(pk=lead.pk), "contact_request")
        finally:
            connection.close()

    editor, recorder = threading.Thread(target=edit_in_progress), threading.Thread(target=activity)
    editor.start()
    assert held.wait(10)
    recorder.start()
    try:
        wait_for_a_lock_wait()  # the activity waits for the lead
        with transaction.atomic():  # another lead's turn of the same pool is not held up
            connection.cursor().execute("SET LOCAL lock_timeout = '3s'")
            other_turn = pools.next_in_pool("EMEA BDR")[0]
    finally:
        release.set()
        editor.join(30)
        recorder.join(30)

    assert other_turn is not None
    stored = Lead.objects.get(pk=lead.pk)
    assert stored.status == "mql" and stored.owner_id in {first.pk, second.pk} - {other_turn.pk}
    assert sorted(PoolMember.objects.values_list("assigned", flat=True)) == [1, 1]


def wait_for_a_lock_wait() -> None:
    for _ in range(200):
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                           " AND datname = current_database()")
            if cursor.fetchone()[0]:
                return
        time.sleep(0.05)
    raise AssertionError("the activity never waited for the lead's lock")
