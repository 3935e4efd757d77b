"""The pool's turn (routing/pools.py, next_in_pool): on PostgreSQL one function call that
also writes the lead's owner; on SQLite the same steps from Python. Both must give the
same turns."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.utils import timezone

from leads.models import Queue
from routing import pools
from routing.models import Pool, PoolMember
from sdrcrm.models import Role
from tests.conftest import on_postgres, pool_of, require
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_turn_writes_the_leads_owner_in_the_same_step_and_clears_its_queue():
    a, b = UserFactory(role=Role.BDR, region="EMEA"), UserFactory(role=Role.BDR)
    pool_of("EMEA BDR", a, b)
    lead = LeadFactory(owner=None, queue=Queue.objects.get(name=Queue.UNASSIGNED))

    member, candidates = pools.next_in_pool("EMEA BDR", lead=lead.pk)

    lead.refresh_from_db()
    assert (member, member.region, candidates) == (a, "EMEA", [a.pk, b.pk])
    assert (lead.owner, lead.queue) == (a, None)
    assert dict(PoolMember.objects.filter(user__in=[a, b]).values_list("user", "assigned")) == {a.pk: 1, b.pk: 0}


def test_the_follow_up_clock_starts_in_the_same_step_due_by_the_chosen_members_region():
    a = UserFactory(role=Role.BDR, region="emea")
    pool_of("EMEA BDR", a)
    lead = LeadFactory(owner=None, sla_pool="")
    now = timezone.now()
    dues = {"": now + timedelta(days=3), "amer": now + timedelta(days=1), "emea": now + timedelta(days=2),
            "apac": now + timedelta(days=4)}

    pools.next_in_pool("EMEA BDR", lead=lead.pk, now=now, sla_dues=dues)

    lead.refresh_from_db()
    assert (lead.owner, lead.sla_due_at, lead.sla_breached_at, lead.sla_pool) == (a, dues["emea"], None, "EMEA BDR")


def test_an_excluded_member_sits_the_turn_out_with_their_state_untouched():
    a, b = UserFactory(role=Role.BDR), UserFactory(role=Role.BDR)
    pool = pool_of("EMEA BDR", a, b)
    picks = [pools.next_in_pool("EMEA BDR", exclude=a.pk)[0] for _ in range(3)]
    assert picks == [b, b, b]
    assert PoolMember.objects.get(pool=pool, user=a).credit == 0


def test_nobody_available_takes_no_turn_and_leaves_the_lead_alone():
    away = UserFactory(role=Role.BDR, is_available=False)
    pool_of("EMEA BDR", away)
    lead = LeadFactory(owner=None)
    assert pools.next_in_pool("EMEA BDR", lead=lead.pk) == (None, [])
    lead.refresh_from_db()
    assert lead.owner is None


def test_the_postgresql_function_gives_the_same_turns_as_the_python_steps():
    require(on_postgres(), "CI must compare the turn function on PostgreSQL",
            "the turn function exists on PostgreSQL only (DATABASE_URL=postgres://…)")
    rng = random.Random(7)
    users = [UserFactory(role=Role.BDR, region=region) for region in ("amer", "emea", "", "apac", "emea")]
    weights = {user: rng.randint(1, 4) for user in users}
    by_function = pool_of("EMEA BDR", *users, weights=weights)
    by_python = Pool.objects.create(name="Python steps")
    for i, user in enumerate(users):
        # Positions not in id order, so the tie-break by position is exercised.
        PoolMember.objects.create(pool=by_python, user=user, position=(i * 3) % 5, weight=weights[user])
        PoolMember.objects.filter(pool=by_function, user=user).update(position=(i * 3) % 5)
    leads = LeadFactory.create_batch(2, owner=None)

    for turn in range(60):
        exclude = users[rng.randrange(5)].pk if turn % 7 == 0 else None
        if turn % 11 == 0:  # someone leaves for the day, someone comes back
            type(users[0]).objects.filter(pk=rng.choice(users).pk).update(is_available=turn % 2 == 0)
        now = timezone.now()
        dues = {region: now + timedelta(hours=n) for n, region in enumerate(["", "amer", "emea", "apac"])}
        clock = dues if turn % 3 == 0 else None
        got = pools.next_in_pool("EMEA BDR", exclude=exclude, lead=leads[0].pk, now=now, sla_dues=clock)
        want = pools._take_turn(by_python.pk, exclude, leads[1].pk, now, clock, "EMEA BDR")
        assert (got[0].pk if got[0] else None, got[1]) == (want[0].pk if want[0] else None, want[1]), turn
        for lead in leads:
            lead.refresh_from_db()
        assert leads[0].owner_id == leads[1].owner_id
        assert (leads[0].sla_due_at, leads[0].sla_pool) == (leads[1].sla_due_at, leads[1].sla_pool)
    assert state(by_function) == state(by_python)


def state(pool: Pool) -> list[tuple[int, int, int]]:
    return sorted(PoolMember.objects.filter(pool=pool).values_list("user", "credit", "assigned"))


def test_a_batch_of_turns_gives_the_same_members_in_the_same_order_as_one_turn_at_a_time():
    """take_turns (one lock, one update, for a batch of new leads) against next_in_pool
    called as many times, on two pools with the same members, weights and positions."""
    rng = random.Random(11)
    users = [UserFactory(role=Role.BDR, region=region) for region in ("amer", "emea", "", "apac", "emea")]
    weights = {user: rng.randint(1, 5) for user in users}
    batched = pool_of("EMEA BDR", *users, weights=weights)
    one_by_one = pool_of("US/APAC BDR", *users, weights=weights)
    for i, user in enumerate(users):
        position = (i * 3) % 5 if i != 4 else 0  # not in id order, with a tie on position
        PoolMember.objects.filter(user=user).update(position=position)

    for count in (1, 7, 3, 12, 0, 5):
        if count == 3:  # someone leaves for the day
            type(users[0]).objects.filter(pk=users[1].pk).update(is_available=False)
        members, candidates = pools.take_turns("EMEA BDR", count)
        turns = [pools.next_in_pool("US/APAC BDR") for _ in range(count)]
        assert [m.pk for m in members] == [m.pk for m, _ in turns]
        assert all(c == candidates for _, c in turns)
        assert [(m.username, m.region) for m in members] == [(m.username, m.region) for m, _ in turns]
        assert state(batched) == state(one_by_one)
    assert sum(assigned for _, _, assigned in state(batched)) == 28


def test_a_batch_of_turns_in_a_pool_with_nobody_available_takes_none():
    pool = pool_of("EMEA BDR", UserFactory(role=Role.BDR, is_available=False))
    assert pools.take_turns("EMEA BDR", 4) == ([], [])
    assert pools.take_turns("No such pool", 4) == ([], [])
    assert state(pool)[0][1:] == (0, 0)
