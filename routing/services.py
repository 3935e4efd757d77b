"""Routing a lead (docs/rules.md §2): decide with the active rules (the pure engine, on the facts
routing/facts.py loads), take the pool's turn, carry the decision out on the lead
(convert, recycle, or give it to an owner or a queue), and log the decision with its
reason in words. The SLA clock a routed request starts lives here too. routing/batch.py
takes the same steps for a batch of new leads, by the functions here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone

from leads import conversion, lifecycle, sequences
from leads.models import OPEN_STATUSES, Account, Cause, Contact, Lead, Queue, RecycleReason, Status
from sdrcrm import notifications, webhooks
from sdrcrm.bulk_insert import insert_one, new_row
from sdrcrm.models import Notification, Region, User
from sdrcrm.webhooks import LEAD_ASSIGNED, AssignCause

from . import engine, facts, pools, queries, rulesets, sla
from .engine import Decision
from .models import RoutingDecision, RuleSet


def needs_routing(lead: Lead) -> bool:
    """Unowned (no owner, or only in Unassigned), open, and at the routing threshold."""
    if lead.owner_id is not None or lead.status not in OPEN_STATUSES:
        return False
    if lead.queue_id is not None and lead.queue_id != pools.queue_id(Queue.UNASSIGNED):
        return False
    return lead.score >= settings.ROUTING_THRESHOLD


def route_lead(lead: Lead, request: str = "", now: datetime | None = None) -> RoutingDecision:
    """Run the active routing rules for a lead and carry the decision out; log it."""
    now = now or timezone.now()
    route = plan_route(lead, request, now)
    carry_out(lead, route, now)
    return log_route(lead, route, now)


@dataclass
class Route:
    """A routing decision made, not yet carried out on the lead. A pool's turn is taken
    when it is carried out (`turn_pending` until then), in the same step as the lead's
    owner is written: the pool's members stay locked for that step and the commit only."""

    decision: Decision
    facts: engine.Facts
    ruleset: Any
    owner_id: int | None
    pool: str
    queue: Queue | None
    candidates: Sequence[int]
    reason: str
    fields: dict[str, Any]  # the SLA clock, when the decision starts it
    starts_clock: bool = False
    turn_pending: bool = False
    was_owner_id: int | None = None  # the lead's owner when the route was planned (lead.assigned's old)

    @property
    def assigns(self) -> bool:
        """Carried out by giving the lead to an owner or a queue (not convert or recycle);
        a pool's turn always does (its next member, or Unassigned when nobody is available)."""
        return self.decision.action not in (engine.CONVERT, engine.RECYCLE) and (
            self.turn_pending or self.owner_id is not None or self.queue is not None)


def plan_route(lead: Lead, request: str, now: datetime) -> Route:
    """Decide; the lead is not written, so a new lead can be saved with its owner
    (leads.services.ingest_lead). A pool's turn waits for carry_out."""
    ruleset, rules = rulesets.active_ruleset()
    lead_facts = facts.load_facts(lead, request)
    return route_for(lead, lead_facts, engine.decide(lead_facts, rules), ruleset, now, queries.owner_region)


def route_for(lead: Lead, lead_facts: engine.Facts, decision: Decision, ruleset: RuleSet | None, now: datetime,
              owner_region: Callable[[int], str | None]) -> Route:
    """The Route of a decision made on `lead_facts`; `owner_region`: an owner's region, for
    the SLA clock of a decision that names the owner (routing/batch.py passes the regions it
    read for a whole batch)."""
    route = Route(decision, lead_facts, ruleset, decision.owner_id, decision.pool, None, decision.candidates, "", {},
                  starts_clock=starts_clock(decision, lead_facts), turn_pending=decision.action == engine.POOL,
                  was_owner_id=lead.owner_id)
    if decision.action == engine.QUEUE:
        route.queue = pools.queue_named(decision.queue)
    elif decision.owner_id is not None and route.starts_clock:
        route.fields = clock_fields(follow_up_due(lead, owner_region(decision.owner_id), now), decision.pool)
    return route


def starts_clock(decision: Decision, lead_facts: engine.Facts) -> bool:
    """docs/rules.md §2: a contact or professional-services request given to an owner or a
    pool starts the follow-up SLA."""
    return decision.action in (engine.OWNER, engine.POOL) and lead_facts.request in sla.SLA_REQUESTS


def carry_out(lead: Lead, route: Route, now: datetime) -> None:
    """Convert, recycle, or give the lead to the route's owner, its pool's next member or
    its queue."""
    if route.decision.action == engine.CONVERT:
        convert_into_account(lead, lead.account, owner_id=route.owner_id, cause=Cause.ROUTING, now=now)
    elif route.decision.action == engine.RECYCLE:
        lifecycle.transition(lead, Status.RECYCLE, reason=RecycleReason.EVALUATING, cause=Cause.ROUTING, now=now)
    elif route.turn_pending:
        _assign_in_turn(lead, route, now)
        after_assign(lead, route, now)
    elif route.assigns:
        _assign(lead, owner_id=route.owner_id, queue=route.queue, **route.fields)
        after_assign(lead, route, now)


def _assign_in_turn(lead: Lead, route: Route, now: datetime) -> None:
    """Take the pool's turn and give the saved lead to the member chosen (one step, see
    Route); nobody available: queue Unassigned and ops alerted."""
    # The follow-up clock starts in the same write, due by the chosen member's region.
    dues = sla_dues(lead, now) if route.starts_clock else None
    member, candidates = pools.next_in_pool(route.pool, lead=lead.pk, now=now, sla_dues=dues)
    if member is None:
        _assign(lead, owner_id=None, queue=pools.queue_named(Queue.UNASSIGNED))
    give_turn(lead, route, member, candidates, dues, now)


def take_turn(lead: Lead, route: Route, now: datetime) -> None:
    """A pending pool turn taken for a saved lead the caller writes itself, with its owner
    (`take`) and whatever else it changes, in one update: the lead's row is locked first,
    then the pool's turn is taken; the lead and the route get the member chosen (or queue
    Unassigned) in memory only."""
    dues = sla_dues(lead, now) if route.starts_clock else None
    member, candidates = pools.next_in_pool(route.pool, now=now, lock_lead=lead.pk)
    give_turn(lead, route, member, candidates, dues, now)


def give_turn(lead: Lead, route: Route, member: User | None, candidates: list[int],
              dues: dict[str, datetime] | None, now: datetime) -> None:
    """The pool's turn taken (`member`, None when nobody is available), on the lead and the
    route in memory: its owner and follow-up clock (`dues`: sla_dues, when the route starts
    it), or queue Unassigned with ops alerted."""
    decision = route.decision
    route.candidates = candidates
    route.turn_pending = False
    if member is None:
        route.reason = f"{decision.reason} Nobody in {decision.pool} is available: queue Unassigned, ops alerted."
        route.decision = Decision(**{**decision.__dict__, "notify": (*decision.notify, "ops")})
        lead.owner_id, lead.queue = None, pools.queue_named(Queue.UNASSIGNED)
        route.queue = lead.queue
        return
    route.owner_id = lead.owner_id = member.pk
    lead.queue = None
    lead.updated_at = now
    route.reason = f"{decision.reason} Next in turn: {member.get_full_name() or member.username}."
    if dues is not None:
        route.fields = clock_fields(dues[member.region], route.pool)
        for name, value in route.fields.items():
            setattr(lead, name, value)


def take(lead: Lead, route: Route) -> dict[str, Any]:
    """Give the lead (in memory) to the route's owner or queue; the fields to save, for a
    caller that writes them in its own update."""
    lead.owner_id, lead.queue = route.owner_id, route.queue
    fields = {"owner_id": route.owner_id, "queue_id": route.queue.pk if route.queue else None, **route.fields}
    for name, value in route.fields.items():
        setattr(lead, name, value)
    return fields


def _assign(lead: Lead, owner_id: int | None, queue: Queue | None, **fields: Any) -> None:
    """Give the lead to `owner_id` or `queue`; `fields`: more of its fields to write."""
    fields["updated_at"] = timezone.now()
    Lead.objects.filter(pk=lead.pk).update(owner_id=owner_id, queue=queue, **fields)
    lead.owner_id, lead.queue = owner_id, queue
    for name, value in fields.items():
        setattr(lead, name, value)


def after_assign(lead: Lead, route: Route, now: datetime) -> None:
    """What giving the lead away brings with it, once the lead is saved."""
    if route.owner_id is not None and route.decision.rule and route.decision.rule.kind == "domain_mql":
        others = [d.lead_id for d in route.facts.domain_leads
                  if d.status == Status.MQL and d.owner_id != route.owner_id]
        if others:
            # docs/rules.md §2 rule 4: the other MQLs at the domain go to the same owner too.
            moving = Lead.objects.filter(pk__in=others).exclude(owner_id=route.owner_id)
            if webhooks.wants(LEAD_ASSIGNED):
                # Their owners as they were, read (and locked) only when someone wants to know.
                old = list(moving.select_for_update().values_list("pk", "owner_id"))
                moving = Lead.objects.filter(pk__in=[pk for pk, _ in old])
                webhooks.emit_assigned([(pk, owner, route.owner_id) for pk, owner in old], AssignCause.ROUTING, now)
            moving.update(owner_id=route.owner_id, queue=None, updated_at=now)
    if route.queue is not None and route.queue.name == Queue.COMMUNITY_ADVOCATE:
        # docs/rules.md §3: community program requests leave the SDR cadences.
        sequences.finish_enrollments(lead, sequences.Reason.COMMUNITY_PROGRAM)


def assigns_more(route: Route) -> bool:
    """Whether after_assign has more to do for the route than nothing: rule 4's move of the
    other MQLs at the domain, or a community program's enrolments to finish."""
    return (route.decision.rule is not None and route.decision.rule.kind == "domain_mql") or (
        route.queue is not None and route.queue.name == Queue.COMMUNITY_ADVOCATE)


def convert_into_account(lead: Lead, account: Account, owner_id: int | None, cause: str = Cause.MANUAL,
                         by: User | None = None, now: datetime | None = None) -> Contact:
    """Routing rule 2's conversion: make the lead a contact of `account` owned by
    `owner_id` (leads/conversion.py does the work for every conversion)."""
    owner = User.objects.filter(pk=owner_id).first() if owner_id is not None else None
    return conversion.convert_lead(lead, by=by, account=account, contact_owner=owner, cause=cause, now=now).contact


# --- The decision log ------------------------------------------------------------------


def log_route(lead: Lead, route: Route, now: datetime, record: RoutingDecision | None = None) -> RoutingDecision:
    """Log the decision carried out, with its alerts, and a lead given to someone else says
    so (lead.assigned; a conversion says it itself). `record`: the route's decision_row,
    inserted already by the caller (with the lead's update)."""
    if route.decision.action not in (engine.CONVERT, engine.RECYCLE):
        webhooks.emit_assigned([(lead.pk, route.was_owner_id, lead.owner_id)], AssignCause.ROUTING, now)
    if record is None:
        record = decision_row(lead, route, now)
        insert_one(record)
    notifications.send(alerts_for(lead, route.decision, record.reason, notifications.ops_user_ids))
    return record


def decision_row(lead: Lead, route: Route, now: datetime) -> RoutingDecision:
    """The decision log's row of a route carried out on a saved lead (not saved: log_route
    inserts it, routing/batch.py inserts a batch's at once)."""
    decision = route.decision
    row = new_row(  # Django's positional constructor, as the bulk ingest builds its rows
        RoutingDecision, lead_id=lead.pk, ruleset_id=route.ruleset.pk if route.ruleset else None,
        rule_kind=decision.rule.kind if decision.rule else "",
        rule_position=decision.rule.position if decision.rule else None, action=decision.action,
        inputs=route.facts.as_inputs(), candidates=list(route.candidates or decision.candidates),
        owner_id=route.owner_id, pool_id=pools.pool_id(route.pool) if route.pool else None,
        queue_id=route.queue.pk if route.queue else None, reason=route.reason or decision.reason, at=now,
    )
    RoutingDecision._meta.get_field("lead").set_cached_value(row, lead)  # as RoutingDecision(lead=lead)
    return row


def alerts_for(lead: Lead, decision: Decision, reason: str, ops_user_ids: Callable[[], list[int]]
               ) -> list[notifications.Alert]:
    """Who a decision tells about the lead, once each: the account's owner or BDR, and ops
    (`ops_user_ids`, asked only when the decision alerts them)."""
    account = lead.account
    users: list[int] = []
    if "account_owner" in decision.notify and account is not None and account.owner_id:
        users.append(account.owner_id)
    if "sdr" in decision.notify and account is not None and account.bdr_assigned_id:
        users.append(account.bdr_assigned_id)
    if "ops" in decision.notify:
        users.extend(ops_user_ids())
    message = f"{lead.full_name} ({lead.email}): {reason}"
    return [notifications.Alert(Notification.Kind.ROUTING, message, user_id=user_id, lead_id=lead.pk)
            for user_id in set(users) if user_id]


# --- The SLA clock (docs/rules.md §2): started by routing, stopped by a follow-up touch ---------


def start_sla_clock(lead: Lead, owner_id: int, pool_name: str, now: datetime) -> None:
    """The owner has one business day of their own region from `now` to follow up."""
    fields = sla_clock(lead, owner_id, pool_name, now)
    Lead.objects.filter(pk=lead.pk).update(**fields)
    for name, value in fields.items():
        setattr(lead, name, value)


def sla_clock(lead: Lead, owner_id: int, pool_name: str, now: datetime) -> dict[str, Any]:
    """The lead's fields that start the SLA clock for `owner_id` (not saved)."""
    return clock_fields(follow_up_due(lead, queries.owner_region(owner_id), now), pool_name)


OWNER_REGIONS = ("", *Region.values)  # "": an owner with none


def sla_dues(lead: Lead, now: datetime) -> dict[str, datetime]:
    """When the follow-up is due for an owner of each region ("": an owner with none), for
    a pool's turn that has not chosen the owner yet."""
    return {region: follow_up_due(lead, region, now) for region in OWNER_REGIONS}


def follow_up_due(lead: Lead, owner_region: str | None, now: datetime) -> datetime:
    """One business day of the owner's region (the lead's, when the owner has none)."""
    return sla.add_business_days(now, 1, owner_region or lead.region)


def clock_fields(due: datetime, pool_name: str) -> dict[str, Any]:
    return {"sla_due_at": due, "sla_breached_at": None, "sla_pool": pool_name}


def stop_sla_clock(lead: Lead) -> None:
    """A follow-up touch: the lead is no longer owed one (nor listed as breached)."""
    Lead.objects.filter(pk=lead.pk, sla_due_at__isnull=False).update(sla_due_at=None, sla_breached_at=None)
    lead.sla_due_at = lead.sla_breached_at = None
