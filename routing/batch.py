"""Routing a batch of new leads before they are saved (leads/bulk.py: the leads of an import
or of `POST leads/bulk/` that reach the routing threshold on arrival), ending as routing
each in turn would (leads.services.ingest_lead: decided before the insert, saved with its
owner or queue), in a number of statements that does not grow with the batch.

The steps are routing/services.py's own, over many leads at once: the facts in a few
queries (routing.facts.batch_facts), the pure engine's decision for each, the Route of each
decision (services.route_for), a pool's turns for the whole batch under one lock of its
members (routing.pools.take_turns) given out in batch order (services.give_turn), then the
decision log, the alerts and lead.assigned in one insert each (`log_routes`, once the
leads are saved). A lead whose decision is rarer (convert, recycle, a rule-4 move of
other leads, the Community Advocate Queue, colleagues at its domain) gets None from
`plan_routes`: the caller routes it the careful way."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from functools import cache

from leads.models import Lead
from sdrcrm import notifications, webhooks
from sdrcrm.bulk_insert import insert_new
from sdrcrm.webhooks import AssignCause

from . import engine, facts, pools, queries, rulesets, services
from .models import RoutingDecision
from .services import Route


def plan_routes(leads: Sequence[Lead], now: datetime) -> list[Route | None]:
    """services.plan_route(lead, "", now) for each new, unsaved lead (classified, scored and
    needing routing), a pool's turn left pending; None where the careful path must route."""
    ruleset, rules = rulesets.active_ruleset()
    all_facts = facts.batch_facts(leads)
    decisions = [engine.decide(lead_facts, rules) if lead_facts is not None else None for lead_facts in all_facts]
    # The owners whose region dates a follow-up clock, read at once (route_for asks one by one).
    clocked = {decision.owner_id for decision, lead_facts in zip(decisions, all_facts, strict=True)
               if decision is not None and lead_facts is not None and decision.owner_id is not None
               and services.starts_clock(decision, lead_facts)}
    regions = queries.owner_regions(clocked)
    routes: list[Route | None] = []
    for lead, lead_facts, decision in zip(leads, all_facts, decisions, strict=True):
        if decision is None or lead_facts is None:
            routes.append(None)
            continue
        route = services.route_for(lead, lead_facts, decision, ruleset, now, regions.get)
        routes.append(route if route.assigns and not services.assigns_more(route) else None)
    return routes


def take_turns(planned: Sequence[tuple[Lead, Route]], now: datetime) -> None:
    """Give each lead its route's owner or queue, in memory (services.take), a pool's next
    member in the order of `planned` (the batch's), each pool's turns taken at once."""
    by_pool: dict[str, list[tuple[Lead, Route]]] = defaultdict(list)
    for lead, route in planned:
        if route.turn_pending:
            by_pool[route.pool].append((lead, route))
        else:
            services.take(lead, route)
    # Pools locked in one order by every batch, so two batches never wait on each other crosswise.
    for name in sorted(by_pool, key=lambda name: (pools.pool_id(name) or 0, name)):
        turns = by_pool[name]
        members, candidates = pools.take_turns(name, len(turns))
        for n, (lead, route) in enumerate(turns):
            dues = services.sla_dues(lead, now) if route.starts_clock else None
            services.give_turn(lead, route, members[n] if members else None, candidates, dues, now)


def log_routes(planned: Sequence[tuple[Lead, Route]], now: datetime) -> None:
    """services.log_route for each saved lead, in one insert per table."""
    webhooks.emit_assigned([(lead.pk, route.was_owner_id, lead.owner_id) for lead, route in planned],
                           AssignCause.ROUTING, now)
    records = [services.decision_row(lead, route, now) for lead, route in planned]
    insert_new(RoutingDecision, records, check="lead_id")
    ops_user_ids = cache(notifications.ops_user_ids)  # read once for the batch, when someone alerts ops
    notifications.send([alert for (lead, route), record in zip(planned, records, strict=True)
                        for alert in services.alerts_for(lead, route.decision, record.reason, ops_user_ids)])
