"""`POST leads/bulk/`: up to 1,000 leads with their activities per request, with the same
results as posting them one by one (docs/rules.md §10).

Most items of a batch are new people. Their outcome depends only on the item itself, so
they are worked out in memory with the pure scoring engine and written set-based: one
query finds the emails already known, one the blocked domains, two the matching accounts,
and four bulk inserts write the leads, activities, ledger rows and status history of the
whole batch. Those routed on arrival (the profile alone reaches the routing threshold,
no activity follows) are routed together by routing/batch.py, with routing's own
functions: the facts in a few queries, the pure engine, each pool's turns in batch order
under one lock, and the leads inserted with their owner, queue and follow-up clock; the
decisions, alerts and lead.assigned events are one insert each.

Everything else (an email already stored or repeated in the batch, an item given an
owner, activities that cross the threshold, a rarer routing decision: see routing/batch.py)
goes through `services.ingest_lead` and `services.record_activity` item by item, in batch
order, after the fast items. That order is safe: routing and updates only ever look at
owned leads that are MQL or being worked, and a fast item is unowned or Raw. The other way
round, a routed fast item must not depend on a careful item before it (`plan_routes`): one
at its email domain, or, for a pool decision, one that may take a turn first, sends it
down the careful path too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from routing import batch as batch_routing
from routing import facts as routing_facts
from routing import services as routing
from routing.services import Route
from scoring import rules as engine
from scoring import services as scoring
from scoring.models import ScoreEntry
from sdrcrm import webhooks
from sdrcrm.bulk_insert import insert_new, new_row
from sdrcrm.errors import Refused
from sdrcrm.models import User
from sdrcrm.webhooks import AssignCause

from . import checks, domains, lifecycle, services
from .models import Account, Activity, BlockedDomain, Cause, Lead, StatusChange

Item = tuple[dict[str, Any], list[dict[str, Any]]]


@dataclass
class BatchOutcome:
    index: int
    result: str  # created, updated or rejected
    lead: Lead | None = None
    detail: str = ""
    errors: dict[str, list[str]] | None = None


@dataclass
class FastItem:
    """A new lead that no routing touches, fully worked out in memory."""

    index: int
    lead: Lead
    activities: list[Activity]
    awards: list[engine.Award]
    moves: list[tuple[str, str, str]] = field(default_factory=list)  # (old, new, reason)
    routes: bool = False  # routed on arrival: saved with what routing gives it
    route: Route | None = None


def ingest_batch(items: list[Item], by: User | None,
                 cause: AssignCause = AssignCause.INGEST) -> list[BatchOutcome]:
    """Ingest many leads, each with its activities; a result per item, in order. A
    rejected item writes nothing; the good ones are kept. `cause`: what lead.assigned
    says of an item that names its owner (a fast item has none)."""
    now = timezone.now()
    outcomes: dict[int, BatchOutcome] = {}
    fast, slow = plan_batch(items, by, now, outcomes)
    fast, slow = plan_routes(items, fast, slow, now)
    if fast:
        try:
            with transaction.atomic():
                batch_routing.take_turns([(item.lead, item.route) for item in fast if item.route], now)
                write_fast_items(fast, now)
        except IntegrityError:
            # A concurrent request stored one of these emails first: take the careful path.
            slow = sorted(slow + [item.index for item in fast])
            fast = []
    for item in fast:
        outcomes[item.index] = BatchOutcome(item.index, "created", lead=item.lead)
    for index in slow:
        outcomes[index] = ingest_one(items[index], index, by, cause)
    return [outcomes[index] for index in range(len(items))]


def ingest_one(item: Item, index: int, by: User | None, cause: AssignCause = AssignCause.INGEST) -> BatchOutcome:
    """One item the careful way, in its own transaction (savepoint)."""
    data, activities = item
    try:
        with transaction.atomic():
            result = services.ingest_lead(data, by=by, cause=cause)
            for activity in activities:
                activity = dict(activity)
                services.record_activity(result.lead, activity.pop("type"), by=by, **activity)
    except Refused as refused:
        return BatchOutcome(index, "rejected", detail=refused.message, errors=refused.errors)
    result.lead.refresh_from_db()
    return BatchOutcome(index, "created" if result.created else "updated", lead=result.lead)


def plan_batch(items: list[Item], by: User | None, now: datetime,
               outcomes: dict[int, BatchOutcome]) -> tuple[list[FastItem], list[int]]:
    """Split the batch into fast items (worked out here) and indexes for the careful path;
    rejections go straight into `outcomes`."""
    emails = [str(data.get("email") or "").strip().lower() for data, _ in items]
    repeated = {email for email, n in Counter(emails).items() if n > 1}
    # Deleted leads' too: their emails take the careful path, where ingest_lead refuses them.
    known = set(Lead.all_objects.filter(email__in=set(emails) - repeated).values_list("email", flat=True))
    blocked = set(BlockedDomain.objects.filter(
        domain__in={domains.email_domain(e) for e in emails}).values_list("domain", flat=True))
    accounts = AccountIndex((email, data.get("company") or "") for email, (data, _) in zip(emails, items, strict=True))
    rules = scoring.load_rules()
    fast: list[FastItem] = []
    slow: list[int] = []
    for index, (data, activities) in enumerate(items):
        if emails[index] in repeated or emails[index] in known:
            slow.append(index)
            continue
        try:
            item = plan_new_lead(index, data, activities, by, now, blocked, accounts, rules)
        except Refused as refused:
            outcomes[index] = BatchOutcome(index, "rejected", detail=refused.message, errors=refused.errors)
            continue
        if item is None:
            slow.append(index)
        else:
            fast.append(item)
    return fast, slow


class AccountIndex:
    """The accounts a batch's leads match, found in two queries instead of two per lead
    (the rule of routing.facts.match_account: on domains.account_keys, the domain's
    lowest-id account first, then the name's)."""

    def __init__(self, people: Iterable[tuple[str, str]]) -> None:
        keys = [domains.account_keys(email, company) for email, company in people]
        wanted_domains = {domain for domain, _ in keys} - {""}
        wanted_names = {name for _, name in keys} - {""}
        self.by_domain: dict[str, Account] = {}
        self.by_name: dict[str, Account] = {}
        if wanted_domains:
            for account in Account.objects.filter(domain__in=wanted_domains).order_by("-id"):
                self.by_domain[account.domain] = account  # lowest id wins, as in match_account
        if wanted_names:
            for account in Account.objects.filter(name_key__in=wanted_names).order_by("-id"):
                self.by_name[account.name_key] = account

    def match(self, email: str, company: str) -> Account | None:
        domain, name = domains.account_keys(email, company)
        return self.by_domain.get(domain) or (self.by_name.get(name) if name else None)


def plan_new_lead(index: int, data: dict[str, Any], activities: list[dict[str, Any]], by: User | None,
                  now: datetime, blocked: set[str], accounts: AccountIndex,
                  rules: Sequence[engine.Rule]) -> FastItem | None:
    """What ingest_lead + record_activity would do for a new lead, without the database;
    None when the lead would be routed on the way (the careful path does that)."""
    data = checks.clean_person_fields(data)
    email = checks.check_email_allowed(data.pop("email", "") or "", blocked=blocked)
    if data.get("owner") is not None:
        return None  # an owned lead shows in routing's facts for its domain: keep the batch order
    lead = services.new_lead(email, data.pop("initial_source", None), data, by, now)
    if lead.account_id is None:
        lead.account = accounts.match(email, lead.company)
    routing_facts.classify(lead, match=False)

    # engine.score, with the profile's awards worked out once: the profile does not change.
    profile_awards = engine.profile_awards(engine.Profile(title=lead.title, email=email), rules)
    item = FastItem(index, lead, [], [])
    rows: list[scoring.ActivityRow] = []
    facts: list[engine.ActivityFact] = []
    # The same steps as score_and_advance after the ingest, then after each activity.
    lead.score, item.awards = _score(profile_awards, facts, rules)
    if not _advance(item, set(), now):
        # Routed on arrival, as ingest_lead routes it before the insert (no status move, no
        # activity to follow): a candidate for routing in bulk (plan_routes).
        item.routes = not activities and not item.moves
        return item if item.routes else None
    for number, raw in enumerate(activities, start=1):
        raw = dict(raw)
        activity = new_row(Activity, lead_id=None, contact_id=None, type=raw.pop("type"),
                        occurred_at=raw.get("occurred_at") or now, details=dict(raw.get("details") or {}),
                        source_system=raw.get("source_system", ""), external_id=raw.get("external_id", ""),
                        created_by_id=by.pk if by else None,
                        created_at=None)  # auto_now_add: stamped on insert
        item.activities.append(activity)
        # Numbered in arrival order, as database ids would be; mapped to real ids on write.
        facts.append(engine.ActivityFact(number, activity.type, activity.occurred_at))
        rows.append(scoring.ActivityRow(number, activity.type, activity.occurred_at, activity.details))
        lead.score, item.awards = _score(profile_awards, facts, rules)
        for name, value in scoring.engagement_changes(lead, rows, now).items():
            setattr(lead, name, value)
        if not _advance(item, {activity.type}, now):
            return None
    return item


def plan_routes(items: list[Item], fast: list[FastItem], slow: list[int],
                now: datetime) -> tuple[list[FastItem], list[int]]:
    """Decide the routes of the fast items routed on arrival (routing/batch.py); an item
    whose route the batch cannot prove equal to routing it in turn joins the careful path.

    Careful items run after the fast ones, so a fast item must not depend on a careful item
    before it in the batch: one at the same email domain may become an owned colleague (or
    move the MQLs there, rule 4), and one that may be routed may take a turn in the same
    pool first (its pool is not known before it runs). A fast item comes before later
    careful items anyway: routed on arrival it is Raw, which no other lead's routing looks at."""
    candidates = [item for item in fast if item.routes]
    if not candidates:
        return fast, slow
    routes = batch_routing.plan_routes([item.lead for item in candidates], now)
    planned = {item.index: (item, route) for item, route in zip(candidates, routes, strict=True)}
    careful = set(slow)
    careful_domains: set[str] = set()
    careful_may_route = False
    for index in sorted(careful | planned.keys()):
        data = items[index][0]
        domain = domains.email_domain(str(data.get("email") or "").strip().lower())  # as plan_batch reads it
        if index in planned:
            item, route = planned[index]
            if route is not None and domain not in careful_domains and not (route.turn_pending and careful_may_route):
                item.route = route
                continue
            careful.add(index)
        careful_domains.add(domain)
        careful_may_route = careful_may_route or data.get("owner") is None  # an owned lead is not routed
    return [item for item in fast if item.index not in careful], sorted(careful)


def _score(profile_awards: list[engine.Award], facts: list[engine.ActivityFact],
           rules: Sequence[engine.Rule]) -> tuple[int, list[engine.Award]]:
    """engine.score(profile, facts, rules) given the profile's awards."""
    awards = profile_awards + engine.behaviour_awards(facts, rules)
    return sum(award.points for award in awards), awards


def _advance(item: FastItem, new_types: set[str], now: datetime) -> bool:
    """services.score_and_advance on the in-memory lead; False if it would route."""
    lead = item.lead
    _, move = lifecycle.advance(lead, new_types)  # sets opted_out on the lead itself
    if move is not None:
        _move(item, *move, now)
    return not routing.needs_routing(lead)


def _move(item: FastItem, new: str, reason: str, now: datetime) -> None:
    item.moves.append((item.lead.status, new, reason))
    for name, value in lifecycle.status_fields(item.lead, new, reason, now).items():
        setattr(item.lead, name, value)


def write_fast_items(items: list[FastItem], now: datetime) -> None:
    """Four bulk inserts for the whole batch."""
    insert_new(Lead, [item.lead for item in items], check="email")
    # The rows below are given the lead's id rather than the lead: the same columns, without
    # a related-object descriptor per row.
    activities = []
    for item in items:
        for activity in item.activities:
            activity.lead_id = item.lead.pk
            activities.append(activity)
    insert_new(Activity, activities, check="lead_id")
    entries, history = [], []
    for item in items:
        lead_id = item.lead.pk
        ids = {number: activity.pk for number, activity in enumerate(item.activities, start=1)}
        entries.extend(
            new_row(ScoreEntry, lead_id=lead_id, contact_id=None, rule_key=award.rule_key,
                 rule_version=award.rule_version, activity_id=ids.get(award.activity_id) if award.activity_id else None,
                 points=award.points, reason=award.reason[:255], at=now)
            for award in item.awards if award.points
        )
        history.extend(new_row(StatusChange, **lifecycle.history_values("lead", lead_id, old, new, reason, Cause.SCORE,
                                                                        None, now))
                       for old, new, reason in item.moves)
    insert_new(ScoreEntry, entries, check="lead_id")
    insert_new(StatusChange, history, check="lead_id")
    batch_routing.log_routes([(item.lead, item.route) for item in items if item.route], now)
    webhooks.emit("lead.created", [webhooks.lead_data(item.lead) for item in items], now)
    webhooks.emit("lead.status_changed", [webhooks.status_data(item.lead.pk, old, new, reason, Cause.SCORE, now)
                                          for item in items for old, new, reason in item.moves], now)
