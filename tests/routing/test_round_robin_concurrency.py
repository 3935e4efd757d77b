"""Round robin stays fair and exact under concurrent ingest (PostgreSQL row locks)."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import OperationalError, connection, transaction

from leads import services
from leads.models import Lead
from routing import pools
from routing.models import Pool, PoolMember
from sdrcrm.models import Role
from tests.conftest import on_postgres, pool_of, require
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded")]
CLIENTS, PER_CLIENT = 8, 30


def send_trials(client: int) -> list[int]:
    try:
        ids = []
        for i in range(PER_CLIENT):
            lead = services.ingest_lead(
                {"email": f"c{client}-{i}@firm{client}-{i}.de", "last_name": "Doe", "initial_source": "trial_saas",
                 "country": "DE"}, by=None).lead
            services.record_activity(lead, "trial_request")
            ids.append(lead.pk)
        return ids
    finally:
        connection.close()


def emea_pool_of(*users) -> Pool:
    """On PostgreSQL only: the EMEA BDR pool (where DE trials go) with these members."""
    require(on_postgres(), "CI must run the concurrency test on PostgreSQL",
            "row-lock concurrency is tested on PostgreSQL (DATABASE_URL=postgres://…)")
    return pool_of("EMEA BDR", *users)


def test_eight_clients_share_240_trials_exactly_80_each_and_none_for_the_absent():
    members = [UserFactory(role=Role.BDR) for _ in range(3)]
    absent = UserFactory(role=Role.BDR, is_available=False)
    pool = emea_pool_of(*members, absent)

    with ThreadPoolExecutor(max_workers=CLIENTS) as executor:
        ids = [pk for batch in executor.map(send_trials, range(CLIENTS)) for pk in batch]

    owners = Counter(Lead.objects.filter(pk__in=ids).values_list("owner_id", flat=True))
    assert len(ids) == CLIENTS * PER_CLIENT
    assert {user.pk: owners[user.pk] for user in members} == {user.pk: 80 for user in members}
    assert owners[absent.pk] == 0
    assert owners[None] == 0
    assert sorted(PoolMember.objects.filter(pool=pool, user__in=members).values_list("assigned", flat=True)) == [
        80, 80, 80]


def edit_pool_while_routing(pool: Pool, users: list, rounds: int) -> int:
    try:
        for n in range(rounds):
            order = users if n % 2 else users[::-1]  # positions flip every edit
            pools.save_pool(pool, {}, [{"user": user, "position": i, "weight": 1} for i, user in enumerate(order)])
        return rounds
    finally:
        connection.close()


def test_ops_editing_a_pool_while_leads_are_routed_neither_deadlocks_nor_loses_a_turn():
    members = [UserFactory(role=Role.BDR) for _ in range(3)]
    pool = emea_pool_of(*members)

    with ThreadPoolExecutor(max_workers=CLIENTS + 1) as executor:
        editor = executor.submit(edit_pool_while_routing, pool, members, 40)
        ids = [pk for batch in executor.map(send_trials, range(CLIENTS)) for pk in batch]
        assert editor.result() == 40

    owners = Counter(Lead.objects.filter(pk__in=ids).values_list("owner_id", flat=True))
    assert owners[None] == 0 and sum(owners.values()) == CLIENTS * PER_CLIENT
    assert sum(PoolMember.objects.filter(pool=pool).values_list("assigned", flat=True)) == CLIENTS * PER_CLIENT


@pytest.mark.parametrize("take", [
    lambda pool: pools.next_in_pool(pool.name),  # the PostgreSQL function
    lambda pool: pools.take_turns(pool.name, 3),  # a batch's turns, from Python
], ids=["one turn", "a batch of turns"])
def test_a_turn_queues_on_the_pools_own_row_before_its_members(take):
    """Concurrent turns wait for one lock, the pool's row, instead of queueing on every
    member row (routing/migrations/0005): a turn cannot start while another holds it."""
    member = UserFactory(role=Role.BDR)
    pool = emea_pool_of(member)
    holding, release = threading.Event(), threading.Event()

    def hold_the_pool() -> None:
        try:
            with transaction.atomic():
                Pool.objects.select_for_update(no_key=True).get(pk=pool.pk)
                holding.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_pool)
    holder.start()
    try:
        assert holding.wait(10)
        with pytest.raises(OperationalError, match="lock timeout"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '200ms'")
            take(pool)
    finally:
        release.set()
        holder.join()
    assert PoolMember.objects.get(pool=pool).assigned == 0
    take(pool)  # the holder gone, the turn goes through
    assert PoolMember.objects.get(pool=pool).assigned > 0
