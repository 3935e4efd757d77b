"""The ingest pipeline: a lead posted (or updated by email) and an activity recorded, each
re-scored and moved on within the same request: the score decides the status
(leads/lifecycle.py), and routing gives the lead an owner (routing/services.py).

Views, API, bulk ingest, tasks and commands call these functions, never the ORM
directly for an ingest or an activity.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from routing import facts as routing_facts
from routing import services as routing
from routing import sla
from routing.services import Route
from scoring import queries as scoring_queries
from scoring import services as scoring
from sdrcrm import field_history, webhooks
from sdrcrm.bulk_insert import insert_unless_taken
from sdrcrm.errors import Refused
from sdrcrm.models import Role, User
from sdrcrm.webhooks import AssignCause

from . import checks, domains, lifecycle, queries, sequences
from .models import OPEN_STATUSES, Activity, ActivityType, Cause, Lead, Person, Status

A = ActivityType


@dataclass
class IngestResult:
    lead: Lead
    created: bool


def new_lead(email: str, source: str | None, data: Mapping[str, Any], by: User | None, now: datetime) -> Lead:
    """The unsaved lead a first ingest of `email` creates; refuses what a new lead lacks."""
    if not source:
        raise Refused("initial_source is required for a new lead.", field="initial_source")
    if not data.get("last_name"):
        raise Refused("last_name is required for a new lead.", field="last_name")
    return Lead(email=email, initial_source=source, lead_source=source, created_by=by,
                status=Status.RAW, status_changed_at=now, **data)


@transaction.atomic
def ingest_lead(data: Mapping[str, Any], by: User | None, now: datetime | None = None,
                cause: AssignCause = AssignCause.INGEST) -> IngestResult:
    """Create a lead, or update the one with the same email (case-insensitive).

    `initial_source` is the source of this ingest: it is kept as the lead's initial
    source when the lead is new, and becomes its latest `lead_source` either way; an
    existing lead's initial source never changes. `cause`: what lead.assigned says when
    `data` names a new owner (an import's rows say so).
    """
    now = now or timezone.now()
    data = checks.clean_person_fields(data)
    email = checks.normalise_email(data.pop("email", "") or "")
    # Looked up before the checks: the statement also reads the configuration they use, and
    # the account a new lead with this email and company is matched to (routing.facts).
    existing, matched = queries.lead_and_account_by_email(  # deleted ones too: their email stays taken
        email, domains.account_keys(email, data.get("company") or ""), lock=True)
    checks.check_email_allowed(email)
    checks.check_owner_assignable(data.get("owner"), by)
    source = data.pop("initial_source", None)
    if existing is not None:
        checks.check_not_deleted(existing)
    else:
        lead = new_lead(email, source, data, by, now)
        if lead.account_id is None:
            lead.account = matched  # what classify would match: the same keys, the same statement
        routing_facts.classify(lead, match=False)
        ledger = scoring.new_ledger(lead, now)  # the score saved with the lead, the ledger in its statement
        route = _route_before_saving(lead, now)  # decided only: nothing written before the insert
        if not insert_unless_taken(lead, "email", rows=ledger):
            # A concurrent twin won the insert (this one waited for its commit): update it
            # instead. This lead's pool turn was not taken yet, so none is given back.
            existing = Lead.all_objects.select_for_update().get(email=email)
            checks.check_not_deleted(existing)
        else:
            score_and_advance(lead, new_types=set(), now=now, new=True, route=route is None)
            if route is not None:
                if route.turn_pending:  # last, so the pool stays locked the shortest time
                    routing.carry_out(lead, route, now)
                else:
                    routing.after_assign(lead, route, now)
                routing.log_route(lead, route, now)
            webhooks.emit("lead.created", [webhooks.lead_data(lead)], now)
            if data.get("owner") is not None:  # given its owner (routing skips an owned lead)
                webhooks.emit_assigned([(lead.pk, None, lead.owner_id)], cause, now)
            return IngestResult(lead, created=True)
    _check_can_update(existing, by)
    if source:
        data["lead_source"] = source
    was_inactive, old_owner = existing.inactive, existing.owner_id
    before = field_history.values_of(existing, data)
    for field, value in data.items():
        setattr(existing, field, value)
    routing_facts.classify(existing)
    existing.save()
    field_history.record(existing, before, by, at=now)
    webhooks.emit_assigned([(existing.pk, old_owner, existing.owner_id)], cause, now)
    finish_sequences_if_inactive(existing, was_inactive)
    score_and_advance(existing, new_types=set(), now=now)
    return IngestResult(existing, created=False)


def _route_before_saving(lead: Lead, now: datetime) -> Route | None:
    """A new lead that routing gives to an owner or a queue is saved with them (one write
    instead of an insert and an update); a pool's turn is taken after the insert, with the
    owner written in the same step. None: nothing to route yet, or the decision needs the
    saved lead (convert, recycle, or an MQL move first): score_and_advance routes it after
    the insert, as any other."""
    if not routing.needs_routing(lead) or lifecycle.score_move(lead, set()) is not None:
        return None
    route = routing.plan_route(lead, "", now)
    if not route.assigns:
        return None
    if not route.turn_pending:
        routing.take(lead, route)
    return route


def finish_sequences_if_inactive(person: Person, was_inactive: bool) -> None:
    """docs/rules.md §3: a record marked inactive leaves its sequences."""
    if person.inactive and not was_inactive:
        sequences.finish_enrollments(person, sequences.Reason.INACTIVE)


def _check_can_update(lead: Lead, by: User | None) -> None:
    # Ops and integrations update any lead by email; sales development only what it may edit.
    if by is None or by.is_ops or by.role == Role.INTEGRATION:
        return
    if not Lead.objects.editable_by(by).filter(pk=lead.pk).exists():
        raise Refused(
            f"A lead with the email {lead.email} already exists and belongs to someone else; "
            "ask its owner, their manager or ops.",
            field="email",
            status=409,
        )


@transaction.atomic
def record_activity(
    person: Person,
    type: str,
    *,
    occurred_at: datetime | None = None,
    details: Mapping[str, Any] | None = None,
    source_system: str = "",
    external_id: str = "",
    by: User | None = None,
    now: datetime | None = None,
) -> Activity:
    """Store a behaviour or touch on a lead or contact, then re-score it and move its
    status where the score or the behaviour says so (inside the same request).

    An `external_id` already stored for `source_system` is the same activity sent again:
    it is answered (with `resent` set) and nothing is written or scored twice.

    The person's row is locked, and `person` read again, first (lock_and_reread)."""
    lock_and_reread(person)
    return _record(person, type, occurred_at=occurred_at, details=details, source_system=source_system,
                   external_id=external_id, by=by, now=now)


@transaction.atomic
def record_activity_found(find: Callable[[], Person], type: str, **fields: Any) -> tuple[Person, Activity]:
    """record_activity (`fields`: its keyword arguments) for the person `find` reads with
    its row locked, the transaction's first statement (the API's lookup by email or id):
    the person is read once, and locked before anything is read for its re-score."""
    person = find()
    return person, _record(person, type, **fields)


def _record(person: Person, type: str, *, occurred_at: datetime | None = None,
            details: Mapping[str, Any] | None = None, source_system: str = "", external_id: str = "",
            by: User | None = None, now: datetime | None = None) -> Activity:
    """record_activity's work, on a person locked and read in its transaction."""
    now = now or timezone.now()
    if isinstance(person, Lead) and person.converted_to_id is not None:
        raise Refused("This lead was converted; record activities on its contact.", field="lead")
    activity = Activity(**{person.PERSON_FIELD: person}, type=type, occurred_at=occurred_at or now,
                   details=dict(details or {}), source_system=source_system, external_id=external_id, created_by=by)
    if external_id:
        known = Activity.objects.filter(source_system=source_system, external_id=external_id).first()
        if known is not None:
            return _resent(known, person)
        try:
            with transaction.atomic():  # a savepoint only where the unique index can refuse
                read = scoring_queries.insert_activity_and_read(activity)
        except IntegrityError:  # the same external id, sent twice at once: the twin stored it
            return _resent(Activity.objects.get(source_system=source_system, external_id=external_id), person)
    else:
        read = scoring_queries.insert_activity_and_read(activity)  # what the re-score reads, in the same statement
    if isinstance(person, Lead) and type in sla.FOLLOW_UP_TYPES and (person.sla_due_at or person.sla_breached_at):
        routing.stop_sla_clock(person)  # docs/rules.md §2: the follow-up the SLA asks for
    score_and_advance(person, new_types={type}, now=now, read=read)
    return activity


def lock_and_reread(person: Person) -> None:
    """Lock the person's row to the end of the transaction and read it again into
    `person`. Two activities of one person sent at once then re-score one after the
    other, the second from the activities and ledger the first committed, instead of both
    from what was there before and the last one's score winning. A statement of its own:
    a lock taken inside the re-score's read would leave that read with what it saw before
    waiting. (The API's lookup takes the lock as it reads: record_activity_found.)"""
    if isinstance(person, Lead) and person.email:
        fresh: Person | None = queries.lead_by_email(person.email, lock=True)
        if fresh is not None and fresh.pk != person.pk:  # the email moved meanwhile
            fresh = Lead.all_objects.select_for_update().filter(pk=person.pk).first()
    else:
        fresh = type(person)._base_manager.select_for_update().filter(pk=person.pk).first()
    if fresh is None:
        return  # deleted for good meanwhile: the insert refuses it
    for field in type(person)._meta.concrete_fields:
        setattr(person, field.attname, getattr(fresh, field.attname))


def _resent(activity: Activity, person: Person) -> Activity:
    if getattr(activity, f"{person.PERSON_FIELD}_id") != person.pk:
        raise Refused(f"external_id '{activity.external_id}' of {activity.source_system or 'this source'} is "
                      "already an activity of another person; give each activity its own id.",
                      field="external_id", status=409)
    activity.resent = True
    return activity


def score_and_advance(person: Person, new_types: set[str], now: datetime,
                      new: bool = False, route: bool = True, read: scoring_queries.Read | None = None) -> None:
    """Re-score, then apply what the behaviour and the score imply (lifecycle.advance: an
    unsubscribe opts out and unqualifies; a form fill makes a raw lead an inquiry; 90
    points make MQL), and route the lead when it needs an owner. `new`: the person was
    just created (see scoring.services.rescore_changes); `route`: False when the caller
    has routed it already; `read`: the person's activities and ledger, read already
    (scoring.queries.insert_activity_and_read). The person is written once: its score,
    the move, the owner routing gives (a pool's turn taken first, locking the lead before
    the pool), with the ledger rows and the decision's log row in the same statement on
    PostgreSQL."""
    changes, ledger = scoring.rescore_changes(person, now=now, new=new, read=read)  # written with the person
    opted_out, move = lifecycle.advance(person, new_types)
    changes.update(opted_out)
    # An unsubscribe closes the person (or it was closed already): routing skips it. An
    # open move (inquiry, MQL) leaves needs_routing's answer as it was.
    routes = (route and isinstance(person, Lead) and (move is None or move[0] in OPEN_STATUSES)
              and routing.needs_routing(person))
    request = next((t for t in (A.PROFESSIONAL_SERVICES_REQUEST, A.TRIAL_REQUEST, A.CONTACT_REQUEST)
                    if t in new_types), "")
    if move is not None:
        lifecycle.check_move(person, move[0], move[1], None)
    plan = routing.plan_route(person, request, now) if routes else None
    if plan is not None and plan.turn_pending:
        routing.take_turn(person, plan, now)  # the lead locked first, then the pool; nothing written yet
    logged = None
    if plan is not None and plan.assigns:
        # The owner (or queue) routing gives goes in the lead's one UPDATE, with the move,
        # and the decision's log row in the same statement.
        changes.update(routing.take(person, plan), updated_at=now)
        person.updated_at = now
        logged = routing.decision_row(person, plan, now)
    rows = [*ledger, logged] if logged else ledger
    if move is not None:
        lifecycle.move_status(person, move[0], reason=move[1], cause=Cause.SCORE, now=now, also=changes, rows=rows)
    elif changes:
        queries.update_person(type(person), person.pk, changes, rows=rows)
    else:
        scoring.write_ledger(ledger)
    if plan is None:
        return
    if plan.assigns:
        routing.after_assign(person, plan, now)
    else:
        routing.carry_out(person, plan, now)  # convert or recycle
    routing.log_route(person, plan, now, record=logged)
