"""Loads the facts the pure engine needs, runs round robin under a row lock, and logs
decisions. Carrying a decision out (owner, status, conversion) is leads.services.route_lead."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet

from leads import domains
from leads.models import Account, Lead, Queue, Status
from opportunities.models import OPEN_STAGES, Opportunity
from sdrcrm import config, rows
from sdrcrm.models import Notification, Role, User

from . import engine, geo, segments, sla
from .models import Pool, PoolMember, RoutingDecision, RoutingRule, RuleSet, Territory

REQUEST_BY_SOURCE = {
    "trial_enterprise": engine.TRIAL, "trial_saas": engine.TRIAL,
    "contact_request": engine.CONTACT, "professional_services_request": engine.PROFESSIONAL_SERVICES,
}


def match_account(email: str, company: str) -> Account | None:
    """By email domain (ignoring www.), then by normalised company name. Free-mail
    domains never match."""
    from leads.services import normalise_company

    domain = domains.account_domain(email)
    key = normalise_company(company) if company else ""
    # Hand-written: every ingested lead runs it, and the ORM took longer to compile it
    # than the database to answer.
    if domain and key:  # one query for both: the domain's lowest-id account first, else the name's
        sql, params = ("SELECT * FROM leads_account WHERE domain = %s OR name_key = %s"
                       " ORDER BY domain = %s DESC, id LIMIT 1", [domain, key, domain])
    elif domain or key:
        sql, params = (f"SELECT * FROM leads_account WHERE {'domain' if domain else 'name_key'} = %s"
                       " ORDER BY id LIMIT 1", [domain or key])
    else:
        return None
    return next(iter(Account.objects.raw(sql, params)), None)


def classify(lead: Lead, match: bool = True) -> None:
    """Set region, sub-region, segment and matched account from the lead's fields (not
    saved). `match=False`: the caller has matched the account already (bulk ingest)."""
    lead.email_domain = domains.email_domain(lead.email)
    lead.region, lead.sub_region = geo.region_for(lead.country, lead.state)
    if match and lead.account_id is None:
        lead.account = match_account(lead.email, lead.company)
    account = lead.account
    pubsec = segments.is_public_sector(lead.public_sector or bool(account and account.public_sector),
                                       lead.industry, lead.country)
    size = account.segment if account else segments.segment_for(lead.employee_count)
    lead.segment = "pubsec" if pubsec else size


def refresh_hierarchy_segments(account: Account) -> None:
    """Every account of a hierarchy takes the largest segment found anywhere in it."""
    root = account
    seen = {root.pk}
    while root.parent_id and root.parent_id not in seen:
        root = Account.objects.get(pk=root.parent_id)
        seen.add(root.pk)
    members: dict[int, int | None] = {}
    frontier = [root.pk]
    while frontier:
        rows = list(Account.objects.filter(pk__in=frontier).values_list("pk", "employee_count"))
        members.update(rows)
        frontier = [pk for pk in Account.objects.filter(parent__in=frontier).values_list("pk", flat=True)
                    if pk not in members]
    segment = segments.largest(segments.segment_for(count) for count in members.values())
    Account.objects.filter(pk__in=members).exclude(segment=segment).update(segment=segment)


def active_ruleset() -> tuple[RuleSet | None, Sequence[engine.Rule]]:
    """The active rule set (only its id and version are loaded) and its rules, from the
    per-process configuration cache."""
    active = config.get("active_ruleset")
    if active is None:
        return None, ()
    (pk, version), rules = active
    return RuleSet(pk=pk, version=version, state=RuleSet.State.ACTIVE), rules


def read_active_ruleset() -> tuple[tuple[int, int], tuple[engine.Rule, ...]] | None:
    ruleset = RuleSet.objects.filter(state=RuleSet.State.ACTIVE).first()
    return None if ruleset is None else ((ruleset.pk, ruleset.version), tuple(rules_of(ruleset)))


def rules_of(ruleset: RuleSet) -> list[engine.Rule]:
    return [engine.Rule(position=r.position, kind=r.kind, label=r.label, params=r.params, enabled=r.enabled)
            for r in RoutingRule.objects.filter(ruleset=ruleset)]


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


def load_facts(lead: Lead, request: str, territories: list[engine.TerritoryFacts] | None = None,
               open_opportunity: bool | None = None,
               colleagues: list[engine.DomainLead] | None = None) -> engine.Facts:
    """The engine's facts about `lead`. Replay over many leads passes what it loaded in
    bulk: `territories`, whether the lead's account has an open opportunity, and the owned
    leads at its email domain (`domain_colleagues`)."""
    account_facts = None
    account = lead.account
    if account is not None:
        paired = None
        if account.owner_id and account.is_named:  # only named accounts go to the paired SDR
            paired = account.owner.paired_sdr_id
        account_facts = engine.AccountFacts(
            id=account.pk, name=account.name, type=account.type, owner_id=account.owner_id,
            bdr_assigned_id=account.bdr_assigned_id, prospecting_status=account.bdr_prospecting_status,
            has_open_opportunity=has_open_opportunity(account) if open_opportunity is None else open_opportunity,
            is_named=account.is_named,
            abm_tier=account.abm_tier, paired_sdr_id=paired,
        )
    domain = domains.email_domain(lead.email)
    domain_leads: list[engine.DomainLead] = []
    if account is None and domain and not domains.is_free(domain):
        if colleagues is None:
            domain_leads = [engine.DomainLead(*row) for row in _colleagues(domain, lead.pk)]
        else:
            domain_leads = [c for c in colleagues if c.lead_id != lead.pk][:MAX_COLLEAGUES]
    size = lead.segment if lead.segment != "pubsec" else (
        account.segment if account else segments.segment_for(lead.employee_count))
    if territories is None:
        territories = territory_facts(lead.region)
    territory = engine.pick_territory(territories, lead.region, lead.sub_region, lead.country, size)
    return engine.Facts(
        lead_id=lead.pk, segment=size, region=lead.region, sub_region=lead.sub_region, country=lead.country,
        pubsec=lead.segment == "pubsec", request=request or REQUEST_BY_SOURCE.get(lead.lead_source, ""),
        domain=domain, account=account_facts, domain_leads=domain_leads,
        territory_sdr_id=territory.sdr_id if territory else None, territory_name=territory.name if territory else "",
    )


# Rules 4 and 5 look at owned leads of the same company domain that are MQL or being worked.
COLLEAGUE_STATUSES = (Status.MQL, Status.ACCEPTED, Status.QUALIFYING)
COLLEAGUES = Lead.objects.filter(owner__isnull=False, status__in=COLLEAGUE_STATUSES)
MAX_COLLEAGUES = 50


def _colleagues(domain: str, exclude: int | None) -> list[list[Any]]:
    """COLLEAGUES at the domain but the lead itself: (id, owner, status, mql_at) rows.
    Hand-written: every routed lead runs it (sdrcrm.rows)."""
    sql = (f"SELECT id, owner_id, status, mql_at FROM leads_lead WHERE email_domain = %s AND owner_id IS NOT NULL"
           f" AND status IN ({', '.join(['%s'] * len(COLLEAGUE_STATUSES))})")
    params: list[Any] = [domain, *(status.value for status in COLLEAGUE_STATUSES)]
    if exclude is not None:
        sql += " AND id <> %s"
        params.append(exclude)
    return rows.fetch(Lead, ("id", "owner_id", "status", "mql_at"), sql + f" LIMIT {MAX_COLLEAGUES}", params)


def domain_colleagues(leads: Sequence[Lead]) -> dict[str, list[engine.DomainLead]]:
    """load_facts' `colleagues` for many leads at once (replay): one query per call."""
    wanted = {lead.email_domain for lead in leads
              if lead.account_id is None and lead.email_domain and not domains.is_free(lead.email_domain)}
    found: dict[str, list[engine.DomainLead]] = {domain: [] for domain in wanted}
    for domain, *row in COLLEAGUES.filter(email_domain__in=wanted).values_list(
            "email_domain", "pk", "owner_id", "status", "mql_at"):
        found[domain].append(engine.DomainLead(*row))
    return found


def has_open_opportunity(account: Account) -> bool:
    return open_opportunities().filter(account=account).exists()


def open_opportunities() -> QuerySet[Opportunity]:
    """Routing rule 3's "open opportunity": any stage before closed (pre-opportunity included)."""
    return Opportunity.objects.filter(stage__in=OPEN_STAGES)


def territory_facts(region: str | None = None) -> list[engine.TerritoryFacts]:
    """Every territory, or those of one region (the only ones pick_territory can choose),
    from the per-process configuration cache."""
    return [t for t in config.get("territories") if region is None or t.region == region]


def read_territories() -> tuple[engine.TerritoryFacts, ...]:
    return tuple(
        engine.TerritoryFacts(t.pk, t.name, t.region, t.sub_region, tuple(t.country_list()), t.segment, t.sdr_id)
        for t in Territory.objects.order_by("pk")
    )


def next_in_pool(pool_name: str, exclude: int | None = None) -> tuple[User | None, list[int]]:
    """The pool member whose turn it is (smooth weighted round robin), or None when no
    member is available. Runs under the available members' row locks, taken in id
    order by every caller: concurrent requests queue here, each reads the rows as the
    one before it left them, and no turn is skipped or given twice. `exclude`: a member
    who sits this turn out with their round-robin state untouched (the owner a lead is
    taken from). The user comes with the fields routing reads (name, region)."""
    pool = pool_id(pool_name)
    if pool is None:
        return None, []
    # Hand-written: the ORM took twice as long to compile these two statements as the
    # database took to run them, on half of all ingested leads.
    sql = (f"SELECT m.id, m.position, m.weight, m.credit, {', '.join('u.' + name for name in USER_FIELDS)}"
           " FROM routing_poolmember m JOIN sdrcrm_user u ON u.id = m.user_id"
           " WHERE m.pool_id = %s AND u.is_available AND u.is_active")
    params: list[Any] = [pool]
    if exclude is not None:
        sql += " AND m.user_id <> %s"
        params.append(exclude)
    sql += " ORDER BY m.id"  # the lock order: ids never change, positions do
    if connection.features.has_select_for_update_of:  # SQLite: the immediate transaction
        sql += " FOR UPDATE OF m"
    # No savepoint: inside a caller's transaction the locks are held to its commit anyway.
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(sql, params)
        members = sorted(cursor.fetchall(), key=lambda row: (row[1], row[0]))  # by position
        if not members:
            return None, []
        total = sum(weight for _, _, weight, *_ in members)
        # Smooth weighted round robin: every member gains its weight, the one with the most
        # credit (the first in position order on a tie) takes the turn and pays the total.
        chosen = max(members, key=lambda row: (row[3] + row[2], -row[1], -row[0]))
        ids = [row[0] for row in members]
        cursor.execute(
            "UPDATE routing_poolmember SET credit = credit + weight - CASE WHEN id = %s THEN %s ELSE 0 END,"
            " assigned = assigned + CASE WHEN id = %s THEN 1 ELSE 0 END"
            f" WHERE id IN ({', '.join(['%s'] * len(ids))})",
            [chosen[0], total, chosen[0], *ids])
    user = User.from_db(connection.alias, USER_FIELDS, chosen[4:])
    return user, [row[4] for row in members]


# What routing reads of the member, in the model's order (as User.from_db takes them).
USER_FIELDS = [field.attname for field in User._meta.concrete_fields
               if field.attname in {"id", "username", "first_name", "last_name", "region"}]


@transaction.atomic
def save_pool(pool: Pool, data: dict[str, Any], members: list[dict[str, Any]] | None) -> Pool:
    """Create or edit a pool; `members` (user, position, weight), when given, replaces the
    membership: members who stay keep their round-robin turn state (credit, assigned)."""
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
        member.position, member.weight = wanted[member.user_id]["position"], wanted[member.user_id]["weight"]
    PoolMember.objects.bulk_update(kept, ["position", "weight"])
    known = {member.user_id for member in kept}
    PoolMember.objects.bulk_create(PoolMember(pool=pool, **m) for user_id, m in wanted.items() if user_id not in known)
    return pool


def record_decision(lead: Lead, decision: engine.Decision, facts: engine.Facts, ruleset: RuleSet | None,
                    now: datetime, owner_id: int | None = None, pool_name: str = "", queue: Queue | None = None,
                    candidates: Sequence[int] = (), reason: str = "") -> RoutingDecision:
    return RoutingDecision.objects.create(
        lead=lead, ruleset=ruleset, rule_kind=decision.rule.kind if decision.rule else "",
        rule_position=decision.rule.position if decision.rule else None, action=decision.action,
        inputs=facts.as_inputs(), candidates=list(candidates or decision.candidates), owner_id=owner_id,
        pool_id=pool_id(pool_name) if pool_name else None, queue=queue,
        reason=reason or decision.reason, at=now,
    )


def notify(users: Sequence[int], kind: str, message: str, lead: Lead | None = None) -> None:
    Notification.objects.bulk_create(
        [Notification(user_id=user_id, kind=kind, message=message, lead=lead) for user_id in set(users) if user_id]
    )


def ops_user_ids() -> list[int]:
    return list(User.objects.filter(role=Role.OPS, is_active=True).values_list("pk", flat=True))


@transaction.atomic
def create_draft(by: User | None) -> RuleSet:
    """A new draft rule set, a copy of the active one (or of the handbook defaults)."""
    from django.db.models import Max

    version = (RuleSet.objects.aggregate(v=Max("version"))["v"] or 0) + 1
    draft = RuleSet.objects.create(version=version, state=RuleSet.State.DRAFT, created_by=by)
    active = RuleSet.objects.filter(state=RuleSet.State.ACTIVE).first()
    source = RoutingRule.objects.filter(ruleset=active) if active else []
    RoutingRule.objects.bulk_create(
        RoutingRule(ruleset=draft, position=r.position, kind=r.kind, label=r.label, enabled=r.enabled,
                    params=r.params) for r in source
    )
    return draft


@transaction.atomic
def activate(ruleset: RuleSet) -> RuleSet:
    from django.utils import timezone

    from sdrcrm.errors import Refused

    ruleset = RuleSet.objects.select_for_update().get(pk=ruleset.pk)
    if ruleset.state != RuleSet.State.DRAFT:
        raise Refused(f"Rule set v{ruleset.version} is {ruleset.state}; only a draft can be activated.")
    if not RoutingRule.objects.filter(ruleset=ruleset, enabled=True).exists():
        raise Refused("A rule set needs at least one enabled rule.")
    RuleSet.objects.filter(state=RuleSet.State.ACTIVE).update(state=RuleSet.State.RETIRED)
    ruleset.state, ruleset.activated_at = RuleSet.State.ACTIVE, timezone.now()
    ruleset.save(update_fields=["state", "activated_at"])
    return ruleset


def update_draft(ruleset: RuleSet, data: dict[str, Any]) -> RuleSet:
    """Edit a draft's note and (when given) replace its rules; active and retired sets
    are history and never change."""
    from sdrcrm.errors import Refused

    with transaction.atomic():
        ruleset = RuleSet.objects.select_for_update().get(pk=ruleset.pk)
        if ruleset.state != RuleSet.State.DRAFT:
            raise Refused(f"Rule set v{ruleset.version} is {ruleset.state}; only a draft can be edited.")
        rules = data.pop("rules", None)
        for field, value in data.items():
            setattr(ruleset, field, value)
        ruleset.save()
        if rules is not None:
            RoutingRule.objects.filter(ruleset=ruleset).delete()
            RoutingRule.objects.bulk_create(RoutingRule(ruleset=ruleset, **rule) for rule in rules)
    return ruleset


def import_territories(rows: list[dict[str, str]], dry_run: bool) -> dict[str, Any]:
    """Validate every row first; write all of them in one transaction, or none."""
    from .api import TerritorySerializer  # one set of field rules for the API and the import

    users = {u.username: u for u in User.objects.filter(is_active=True)}
    errors: list[dict[str, Any]] = []
    parsed = []
    for number, row in enumerate(rows, start=2):  # row 1 is the header
        row = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
        payload = {
            "name": row.get("name", ""), "region": row.get("region", "").lower(),
            "sub_region": row.get("sub_region", "").lower(),
            "countries": ",".join(row.get("countries", "").replace(",", " ").split()),
            "segment": row.get("segment", "").lower(),
            "sdr": users[row["sdr"]].pk if row.get("sdr") in users else None,
            "sal": users[row["sal"]].pk if row.get("sal") in users else None,
        }
        problems = {}
        if row.get("sdr") and row["sdr"] not in users:
            problems["sdr"] = [f"No active user {row['sdr']!r}."]
        if row.get("sal") and row["sal"] not in users:
            problems["sal"] = [f"No active user {row['sal']!r}."]
        existing = Territory.objects.filter(name=payload["name"]).first()
        serializer = TerritorySerializer(existing, data=payload)  # the API's own field rules
        if not serializer.is_valid():
            problems.update(serializer.errors)
        if problems:
            errors.append({"row": number, "errors": problems})
        else:
            parsed.append(serializer)
    if errors or dry_run:
        return {"dry_run": dry_run, "valid": len(parsed), "errors": errors, "written": 0}
    with transaction.atomic():
        for serializer in parsed:
            serializer.save()
    return {"dry_run": False, "valid": len(parsed), "errors": [], "written": len(parsed)}


# --- The SLA clock (SPEC §5): started by routing, stopped by a follow-up touch ---------


def start_sla_clock(lead: Lead, owner_id: int, pool_name: str, now: datetime) -> None:
    """The owner has one business day of their own region from `now` to follow up."""
    fields = sla_clock(lead, owner_id, pool_name, now)
    Lead.objects.filter(pk=lead.pk).update(**fields)
    for name, value in fields.items():
        setattr(lead, name, value)


def sla_clock(lead: Lead, owner_id: int, pool_name: str, now: datetime,
              owner_region: str | None = None) -> dict[str, Any]:
    """The lead's fields that start the SLA clock (not saved). `owner_region`: the
    owner's region when the caller has the owner at hand."""
    if owner_region is None:
        found = rows.fetch(User, ("region",), "SELECT region FROM sdrcrm_user WHERE id = %s", [owner_id])
        owner_region = found[0][0] if found else None
    due = sla.add_business_days(now, 1, owner_region or lead.region)
    return {"sla_due_at": due, "sla_breached_at": None, "sla_pool": pool_name}


def stop_sla_clock(lead: Lead) -> None:
    """A follow-up touch: the lead is no longer owed one (nor listed as breached)."""
    Lead.objects.filter(pk=lead.pk, sla_due_at__isnull=False).update(sla_due_at=None, sla_breached_at=None)
    lead.sla_due_at = lead.sla_breached_at = None
