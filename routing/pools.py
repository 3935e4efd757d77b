"""Pools and round robin (docs/rules.md §2), and the ids of pools and queues that routing reads
from the per-process configuration cache (sdrcrm.config). A turn is next_in_pool; a batch
of new leads takes its turns of a pool at once with take_turns, by the same pure step (_turns)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import DEFAULT_DB_ALIAS, transaction
from django.utils import timezone

from leads.models import Lead, Queue
from sdrcrm import config
from sdrcrm.database import default_connection
from sdrcrm.errors import Refused
from sdrcrm.models import Role, User
from sdrcrm.prepared import Prepared

from . import queries
from .models import Pool, PoolMember


def read_queue_ids() -> dict[str, int]:
    return dict(Queue.objects.values_list("name", "pk"))


def read_pool_ids() -> dict[str, int]:
    return dict(Pool.objects.values_list("name", "pk"))


def queue_id(name: str) -> int | None:
    return config.get("queue_ids").get(name)


def pool_id(name: str) -> int | None:
    return config.get("pool_ids").get(name)


def queue_named(name: str) -> Queue:
    """The queue called `name`, its id from the configuration cache (a missing queue is a
    broken installation: it raises like a failed `get`)."""
    pk = queue_id(name)
    if pk is None:
        raise Queue.DoesNotExist(f"No queue named {name!r}.")
    return Queue(pk=pk, name=name)


def next_in_pool(pool_name: str, exclude: int | None = None, lead: int | None = None,
                 now: datetime | None = None, sla_dues: dict[str, datetime] | None = None,
                 lock_lead: int | None = None) -> tuple[User | None, list[int]]:
    """The pool member whose turn it is (smooth weighted round robin), or None when no
    member is available, and the candidates (available members by position). Runs under
    the pool's row lock and then the available members', taken in id order by every
    caller: concurrent requests queue on the pool's row, each reads the members as the one
    before it left them, and no turn is skipped or given twice. `exclude`: a member who
    sits this turn out with their round-robin state untouched (the owner a lead is taken
    from). `lead`: the id of a saved lead that goes to the chosen member in the same step
    (owner written, queue cleared, updated at `now`), so the locks are held for that one
    step and the commit; `sla_dues`: the follow-up clock starts in the same write, due at
    the time given for the chosen member's region (key: the region, "" for none), its pool
    this one. `lock_lead`: the id of a saved lead that is locked first and not written (the
    caller writes its owner in its own update): every writer locks a lead before its pool.
    The user comes with the fields routing reads (name, region)."""
    connection = default_connection()
    pool = pool_id(pool_name)
    if pool is None:
        return None, []
    now = now or timezone.now()
    if connection.vendor == "postgresql":
        # One round trip (routing/migrations/0004): the locks are held the shortest time.
        with connection.cursor() as cursor:
            cursor.execute(Prepared("SELECT * FROM routing_take_turn(%s, %s, %s, %s, %s, %s, %s)"),
                           [pool, exclude, lead, now, json.dumps(_iso(sla_dues)) if sla_dues else None, pool_name,
                            lock_lead])
            row = cursor.fetchone()
        if row is None:
            return None, []
        return User.from_db(connection.alias, queries.MEMBER_USER_FIELDS, row[:-1]), list(row[-1])
    return _take_turn(pool, exclude, lead, now, sla_dues, pool_name)


def _iso(dues: dict[str, datetime]) -> dict[str, str]:
    return {region: due.isoformat() for region, due in dues.items()}


def _take_turn(pool: int, exclude: int | None, lead: int | None, now: datetime,
               sla_dues: dict[str, datetime] | None = None, pool_name: str = "") -> tuple[User | None, list[int]]:
    """next_in_pool's steps from Python (SQLite, where one writer runs at a time; the
    same steps as the PostgreSQL function, which tests/routing/test_pools.py holds to them)."""
    # No savepoint: inside a caller's transaction the locks are held to its commit anyway.
    with transaction.atomic(savepoint=False):
        members = _in_turn_order(queries.lock_available_members(pool, exclude))
        if not members:
            return None, []
        (chosen,), changes = _turns(members, 1)
        queries.take_turns(changes)
        user = User.from_db(DEFAULT_DB_ALIAS, queries.MEMBER_USER_FIELDS, chosen[4:])
        if lead is not None:
            clock = ({"sla_due_at": sla_dues[user.region], "sla_breached_at": None, "sla_pool": pool_name}
                     if sla_dues else {})
            Lead.objects.filter(pk=lead).update(owner_id=user.pk, queue=None, updated_at=now, **clock)
    return user, [row[4] for row in members]


def _in_turn_order(rows: Sequence[Sequence[Any]]) -> list[list[Any]]:
    """Locked member rows (member id, position, weight, credit, …) by position, then id."""
    return [list(row) for row in sorted(rows, key=lambda row: (row[1], row[0]))]


def _turns(members: list[list[Any]], count: int) -> tuple[list[list[Any]], dict[int, tuple[int, int]]]:
    """`count` turns of smooth weighted round robin over the member rows, in memory (their
    credit is left as the turns leave it): each turn every member gains its weight, and
    the one with the most credit (the first in position order on a tie, then the first
    added) takes it and pays back the total weight. The rows chosen, in turn order, and
    each member's (credit gained, assignments gained) for queries.take_turns. Pure."""
    start = {row[0]: row[3] for row in members}
    total = sum(row[2] for row in members)
    assigned: Counter[int] = Counter()
    chosen_rows = []
    for _ in range(count):
        chosen = max(members, key=lambda row: (row[3] + row[2], -row[1], -row[0]))
        for row in members:
            row[3] += row[2]
        chosen[3] -= total
        assigned[chosen[0]] += 1
        chosen_rows.append(chosen)
    return chosen_rows, {row[0]: (row[3] - start[row[0]], assigned[row[0]]) for row in members}


def take_turns(pool_name: str, count: int) -> tuple[list[User], list[int]]:
    """`count` turns of the pool in a row, as `count` calls of next_in_pool would take
    them (the same members in the same order, the same credit and assignments left
    behind), under one lock of the available members and one update: for a batch of new
    leads (routing/batch.py) that are saved with their owners afterwards. The members
    chosen, in turn order (none when nobody is available), and the candidates."""
    pool = pool_id(pool_name)
    if pool is None or count <= 0:
        return [], []
    with transaction.atomic(savepoint=False):
        members = _in_turn_order(queries.lock_available_members(pool, None))
        if not members:
            return [], []
        chosen_rows, changes = _turns(members, count)
        queries.take_turns(changes)
    users = {row[0]: User.from_db(DEFAULT_DB_ALIAS, queries.MEMBER_USER_FIELDS, row[4:]) for row in members}
    return [users[row[0]] for row in chosen_rows], [row[4] for row in members]


# Who may be a pool's member, and the bounds of a member's turn order and weight.
MEMBER_ROLES = (Role.SDR, Role.BDR, Role.SAL, Role.AE)
MAX_POSITION, MAX_WEIGHT = 10_000, 100


def check_members(members: list[dict[str, Any]]) -> None:
    users = [m["user"].pk for m in members]
    if len(users) != len(set(users)):
        raise Refused("A user can be in a pool once.", field="members")
    for member in members:
        name = member["user"].username
        if not 1 <= member.get("weight", 1) <= MAX_WEIGHT:
            raise Refused(f"{name}: a weight is from 1 to {MAX_WEIGHT}.", field="members")
        if not 0 <= member.get("position", 0) <= MAX_POSITION:
            raise Refused(f"{name}: a position is from 0 to {MAX_POSITION:,}.", field="members")


def set_available(user: User, available: bool) -> None:
    """In or out of office: round robin skips an unavailable member (docs/rules.md §2.6)."""
    User.objects.filter(pk=user.pk).update(is_available=available)
    user.is_available = available


@transaction.atomic
def save_pool(pool: Pool, data: dict[str, Any], members: list[dict[str, Any]] | None) -> Pool:
    """Create or edit a pool; `members` (user, position, weight), when given, replaces the
    membership: members who stay keep their round-robin turn state (credit, assigned)."""
    if members is not None:
        check_members(members)
    for field, value in data.items():
        setattr(pool, field, value)
    pool.save()
    if members is None:
        return pool
    wanted = {m["user"].pk: m for m in members}
    # Lock the members in next_in_pool's order (by id) before touching any: routing waits
    # for this edit instead of deadlocking with it.
    list(PoolMember.objects.select_for_update().filter(pool=pool).order_by("id").values_list("pk"))
    PoolMember.objects.filter(pool=pool).exclude(user__in=wanted).delete()
    kept = list(PoolMember.objects.filter(pool=pool))
    for member in kept:
        wish = wanted[member.user_id]
        member.position, member.weight = wish.get("position", 0), wish.get("weight", 1)
    PoolMember.objects.bulk_update(kept, ["position", "weight"])
    known = {member.user_id for member in kept}
    PoolMember.objects.bulk_create(PoolMember(pool=pool, **m) for user_id, m in wanted.items() if user_id not in known)
    return pool
