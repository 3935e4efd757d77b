"""Every change to a lead or contact goes through here: views, API, tasks and commands
call these functions, never the ORM directly for a status or an ingest."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from routing import engine as routing_engine
from routing import geo as routing_geo
from routing import services as routing
from routing import sla
from routing.engine import Decision
from routing.models import RoutingDecision
from scoring import services as scoring
from sdrcrm import field_history, rows
from sdrcrm.errors import Refused
from sdrcrm.models import Role, User

from . import domains, targeting, tiers
from .models import (
    OPEN_STATUSES,
    REQUIRED_REASONS,
    TRANSITIONS,
    Account,
    Activity,
    ActivityType,
    BlockedDomain,
    Cause,
    Contact,
    Lead,
    Person,
    Queue,
    RecycleReason,
    Status,
    StatusChange,
    UnqualifiedReason,
)

NAME_FIELDS = ("first_name", "last_name")
PERSON_COPY_FIELDS = (
    "first_name", "last_name", "email", "title", "phone", "company", "country", "state", "city",
    "employee_count", "industry", "public_sector", "initial_source", "lead_source", "last_interesting_moment",
    "last_interesting_moment_at", "inactive", "opted_out", "high_priority", "last_handraise_at", "active_until",
    "is_passive", "segment", "region", "sub_region",
)
COMPANY_SUFFIXES = frozenset(
    "inc incorporated llc ltd limited corp corporation co company gmbh ag sa sas bv nv plc pty srl spa oy ab as".split()
)


A = ActivityType
# A form fill, attendance or download makes a raw lead an inquiry (SPEC §4).
INQUIRY_TYPES = frozenset({
    A.TRIAL_REQUEST, A.CONTACT_REQUEST, A.PROFESSIONAL_SERVICES_REQUEST, A.WEBCAST_ATTENDED_HIGH_INTENT,
    A.WEBCAST_ATTENDED_LOW_INTENT, A.WEBCAST_REGISTERED, A.ONDEMAND_WATCHED_HIGH_INTENT,
    A.ONDEMAND_WATCHED_LOW_INTENT, A.LIVE_EVENT_ATTENDED, A.BOOTH_VISIT, A.GATED_ASSET_DOWNLOAD,
})
# A score of 90 makes these MQL; later statuses keep theirs.
MQL_FROM = frozenset({Status.RAW, Status.INQUIRY, Status.RECYCLE, Status.UNRESPONSIVE})


def new_lead(email: str, source: str | None, data: Mapping[str, Any], by: User | None, now: datetime) -> Lead:
    """The unsaved lead a first ingest of `email` creates; refuses what a new lead lacks."""
    if not source:
        raise Refused("initial_source is required for a new lead.", field="initial_source")
    if not data.get("last_name"):
        raise Refused("last_name is required for a new lead.", field="last_name")
    return Lead(email=email, initial_source=source, lead_source=source, created_by=by,
                status=Status.RAW, status_changed_at=now, **data)


@dataclass
class IngestResult:
    lead: Lead
    created: bool


def check_email_allowed(email: str, blocked: set[str] | None = None) -> str:
    """Return the normalised (lower-cased) email, or refuse it with the reason. `blocked`:
    the block list's domains when the caller has already looked them up (bulk ingest)."""
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise Refused(f"'{email}' is not a valid email address.", field="email") from None
    domain = domains.email_domain(email)
    if domains.is_disposable(domain):
        raise Refused(
            f"'{domain}' is a disposable (self-terminating) email domain; use a real address.",
            field="email",
        )
    is_blocked = domain in blocked if blocked is not None else _is_blocked(domain)
    if is_blocked:
        raise Refused(f"'{domain}' is on the ops block list; leads from it are not accepted.", field="email")
    return email


def _is_blocked(domain: str) -> bool:
    # Hand-written: every ingested lead asks, and the ORM's exists() compiled slower than it ran.
    return bool(rows.fetch(BlockedDomain, ("domain",), "SELECT domain FROM leads_blockeddomain WHERE domain = %s",
                           [domain]))


def clean_person_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    cleaned = dict(data)
    for field in NAME_FIELDS:
        if cleaned.get(field):
            cleaned[field] = domains.capitalise_name(cleaned[field])
    if "owner" in cleaned and cleaned["owner"] is not None:
        cleaned["queue"] = None  # an owner or a queue, never both
    elif cleaned.get("queue") is not None:
        cleaned["owner"] = None
    return cleaned


def check_owner_assignable(owner: User | None, by: User | None) -> None:
    """Who may give a record to whom: SDRs only to themselves (adopting), managers within
    their teams, ops and integrations to anyone active."""
    if owner is None or by is None:
        return
    if not owner.is_active:
        raise Refused(f"{owner.username} is not an active user.", field="owner")
    if by.is_ops or by.role == Role.INTEGRATION or owner == by:
        return
    if by.is_manager and owner.team_id in by.managed_team_ids():
        return
    raise Refused(f"You may not assign records to {owner.username}.", field="owner")


@transaction.atomic
def ingest_lead(data: Mapping[str, Any], by: User | None, now: datetime | None = None) -> IngestResult:
    """Create a lead, or update the one with the same email (case-insensitive).

    `initial_source` is the source of this ingest: it is kept as the lead's initial
    source when the lead is new, and becomes its latest `lead_source` either way; an
    existing lead's initial source never changes.
    """
    now = now or timezone.now()
    data = clean_person_fields(data)
    email = check_email_allowed(data.pop("email", "") or "")
    check_owner_assignable(data.get("owner"), by)
    source = data.pop("initial_source", None)
    existing = lead_by_email(email, lock=True)
    if existing is None:
        lead = new_lead(email, source, data, by, now)
        routing.classify(lead)
        lead.score = scoring.profile_score(lead)  # saved with the lead: no update after the ledger
        try:
            # A savepoint: a concurrent twin may win the insert (its pool turn is undone too).
            with transaction.atomic():
                route = _route_before_saving(lead, now)
                lead.save()
        except IntegrityError:
            existing = Lead.objects.select_for_update().get(email=email)
        else:
            score_and_advance(lead, new_types=set(), now=now, new=True, route=route is None)
            if route is not None:
                _after_assign(lead, route, now)
                log_route(lead, route, now)
            return IngestResult(lead, created=True)
    _check_can_update(existing, by)
    if source:
        data["lead_source"] = source
    was_inactive = existing.inactive
    before = field_history.values_of(existing, data)
    for field, value in data.items():
        setattr(existing, field, value)
    routing.classify(existing)
    existing.save()
    field_history.record(existing, before, by, at=now)
    _finish_sequences_if_inactive(existing, was_inactive)
    score_and_advance(existing, new_types=set(), now=now)
    return IngestResult(existing, created=False)


def _route_before_saving(lead: Lead, now: datetime) -> Route | None:
    """A new lead that routing gives to an owner or a queue is saved with them (one write
    instead of an insert and an update). None: nothing to route yet, or the decision
    needs the saved lead (convert, recycle, or an MQL move first): score_and_advance
    routes it after the insert, as any other."""
    if not needs_routing(lead) or score_move(lead, set()) is not None:
        return None
    route = plan_route(lead, "", now)
    if not route.assigns:
        return None
    _take(lead, route)
    return route


def _take(lead: Lead, route: Route) -> dict[str, Any]:
    """Give the lead (in memory) to the route's owner or queue; the fields to save."""
    lead.owner_id, lead.queue = route.owner_id, route.queue
    fields = {"owner_id": route.owner_id, "queue_id": route.queue.pk if route.queue else None, **route.fields}
    for name, value in route.fields.items():
        setattr(lead, name, value)
    return fields


def _finish_sequences_if_inactive(person: Person, was_inactive: bool) -> None:
    """SPEC §6: a record marked inactive leaves its sequences."""
    if person.inactive and not was_inactive:
        from . import sequences  # sequences imports this module

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
def update_person(person: Person, data: Mapping[str, Any], by: User | None) -> Person:
    """Edit the plain fields of a lead or contact (status goes through `transition`)."""
    data = clean_person_fields(data)
    if "initial_source" in data and data["initial_source"] != person.initial_source:
        raise Refused(
            f"initial_source is set once and never changes (it is '{person.initial_source}').",
            field="initial_source",
        )
    if "status" in data and data["status"] != person.status:
        raise Refused("Change the status with the status action, not by editing the record.", field="status")
    if "email" in data and data["email"] != person.email:
        if isinstance(person, Lead):
            data["email"] = check_email_allowed(data["email"])
            if Lead.objects.filter(email=data["email"]).exclude(pk=person.pk).exists():
                raise Refused(f"Another lead already has the email {data['email']}.", field="email")
        elif data["email"]:
            data["email"] = check_email_allowed(data["email"])
    new_owner = "owner" in data and data["owner"] != person.owner
    if new_owner:
        check_owner_assignable(data["owner"], by)
    was_inactive = person.inactive
    before = field_history.values_of(person, data)
    for field, value in data.items():
        setattr(person, field, value)
    if isinstance(person, Lead):
        routing.classify(person)
    person.save()
    field_history.record(person, before, by)
    _finish_sequences_if_inactive(person, was_inactive)
    if new_owner and isinstance(person, Lead) and person.sla_due_at and person.owner_id:
        # The new owner gets their own business day, not what is left of the last one's.
        routing.start_sla_clock(person, person.owner_id, person.sla_pool, timezone.now())
    if {"title", "email"} & data.keys():
        score_and_advance(person, new_types=set(), now=timezone.now())
    return person


def transition(
    person: Person,
    new: str,
    *,
    reason: str = "",
    cause: str = Cause.MANUAL,
    by: User | None = None,
    now: datetime | None = None,
) -> bool:
    """Move a lead or contact to `new` if the status map allows it; refuse otherwise.

    Returns False (and writes nothing) when the record is no longer in the status it was
    read in, so a repeated or racing call changes nothing twice.
    """
    if new == Status.QUALIFIED:
        raise Refused("A lead becomes Qualified only by converting it.", field="status")
    return _move(person, new, reason=reason, cause=cause, by=by, now=now)


def status_fields(person: Person, new: str, reason: str, now: datetime) -> dict[str, Any]:
    """What moving `person` to `new` writes on the record (history aside)."""
    fields: dict[str, Any] = {"status": new, "status_reason": reason, "status_changed_at": now}
    if new == Status.MQL:
        fields["last_mql_at"] = now
        if person.mql_at is None:
            fields["mql_at"] = now
    if new == Status.RECYCLE:
        fields["behaviour_counted_since"] = now  # behaviour points start again from zero
    return fields


def _move(person: Person, new: str, *, reason: str, cause: str, by: User | None,
          now: datetime | None, converting: bool = False, also: dict[str, Any] | None = None) -> bool:
    """`also`: more fields to write in the same update (saved even when the move is not
    made); their values are already on `person`."""
    old = person.status
    if new not in Status.values:
        raise Refused(f"'{new}' is not a status.", field="status")
    if not converting and new not in TRANSITIONS[old]:
        raise Refused(
            f"A record cannot move from {Status(old).label} to {Status(new).label}.", field="status"
        )
    if old == Status.UNQUALIFIED and by is not None and not (by.is_ops or by.is_manager):
        raise Refused("Only managers and ops can reopen an Unqualified record.", field="status")
    choices = REQUIRED_REASONS.get(new)
    if choices is not None and reason not in choices.values:
        raise Refused(
            f"Moving to {Status(new).label} needs a reason: one of "
            f"{', '.join(f'{value} ({label})' for value, label in choices.choices)}.",
            field="reason",
        )
    now = now or timezone.now()
    updates = {**status_fields(person, new, reason, now), "updated_at": now}
    model = type(person)
    with transaction.atomic(savepoint=False):
        changed = model.objects.filter(pk=person.pk, status=old).update(**(also or {}), **updates)
        if not changed:
            if also:
                model.objects.filter(pk=person.pk).update(**also)
            return False
        StatusChange.objects.create(
            **{person.PERSON_FIELD: person}, old=old, new=new, reason=reason, cause=cause, by=by, at=now
        )
    for field, value in updates.items():
        setattr(person, field, value)
    if new == Status.RECYCLE:
        scoring.rescore(person, now=now)
    return True


@transaction.atomic
def record_activity(
    person: Person,
    type: str,
    *,
    occurred_at: datetime | None = None,
    details: Mapping[str, Any] | None = None,
    source_system: str = "",
    by: User | None = None,
    now: datetime | None = None,
) -> Activity:
    """Store a behaviour or touch on a lead or contact, then re-score it and move its
    status where the score or the behaviour says so (inside the same request)."""
    now = now or timezone.now()
    if isinstance(person, Lead) and person.converted_to_id is not None:
        raise Refused("This lead was converted; record activities on its contact.", field="lead")
    activity = Activity.objects.create(
        **{person.PERSON_FIELD: person},
        type=type,
        occurred_at=occurred_at or now,
        details=dict(details or {}),
        source_system=source_system,
        created_by=by,
    )
    if isinstance(person, Lead) and type in sla.FOLLOW_UP_TYPES and (person.sla_due_at or person.sla_breached_at):
        routing.stop_sla_clock(person)  # SPEC §5: the follow-up the SLA asks for
    score_and_advance(person, new_types={type}, now=now)
    return activity


def score_and_advance(person: Person, new_types: set[str], now: datetime,
                      new: bool = False, route: bool = True) -> None:
    """Re-score, then apply what the behaviour and the score imply: an unsubscribe opts
    out and unqualifies; a form fill makes a raw lead an inquiry; 90 points make MQL.
    `new`: the person was just created (see scoring.services.rescore_ledger); `route`:
    False when the caller has routed it already."""
    changes = scoring.rescore_ledger(person, now=now, new=new)
    if A.EMAIL_UNSUBSCRIBE in new_types:
        changes["opted_out"] = person.opted_out = True
    move = score_move(person, new_types)
    # An unsubscribe closes the person (or it was closed already): routing skips it. An
    # open move (inquiry, MQL) leaves needs_routing's answer as it was.
    routes = (route and isinstance(person, Lead) and (move is None or move[0] in OPEN_STATUSES)
              and needs_routing(person))
    request = next((t for t in (A.PROFESSIONAL_SERVICES_REQUEST, A.TRIAL_REQUEST, A.CONTACT_REQUEST)
                    if t in new_types), "")
    if move is not None and routes:
        # The move and the owner routing gives in one UPDATE of the lead.
        plan = plan_route(person, request, now)
        if plan.assigns:
            _move(person, move[0], reason=move[1], cause=Cause.SCORE, by=None, now=now,
                  also={**changes, **_take(person, plan)})
            _after_assign(person, plan, now)
        else:
            _move(person, move[0], reason=move[1], cause=Cause.SCORE, by=None, now=now, also=changes)
            carry_out(person, plan, now)
        log_route(person, plan, now)
        return
    if move is not None:
        _move(person, move[0], reason=move[1], cause=Cause.SCORE, by=None, now=now, also=changes)
    elif changes:
        type(person).objects.filter(pk=person.pk).update(**changes)
    if routes:
        route_lead(person, request=request, now=now)


def score_move(person: Person, new_types: set[str]) -> tuple[str, str] | None:
    """The status move (new status, reason) a re-scored person's latest behaviour and
    score call for, if any: at most one, since inquiry is below 90 points and MQL at 90.
    Shared by single ingest and the bulk path's in-memory replay (leads/bulk.py)."""
    if A.EMAIL_UNSUBSCRIBE in new_types:
        return (Status.UNQUALIFIED, UnqualifiedReason.UNSUBSCRIBE) if person.status in OPEN_STATUSES else None
    if person.status == Status.RAW and new_types & INQUIRY_TYPES and person.score < settings.MQL_THRESHOLD:
        return Status.INQUIRY, ""
    if reaches_mql(person):
        return Status.MQL, ""
    return None


def reaches_mql(person: Person) -> bool:
    """SPEC §4: 90 points make a raw, inquiry, recycled or unresponsive person MQL."""
    return person.status in MQL_FROM and person.score >= settings.MQL_THRESHOLD


@transaction.atomic
def rescore_leads(ids: list[int], rules: Sequence[Any]) -> None:
    """Re-score leads after a rule change: a re-score may make a lead MQL, never less."""
    for lead in Lead.objects.filter(pk__in=ids).order_by("pk"):
        scoring.rescore(lead, rules=rules)
        if reaches_mql(lead):
            promote_to_mql(lead)


def needs_routing(lead: Lead) -> bool:
    """Unowned (no owner, or only in Unassigned), open, and at the routing threshold."""
    if lead.owner_id is not None or lead.status not in OPEN_STATUSES:
        return False
    if lead.queue_id is not None and lead.queue_id != routing.queue_id(Queue.UNASSIGNED):
        return False
    return lead.score >= settings.ROUTING_THRESHOLD


def route_lead(lead: Lead, request: str = "", now: datetime | None = None) -> RoutingDecision:
    """Run the active routing rules for a lead and carry the decision out; log it."""
    now = now or timezone.now()
    route = plan_route(lead, request, now)
    carry_out(lead, route, now)
    return log_route(lead, route, now)


def carry_out(lead: Lead, route: Route, now: datetime) -> None:
    """Convert, recycle, or give the lead to the route's owner or queue."""
    if route.decision.action == "convert":
        convert_into_account(lead, lead.account, owner_id=route.owner_id, cause=Cause.ROUTING, now=now)
    elif route.decision.action == "recycle":
        _move(lead, Status.RECYCLE, reason=RecycleReason.EVALUATING, cause=Cause.ROUTING, by=None, now=now)
    elif route.assigns:
        _assign(lead, owner_id=route.owner_id, queue=route.queue, **route.fields)
        _after_assign(lead, route, now)


@dataclass
class Route:
    """A routing decision made and its pool turn taken, not yet carried out on the lead."""

    decision: Decision
    facts: routing_engine.Facts
    ruleset: Any
    owner_id: int | None
    pool: str
    queue: Queue | None
    candidates: Sequence[int]
    reason: str
    fields: dict[str, Any]  # the SLA clock, when the decision starts it

    @property
    def assigns(self) -> bool:
        """Carried out by giving the lead to an owner or a queue (not convert or recycle)."""
        return self.decision.action not in ("convert", "recycle") and (
            self.owner_id is not None or self.queue is not None)


def plan_route(lead: Lead, request: str, now: datetime) -> Route:
    """Decide, and take the pool turn when the decision is a pool; the lead is not written,
    so a new lead can be saved with its owner (ingest_lead)."""
    ruleset, rules = routing.active_ruleset()
    facts = routing.load_facts(lead, request)
    decision = routing_engine.decide(facts, rules)
    owner_id, pool, queue, candidates, reason = decision.owner_id, decision.pool, None, decision.candidates, ""
    owner_region = None
    if decision.action == "pool":
        member, candidates = routing.next_in_pool(decision.pool)
        owner_id = member.pk if member else None
        if member is None:
            queue = routing.queue_named(Queue.UNASSIGNED)
            reason = f"{decision.reason} Nobody in {decision.pool} is available: queue Unassigned, ops alerted."
            decision = Decision(**{**decision.__dict__, "notify": (*decision.notify, "ops")})
        else:
            owner_region = member.region
            reason = f"{decision.reason} Next in turn: {member.get_full_name() or member.username}."
    elif decision.action == "queue":
        queue = routing.queue_named(decision.queue)
    # SPEC §5: a contact or professional-services request starts the follow-up SLA.
    starts_clock = owner_id is not None and decision.action in ("owner", "pool") and facts.request in sla.SLA_REQUESTS
    fields = routing.sla_clock(lead, owner_id, pool, now, owner_region) if starts_clock else {}
    if owner_id is not None:
        queue = None
    return Route(decision, facts, ruleset, owner_id, pool, queue, candidates, reason, fields)


def _after_assign(lead: Lead, route: Route, now: datetime) -> None:
    """What giving the lead away brings with it, once the lead is saved."""
    if route.owner_id is not None and route.decision.rule and route.decision.rule.kind == "domain_mql":
        others = [d.lead_id for d in route.facts.domain_leads
                  if d.status == Status.MQL and d.owner_id != route.owner_id]
        if others:
            # SPEC §5 rule 4: the other MQLs at the domain go to the same owner too.
            Lead.objects.filter(pk__in=others).exclude(owner_id=route.owner_id).update(
                owner_id=route.owner_id, queue=None, updated_at=now)
    if route.queue is not None and route.queue.name == Queue.COMMUNITY_ADVOCATE:
        from . import sequences  # sequences imports this module

        # SPEC §6: community program requests leave the SDR cadences.
        sequences.finish_enrollments(lead, sequences.Reason.COMMUNITY_PROGRAM)


def log_route(lead: Lead, route: Route, now: datetime) -> RoutingDecision:
    record = routing.record_decision(lead, route.decision, route.facts, route.ruleset, now, owner_id=route.owner_id,
                                     pool_name=route.pool, queue=route.queue, candidates=route.candidates,
                                     reason=route.reason)
    _notify_for(lead, route.decision, record)
    return record


def _assign(lead: Lead, owner_id: int | None, queue: Queue | None, **fields: Any) -> None:
    """Give the lead to `owner_id` or `queue`; `fields`: more of its fields to write."""
    fields["updated_at"] = timezone.now()
    Lead.objects.filter(pk=lead.pk).update(owner_id=owner_id, queue=queue, **fields)
    lead.owner_id, lead.queue = owner_id, queue
    for name, value in fields.items():
        setattr(lead, name, value)


def _notify_for(lead: Lead, decision: Decision, record: RoutingDecision) -> None:
    account = lead.account
    users: list[int] = []
    if "account_owner" in decision.notify and account is not None and account.owner_id:
        users.append(account.owner_id)
    if "sdr" in decision.notify and account is not None and account.bdr_assigned_id:
        users.append(account.bdr_assigned_id)
    if "ops" in decision.notify:
        users.extend(routing.ops_user_ids())
    if users:
        routing.notify(users, "routing", f"{lead.full_name} ({lead.email}): {record.reason}", lead=lead)


def convert_into_account(lead: Lead, account: Account, owner_id: int | None, cause: str = Cause.MANUAL,
                         by: User | None = None, now: datetime | None = None) -> Contact:
    """Routing rule 2's conversion: make the lead a contact of `account` owned by
    `owner_id` (see leads/conversion.py, which does the work for every conversion)."""
    from . import conversion  # conversion imports this module

    owner = User.objects.filter(pk=owner_id).first() if owner_id is not None else None
    return conversion.convert_lead(lead, by=by, account=account, contact_owner=owner, cause=cause, now=now).contact


def combined_mql_dates(a: Person, b: Person) -> tuple[datetime | None, datetime | None]:
    """When two records become one (merge, conversion into a contact): the first MQL is
    the earlier of the two, the last MQL the later."""
    return (min((t for t in (a.mql_at, b.mql_at) if t), default=None),
            max((t for t in (a.last_mql_at, b.last_mql_at) if t), default=None))


def promote_to_mql(person: Person, now: datetime | None = None) -> bool:
    return _move(person, Status.MQL, reason="", cause=Cause.SCORE, by=None, now=now)


def lead_by_email(email: str, *, lock: bool = False, unconverted: bool = False) -> Lead | None:
    """The lead with this (unique, normalised) email, every field loaded; `lock`: FOR
    UPDATE; `unconverted`: only a lead not converted yet. Hand-written because both
    ingest requests run it, and the ORM (or Lead.objects.raw) spent longer preparing its
    47 columns than the database took to answer."""
    sql = f"SELECT {LEAD_COLUMNS} FROM leads_lead WHERE email = %s"
    if unconverted:
        sql += " AND converted_to_id IS NULL"
    if lock and connection.features.has_select_for_update:  # SQLite locks the whole database
        sql += " FOR UPDATE"
    found = rows.fetch(Lead, LEAD_ATTNAMES, sql, [email])
    return Lead.from_db(connection.alias, LEAD_ATTNAMES, found[0]) if found else None


LEAD_ATTNAMES = [f.attname for f in Lead._meta.concrete_fields]
LEAD_COLUMNS = ", ".join(f'"{f.column}"' for f in Lead._meta.concrete_fields)  # quoted as both databases quote


def find_person_by_email(email: str, user: User | None) -> Lead | Contact | None:
    """The lead with this email, else the newest contact with it, among what `user` sees
    (everyone's when `user` is None)."""
    email = email.strip().lower()
    contacts = Contact.objects.all()
    # A converted lead lives on as its contact.
    if user is None:
        lead = lead_by_email(email, unconverted=True)
    else:
        contacts = contacts.visible_to(user)
        lead = Lead.objects.visible_to(user).filter(email=email, converted_to__isnull=True).first()
    if lead is not None:
        return lead
    return contacts.filter(email=email).order_by("-id").first()


@transaction.atomic
def create_contact(data: Mapping[str, Any], by: User | None, now: datetime | None = None) -> Contact:
    data = clean_person_fields(data)
    if data.get("email"):
        data["email"] = check_email_allowed(data["email"])
    if not data.get("initial_source"):
        raise Refused("initial_source is required for a new contact.", field="initial_source")
    check_owner_assignable(data.get("owner"), by)
    return Contact.objects.create(created_by=by, status_changed_at=now or timezone.now(), **data)


def normalise_company(name: str) -> str:
    """'ACME, Inc.' and 'Acme Incorporated' → 'acme', for matching leads to accounts."""
    words = re.sub(r"[^\w\s]", " ", name.lower()).split()
    while words and words[-1] in COMPANY_SUFFIXES:
        words.pop()
    return " ".join(words)


@transaction.atomic
def save_account(account: Account, data: Mapping[str, Any], by: User | None = None) -> Account:
    """Create or edit an account. What is derived from its fields (domain, name key,
    region, tier, the hierarchy's segment) is recomputed on every save; the targeted
    flag goes through leads.targeting, which holds the per-SDR limit, flagged by `by`."""
    data = dict(data)
    targeted = data.pop("targeted", None)
    before = field_history.values_of(account, data) if account.pk else None  # an edit, not a creation
    for field, value in data.items():
        setattr(account, field, value)
    account.domain = domains.normalise_domain(account.domain) if account.domain else ""
    account.name_key = normalise_company(account.name)
    account.region = routing_geo.region_for(account.country, account.state)[0]
    account.tier = tiers.tier_of(account)
    account.save()
    if before is not None:
        field_history.record(account, before, by)
    if targeted is not None:
        targeting.set_targeted(account, targeted, by=by)
    routing.refresh_hierarchy_segments(account)
    account.refresh_from_db(fields=["segment", "targeted", "targeted_by", "targeted_at", "updated_at"])
    return account

