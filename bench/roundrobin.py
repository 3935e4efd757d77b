"""Round robin under concurrent assigners (bench/run.py --scenarios roundrobin; docs/rules.md §11:
≥ 1,000 assignments/s with 8 concurrent assigners, per-member spread ≤ 1, no turn given
twice). Run by run.py as a subprocess with the benchmark's environment:

    python bench/roundrobin.py run --assigners 8 --seconds 20

An assignment is one transaction: the pool's next member in turn and the lead's new owner
(`next_in_pool` with the lead, under the members' row locks, as routing carries out a pool
decision). Each assigner is
its own process with its own database connection and its own share of leads (the newest
ones, which the ingest scenario wrote), so the only contention is the pool's. The second
half of --seconds times the turns alone (each its own transaction, no lead written): what
the round robin itself allows.

The pool "Bench round robin" is rebuilt before each run with four bench SDRs of equal
weight (the timed SDR of the lead views is not one of them), so every member starts with
no credit and the spread of the turns taken is exact. Prints one JSON object as its last
line.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import time
from collections.abc import Sequence
from typing import Any

import seed  # bench/seed.py: setup_django and the bench users' names

POOL = "Bench round robin"
MEMBERS = ["bench-sdr-amer-2", "bench-sdr-amer-3", "bench-sdr-emea-2", "bench-sdr-apac-1"]
LEADS_PER_ASSIGNER = 5_000


def prepare() -> None:
    """The pool, rebuilt with its members at no credit."""
    from routing import pools as routing
    from routing.models import Pool
    from sdrcrm.models import User

    pool, _ = Pool.objects.get_or_create(name=POOL, defaults={"description": "bench/roundrobin.py"})
    routing.save_pool(pool, {}, [])  # members who stayed would keep their turn state
    users = {u.username: u for u in User.objects.filter(username__in=MEMBERS)}
    routing.save_pool(pool, {}, [{"user": users[name], "position": i, "weight": 1}
                                 for i, name in enumerate(MEMBERS)])


def assigner(n: int, lead_ids: Sequence[int], deadline: float, write_lead: bool, done: Any) -> None:
    from django.db import connection, transaction

    from routing import pools as routing

    count = 0
    for lead_id in lead_ids:
        if time.monotonic() >= deadline:
            break
        with transaction.atomic():
            routing.next_in_pool(POOL, lead=lead_id if write_lead else None)
        count += 1
    connection.close()
    done[n] = count


def cmd_run(args: argparse.Namespace) -> dict[str, Any]:
    from leads.models import Lead

    newest = list(Lead.objects.order_by("-id").values_list("id", flat=True)[:LEADS_PER_ASSIGNER * args.assigners])
    shares = [newest[n::args.assigners] for n in range(args.assigners)]
    return {**phase(args, shares, write_lead=True),
            "turns_only": phase(args, [range(10**9)] * args.assigners, write_lead=False)}


def phase(args: argparse.Namespace, shares: list[Sequence[int]], write_lead: bool) -> dict[str, Any]:
    from django.db import connections

    from routing.models import PoolMember

    prepare()
    before = dict(PoolMember.objects.filter(pool__name=POOL).values_list("user__username", "assigned"))
    connections.close_all()  # each process opens its own
    context = multiprocessing.get_context("fork")
    done = context.Array("i", args.assigners)
    started = time.monotonic()
    deadline = started + args.seconds / 2
    processes = [context.Process(target=assigner, args=(n, shares[n], deadline, write_lead, done))
                 for n in range(args.assigners)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    seconds = time.monotonic() - started
    if any(process.exitcode for process in processes):
        raise SystemExit(f"an assigner failed: exit codes {[p.exitcode for p in processes]}")
    after = dict(PoolMember.objects.filter(pool__name=POOL).values_list("user__username", "assigned"))
    turns = {name: after[name] - before.get(name, 0) for name in MEMBERS}
    assignments = sum(done)
    return {
        "assigners": args.assigners, "seconds": round(seconds, 1), "assignments": assignments,
        "assignments_per_second": round(assignments / seconds, 1), "turns_per_member": turns,
        "spread": max(turns.values()) - min(turns.values()),
        # Every committed assignment took exactly one turn: none skipped, none given twice.
        "exact": sum(turns.values()) == assignments,
        "ran_out_of_leads": any(count == len(share) for count, share in zip(done, shares, strict=True)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="time round-robin assignments")
    run.add_argument("--assigners", type=int, default=8)
    run.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    seed.setup_django()
    print(json.dumps(cmd_run(args)))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
