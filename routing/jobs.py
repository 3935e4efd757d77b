"""The SLA clock (docs/rules.md §2): routing starts it when a contact or professional services
request gets an owner, a follow-up touch stops it, and the `sla_breaches` job alerts
on a miss and, one business day later, reassigns the lead through its pool.

The calendar arithmetic is pure (routing/sla.py); this module holds the two calls
leads.services makes and the periodic job, which takes `now`, works in keyset batches
of JOB_BATCH_SIZE and does nothing new when run again for the same `now`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet

from leads import sequences
from leads.models import OPEN_STATUSES, Lead, Queue
from sdrcrm import notifications, webhooks
from sdrcrm.models import Notification, User
from sdrcrm.pagination import after
from sdrcrm.webhooks import AssignCause

from . import facts, pools, sla
from .models import PoolMember, RoutingDecision

# A business day is never shorter than a calendar day less a DST hour, so a lead breached
# less than this after its due time cannot have reached its second deadline: SQL skips it.
SHORTEST_BUSINESS_DAY = timedelta(hours=23)


def check_sla(now: datetime) -> dict[str, int]:
    """`sla_breaches`: stamp and alert the leads whose follow-up is overdue, then (setting
    SLA_REASSIGN_AFTER_SECOND_DAY) reassign those still untouched a business day later."""
    counts = {"breached": 0, "reassigned": 0, "kept": 0, "unassigned": 0, "dropped": 0}
    _breach_overdue(now, counts)
    if settings.SLA_REASSIGN_AFTER_SECOND_DAY:
        _reassign_untouched(now, counts)
    return counts


def _batches(queryset: QuerySet[Lead]) -> Iterator[list[Lead]]:
    """Keyset pages by (sla_due_at, id), resuming after the last row seen, so rows the job
    leaves as they were are not read twice."""
    last: tuple[datetime | None, int] | None = None
    while True:
        page = queryset
        if last is not None:
            page = after(page, "sla_due_at", *last)
        rows = list(page.order_by("sla_due_at", "id")[: settings.JOB_BATCH_SIZE])
        if not rows:
            return
        yield rows
        last = (rows[-1].sla_due_at, rows[-1].pk)


def _clock_applies(lead: Lead) -> bool:
    # A lead that lost its owner, was closed or converted owes nobody a follow-up.
    return lead.owner_id is not None and lead.status in OPEN_STATUSES and lead.converted_to_id is None


def _name(user: User | None) -> str:
    return (user.get_full_name() or user.username) if user else "nobody"


def _local(moment: datetime, region: str) -> str:
    return f"{moment.astimezone(sla.calendar_for(region).zone):%a %d %b %Y %H:%M %Z}"


def _breach_overdue(now: datetime, counts: dict[str, int]) -> None:
    overdue = (Lead.objects.filter(sla_due_at__isnull=False, sla_due_at__lte=now, sla_breached_at__isnull=True)
               .select_related("owner__team"))
    for rows in _batches(overdue):
        alerts: list[notifications.Alert] = []
        with transaction.atomic():
            for lead in rows:
                # Conditional on what was read: a touch or a reroute meanwhile wins.
                same = Lead.objects.filter(pk=lead.pk, owner_id=lead.owner_id, sla_due_at=lead.sla_due_at,
                                           sla_breached_at__isnull=True)
                if not _clock_applies(lead):
                    counts["dropped"] += same.update(sla_due_at=None)
                    continue
                owner, due = lead.owner, lead.sla_due_at
                if owner is None or due is None or not same.update(sla_breached_at=now):
                    continue
                counts["breached"] += 1
                message = (f"SLA breached: {lead.full_name} ({lead.email}), owned by {_name(owner)}, has had no "
                           "follow-up (call, email, meeting, reply or chat) within one business day; it was due "
                           f"{_local(due, owner.region or lead.region)}.")
                for user_id in dict.fromkeys([owner.pk, owner.reports_to_id()]):
                    if user_id:
                        alerts.append(notifications.Alert(Notification.Kind.SLA_BREACH, message, user_id=user_id,
                                                          lead_id=lead.pk))
            notifications.send(alerts)


def _reassign_untouched(now: datetime, counts: dict[str, int]) -> None:
    breached = (Lead.objects.filter(sla_breached_at__isnull=False, sla_due_at__lte=now - SHORTEST_BUSINESS_DAY)
                .exclude(sla_pool="").select_related("owner"))
    for rows in _batches(breached):
        for lead in rows:
            if not _clock_applies(lead):
                counts["dropped"] += Lead.objects.filter(
                    pk=lead.pk, sla_due_at=lead.sla_due_at, sla_breached_at__isnull=False
                ).update(sla_due_at=None, sla_breached_at=None)
                continue
            owner, due = lead.owner, lead.sla_due_at
            if owner is None or due is None or sla.add_business_days(due, 1, owner.region or lead.region) > now:
                continue
            outcome = _reassign(lead, now)
            if outcome:
                counts[outcome] += 1


def _next_other_member(pool_name: str, owner_id: int) -> tuple[User | None, list[int]]:
    """The pool's next turn among the members other than the current owner, whose own
    round-robin state is left alone: losing a lead is no turn taken. When nobody else is
    available but the owner is, the owner (the lead stays); when nobody is, None."""
    member, candidates = pools.next_in_pool(pool_name, exclude=owner_id)
    if member is not None:
        return member, candidates
    owner = (PoolMember.objects.filter(pool__name=pool_name, user_id=owner_id, user__is_available=True,
                                       user__is_active=True).select_related("user").first())
    return (owner.user, [owner_id]) if owner else (None, [])


def _reassign(lead: Lead, now: datetime) -> str:
    """Hand a lead untouched for two business days to the pool's next member; when only
    its owner is available it stays (the clock starts again), when nobody is it goes to
    Unassigned and ops are alerted, as routing does. Logged as a routing decision."""
    with transaction.atomic():
        # Lock the lead before the pool, the order routing takes them in.
        locked = (Lead.objects.select_for_update(of=("self",))
                  .filter(pk=lead.pk, owner_id=lead.owner_id, sla_due_at=lead.sla_due_at,
                          sla_breached_at__isnull=False).select_related("account").first())
        old, due, breached_at = lead.owner, lead.sla_due_at, lead.sla_breached_at
        if locked is None or old is None or due is None or breached_at is None:
            return ""  # touched, rerouted or already handled meanwhile
        pool_name = lead.sla_pool
        member, candidates = _next_other_member(pool_name, old.pk)
        why = f"SLA: no follow-up within two business days (due {_local(due, old.region or lead.region)})"
        queue = None
        updates: dict[str, Any]
        if member is None:
            queue = pools.queue_named(Queue.UNASSIGNED)
            outcome, action, owner_id = "unassigned", RoutingDecision.Action.QUEUE, None
            reason = (f"{why}; nobody in pool {pool_name} is available: moved from {_name(old)} to queue "
                      "Unassigned, ops alerted.")
            updates = {"owner_id": None, "queue": queue, "sla_due_at": None, "sla_breached_at": None}
        elif member.pk == old.pk:
            outcome, action, owner_id = "kept", RoutingDecision.Action.OWNER, old.pk
            reason = (f"{why}; nobody else in pool {pool_name} is available, so it stays with {_name(old)} "
                      "and the clock starts again.")
            updates = {"sla_due_at": sla.add_business_days(now, 1, old.region or lead.region),
                       "sla_breached_at": None}
        else:
            outcome, action, owner_id = "reassigned", RoutingDecision.Action.OWNER, member.pk
            reason = f"{why}; reassigned from {_name(old)} to {_name(member)} via pool {pool_name}."
            updates = {"owner_id": member.pk, "queue": None, "sla_breached_at": None,
                       "sla_due_at": sla.add_business_days(now, 1, member.region or lead.region)}
        Lead.objects.filter(pk=lead.pk).update(**updates, updated_at=now)
        if outcome != "kept":
            webhooks.emit_assigned([(lead.pk, old.pk, owner_id)], AssignCause.SLA, now)
        if outcome == "reassigned":
            lead.owner_id = member.pk
            sequences.follow_owner(lead)  # the open step task goes to the new owner
        inputs = {**facts.load_facts(locked, "").as_inputs(), "sla_due_at": due.isoformat(),
                  "sla_breached_at": breached_at.isoformat(), "previous_owner": old.username}
        RoutingDecision.objects.create(
            lead=lead, ruleset=None, rule_kind="sla", rule_position=None, action=action, inputs=inputs,
            candidates=candidates, owner_id=owner_id, pool_id=pools.pool_id(pool_name),
            queue=queue, reason=reason, at=now,
        )
        message = f"{lead.full_name} ({lead.email}): {reason}"
        notifications.notify([old.pk, owner_id], Notification.Kind.SLA_REASSIGNED, message, lead=lead)
        if member is None:
            notifications.notify(notifications.ops_user_ids(), Notification.Kind.ROUTING, message, lead=lead)
    return outcome
