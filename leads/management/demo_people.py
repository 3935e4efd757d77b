"""The demo's accounts, leads and contacts (seed_demo): made-up companies and people with
a plausible history: statuses with their history rows, activities, scores and owners.
Rows are planned in memory and written in bulk (see the command's docstring for why not
through the services)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

from leads import lifecycle, tiers
from leads.domains import normalise_company
from leads.models import (
    Account,
    AccountType,
    Activity,
    ActivityType,
    Cause,
    Contact,
    InitialSource,
    Lead,
    ProspectingStatus,
    Queue,
    RecycleReason,
    Status,
    StatusChange,
    UnqualifiedReason,
)
from routing.segments import segment_for
from sdrcrm.models import PROSPECTING_ROLES, Region, Role, Segment, User

ACCOUNT_COUNT = 60
CONTACT_COUNT = 100
HISTORY_DAYS = 60


def prospectors_of(users: dict[str, User]) -> list[User]:
    return [user for user in users.values() if user.role in PROSPECTING_ROLES]


class Country(NamedTuple):
    region: str
    weight: int
    phone_prefix: str
    legal_suffix: str  # one that normalise_company strips, so name_key stays clean
    cities: list[tuple[str, str]]  # (city, state)


COUNTRIES = {
    "US": Country(Region.AMER, 20, "+1", "Inc.", [("New York", "NY"), ("San Francisco", "CA"), ("Austin", "TX"),
                                                  ("Seattle", "WA"), ("Boston", "MA")]),
    "CA": Country(Region.AMER, 4, "+1", "Inc.", [("Toronto", "ON"), ("Vancouver", "BC")]),
    "BR": Country(Region.AMER, 3, "+55", "SA", [("Sao Paulo", "SP"), ("Rio de Janeiro", "RJ")]),
    "MX": Country(Region.AMER, 2, "+52", "SA", [("Mexico City", "CDMX"), ("Monterrey", "NL")]),
    "GB": Country(Region.EMEA, 8, "+44", "Ltd", [("London", ""), ("Manchester", "")]),
    "DE": Country(Region.EMEA, 6, "+49", "GmbH", [("Berlin", ""), ("Munich", "")]),
    "FR": Country(Region.EMEA, 4, "+33", "SAS", [("Paris", ""), ("Lyon", "")]),
    "NL": Country(Region.EMEA, 3, "+31", "BV", [("Amsterdam", ""), ("Rotterdam", "")]),
    "IN": Country(Region.APAC, 4, "+91", "Ltd", [("Bengaluru", "KA"), ("Pune", "MH")]),
    "AU": Country(Region.APAC, 3, "+61", "Pty Ltd", [("Sydney", "NSW"), ("Melbourne", "VIC")]),
    "JP": Country(Region.APAC, 2, "+81", "Co., Ltd.", [("Tokyo", ""), ("Osaka", "")]),
    "SG": Country(Region.APAC, 2, "+65", "Ltd", [("Singapore", "")]),
}
BRANDS = (
    "Acme Globex Initech Umbrella Hooli Vandelay Soylent Tyrell Cyberdyne Wonka Aperture Stark Wayne Oscorp "
    "Monarch Nimbus Zenith Apex Helios Orion Vertex Quantum Polaris Summit Evergreen Bluefin Redwood Ironclad "
    "Northwind Contoso"
).split()
KINDS = {
    "Robotics": "Manufacturing", "Logistics": "Transportation", "Health": "Healthcare",
    "Bank": "Financial Services", "Software": "Technology", "Energy": "Energy", "Retail": "Retail",
    "Labs": "Technology", "Foods": "Consumer Goods", "Motors": "Automotive", "Insurance": "Insurance",
    "Media": "Media",
}
FREE_MAIL = ["gmail.com", "outlook.com", "yahoo.com", "hotmail.com", "icloud.com", "proton.me"]
# ASCII only: the names also make up the email addresses.
FIRST_NAMES = (
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan "
    "Joseph Jessica Thomas Sarah Carlos Ana Luis Sofia Hans Anna Pierre Camille Lars Emma Raj Priya Arjun "
    "Aiko Kenji Yuki Wei Mei Oliver Charlotte Noah Amelia"
).split()
LAST_NAMES = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Wilson "
    "Anderson Taylor Thomas Moore Martin Lee Walker Schmidt Muller Dubois Laurent Jansen Visser Patel "
    "Sharma Singh Tanaka Suzuki Sato Tan Lim Wong Kelly Murphy Silva Santos Costa"
).split()
TITLES = [
    "VP Engineering", "Director of IT", "Software Engineer", "Senior Software Engineer", "Head of Platform",
    "DevOps Manager", "Developer", "CTO", "CIO", "Engineering Manager", "Site Reliability Engineer",
    "IT Manager", "Security Engineer", "Release Manager", "Head of Developer Experience",
]

S = Status
# Mostly the statuses SDRs work every day; every status appears at least once (below).
LEAD_STATUS_WEIGHTS = {
    S.RAW: 18, S.INQUIRY: 18, S.MQL: 20, S.ACCEPTED: 14, S.QUALIFYING: 10, S.QUALIFIED: 4,
    S.UNQUALIFIED: 4, S.RECYCLE: 5, S.UNRESPONSIVE: 4, S.BAD_DATA: 2, S.WEB_PORTAL_PURCHASE: 1,
}
CONTACT_STATUS_WEIGHTS = {S.RAW: 60, S.INQUIRY: 20, S.MQL: 15, S.ACCEPTED: 5}
SCORE_RANGES = {
    S.RAW: (0, 40), S.INQUIRY: (10, 89), S.MQL: (90, 200), S.ACCEPTED: (90, 210), S.QUALIFYING: (100, 220),
    S.QUALIFIED: (110, 240), S.UNQUALIFIED: (0, 60), S.RECYCLE: (20, 120), S.UNRESPONSIVE: (40, 140),
    S.BAD_DATA: (0, 40), S.WEB_PORTAL_PURCHASE: (90, 200),
}
REACHED_MQL = {S.MQL, S.ACCEPTED, S.QUALIFYING, S.QUALIFIED, S.WEB_PORTAL_PURCHASE}
MAYBE_REACHED_MQL = {S.RECYCLE, S.UNRESPONSIVE, S.UNQUALIFIED}
# Only new work waits in a queue; anything an SDR has touched has an owner.
QUEUEABLE = {S.RAW, S.INQUIRY, S.MQL}
SCORE_CAUSED = {S.INQUIRY, S.MQL}
SOURCE_WEIGHTS = {
    InitialSource.TRIAL_SAAS: 12, InitialSource.TRIAL_ENTERPRISE: 8, InitialSource.CONTACT_REQUEST: 8,
    InitialSource.PROFESSIONAL_SERVICES_REQUEST: 2, InitialSource.WEBCAST: 12, InitialSource.CONFERENCE: 6,
    InitialSource.FIELD_EVENT: 4, InitialSource.GATED_CONTENT: 12, InitialSource.NEWSLETTER: 6,
    InitialSource.WEB_CHAT: 4, InitialSource.WEB_DIRECT: 6, InitialSource.SDR_GENERATED: 6,
    InitialSource.AE_GENERATED: 2, InitialSource.LIST_IMPORT: 4, InitialSource.CE_DOWNLOAD: 4,
    InitialSource.GITLAB_COM: 3, InitialSource.PARTNER: 2,
}
A = ActivityType
HANDRAISES = {A.TRIAL_REQUEST, A.CONTACT_REQUEST, A.PROFESSIONAL_SERVICES_REQUEST,
              A.WEBCAST_ATTENDED_HIGH_INTENT, A.WEB_CHAT}
SALES_TOUCHES = {A.CALL, A.EMAIL_SENT, A.MEETING, A.SEQUENCE_REPLY}
# An unsubscribe has consequences (opted out, unqualified), so it only appears where it
# explains the record's state.
ACTIVITY_POOL = [t for t in ActivityType if t != A.EMAIL_UNSUBSCRIBE]
# A handraise alone makes 90 points or more (MQL): only someone who became MQL has one.
MQL_HANDRAISES = {A.TRIAL_REQUEST, A.CONTACT_REQUEST, A.PROFESSIONAL_SERVICES_REQUEST,
                  A.WEBCAST_ATTENDED_HIGH_INTENT}
SHY_POOL = [t for t in ACTIVITY_POOL if t not in MQL_HANDRAISES]
# The handraise that made an MQL, by where the person came from.
MQL_HANDRAISE_BY_SOURCE = {
    InitialSource.TRIAL_SAAS: A.TRIAL_REQUEST, InitialSource.TRIAL_ENTERPRISE: A.TRIAL_REQUEST,
    InitialSource.PROFESSIONAL_SERVICES_REQUEST: A.PROFESSIONAL_SERVICES_REQUEST,
}
ACTIVE_WINDOW = timedelta(days=60)


class Planned(NamedTuple):
    """A person not yet saved, with what bulk_create would overwrite or cannot hold."""

    person: Lead | Contact
    created_at: datetime
    activities: list[tuple[str, datetime]]


def pick_country(rng: random.Random) -> str:
    return rng.choices(list(COUNTRIES), weights=[c.weight for c in COUNTRIES.values()])[0]


def create_accounts(rng: random.Random, users: dict[str, User]) -> list[Account]:
    sellers = {Region.AMER: users["sal"], Region.EMEA: users["ae"], Region.APAC: users["ae"]}
    bdrs = {u.region: u for u in users.values() if u.role == Role.BDR}
    tier_rng = random.Random(7)  # its own stream, so the rest of the demo stays as it was
    accounts = []
    for brand, kind in rng.sample([(b, k) for b in BRANDS for k in KINDS], ACCOUNT_COUNT):
        country = pick_country(rng)
        facts = COUNTRIES[country]
        bucket = rng.choices([(2000, 60000), (100, 1999), (5, 99)], weights=[25, 40, 35])[0]
        employees = rng.randint(*bucket)
        account_type = rng.choices(
            [AccountType.PROSPECT, AccountType.CUSTOMER, AccountType.PARTNER, AccountType.FORMER_CUSTOMER],
            weights=[66, 22, 7, 5],
        )[0]
        name = f"{brand} {kind}" + (f" {facts.legal_suffix}" if rng.random() < 0.5 else "")
        account = Account(
            name=name, name_key=normalise_company(name), domain=f"{brand}-{kind}.com".lower(),
            industry=KINDS[kind], employee_count=employees, country=country,
            state=rng.choice(facts.cities)[1], type=account_type, segment=segment_for(employees),
            region=facts.region, created_by=users["integration"],
        )
        # Customers always have a seller; some prospects are already being worked by one.
        if account_type == AccountType.CUSTOMER or rng.random() < 0.3:
            account.owner = sellers[facts.region]
        if account_type == AccountType.CUSTOMER:
            account.carr = Decimal(rng.randint(20, 900) * 1000)
        bdr = bdrs.get(facts.region)
        if account_type == AccountType.PROSPECT and bdr and account.segment != Segment.SMB and rng.random() < 0.35:
            account.bdr_assigned = bdr
            account.bdr_prospecting_status = ProspectingStatus.ACTIVELY_WORKING
        if account.segment == Segment.LARGE and rng.random() < 0.4:
            account.is_named = True
            account.abm_tier = rng.choice([1, 2])
        if rng.random() < 0.25:
            account.using_ce = True
            account.ce_active_users = rng.randint(5, 400)
        add_tier_facts(account, tier_rng)
        accounts.append(account)
    return Account.objects.bulk_create(accounts)


TECH_STACKS = ["Jenkins, Jira, Bitbucket", "Kubernetes, Terraform, ArgoCD", "SVN, Bamboo", "AWS, Azure, microservices",
               "GitHub Actions, SonarQube (SAST)", "Mainframe, COBOL", ""]


def add_tier_facts(account: Account, rng: random.Random) -> None:
    """The tier qualifiers no other demo field holds, and the tier save_account would set."""
    account.it_employees = min(account.employee_count or 0, rng.choice([0, 40, 120, 300, 900]))
    account.tech_stack = rng.choice(TECH_STACKS)
    account.devops_adoption = rng.random() < 0.3
    account.tier = tiers.tier_of(account)


def between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    return start + (end - start) * rng.random()


def plan_lifecycle(person: Lead | Contact, rng: random.Random, now: datetime, status: str) -> Planned:
    """Fill what a lead and a contact share: a timeline (created → activities → status
    change, sometimes a later activity), score, MQL dates, source and moments."""
    created = now - timedelta(days=HISTORY_DAYS) * rng.random()
    changed = created if status == S.RAW else between(rng, created, now)
    reached_mql = status in REACHED_MQL or (status in MAYBE_REACHED_MQL and rng.random() < 0.5)
    # Nobody who never became MQL has a 90-point handraise (docs/rules.md §1: it makes MQL).
    pool = ACTIVITY_POOL if reached_mql else SHY_POOL
    activities = [(rng.choice(pool), between(rng, created, changed)) for _ in range(rng.randint(1, 3))]
    if rng.random() < 0.12:
        activities[-1] = (activities[-1][0], between(rng, changed, now))  # re-engaged since
    person.status = status
    person.status_changed_at = changed
    if status in lifecycle.FIRST_TIMES:  # the one history row: this move is the first
        setattr(person, lifecycle.FIRST_TIMES[status], changed)
    person.score = rng.randint(*SCORE_RANGES[status])
    if status == S.RECYCLE:
        person.status_reason = rng.choice(RecycleReason.values)
    elif status == S.UNQUALIFIED:
        person.status_reason = rng.choice(UnqualifiedReason.values)
        if person.status_reason == UnqualifiedReason.UNSUBSCRIBE:
            person.opted_out = True
            activities.append((A.EMAIL_UNSUBSCRIBE, changed))
    person.initial_source = rng.choices(list(SOURCE_WEIGHTS), weights=list(SOURCE_WEIGHTS.values()))[0]
    person.lead_source = person.initial_source
    if reached_mql:
        person.last_mql_at = changed if status == S.MQL else between(rng, created, changed)
        # Most people become MQL once; some had an earlier MQL before this one.
        person.mql_at = person.last_mql_at if rng.random() < 0.85 else between(rng, created, person.last_mql_at)
        # The handraise that made them MQL, just before it.
        handraise = MQL_HANDRAISE_BY_SOURCE.get(person.initial_source, A.CONTACT_REQUEST)
        activities.append((handraise, max(created, person.mql_at - timedelta(minutes=5))))
    person.high_priority = rng.random() < (0.15 if status in REACHED_MQL else 0.04)
    handraises = [at for kind, at in activities if kind in HANDRAISES]
    if handraises:
        person.last_handraise_at = max(handraises)
        person.active_until = person.last_handraise_at + ACTIVE_WINDOW
        person.is_passive = person.active_until <= now
    moments = [(at, kind) for kind, at in activities if kind not in SALES_TOUCHES and kind != A.EMAIL_UNSUBSCRIBE]
    if moments and rng.random() < 0.6:
        at, kind = max(moments)
        person.last_interesting_moment = ActivityType(kind).label
        person.last_interesting_moment_at = at
    return Planned(person, created, activities)


def fill_identity(person: Lead | Contact, rng: random.Random, local_suffix: str, domain: str, country: str) -> None:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    facts = COUNTRIES[country]
    city, state = rng.choice(facts.cities)
    person.first_name, person.last_name = first, last
    person.email = f"{first}.{last}{local_suffix}@{domain}".lower()
    if isinstance(person, Lead):
        person.email_domain = domain.lower()
    person.title = rng.choice(TITLES)
    if rng.random() < 0.6:
        person.phone = f"{facts.phone_prefix} {rng.randint(200, 989)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}"
    person.country, person.state, person.city, person.region = country, state, city, facts.region


def plan_leads(rng: random.Random, now: datetime, count: int, accounts: list[Account],
               users: dict[str, User]) -> list[Planned]:
    prospectors: dict[str, list[User]] = {}
    for user in prospectors_of(users):
        prospectors.setdefault(user.region, []).append(user)
    queues = {name: Queue.objects.get(name=name) for name in (Queue.INQUIRY, Queue.UNASSIGNED)}
    statuses = list(LEAD_STATUS_WEIGHTS)
    plans = []
    for i in range(count):
        # The first leads walk through every status so even a small demo shows them all.
        status = statuses[i] if i < len(statuses) else rng.choices(
            statuses, weights=list(LEAD_STATUS_WEIGHTS.values()))[0]
        lead = Lead()
        account = rng.choice(accounts) if rng.random() < 0.65 else None
        if account is not None:
            fill_identity(lead, rng, str(i), account.domain, account.country)
            lead.account = account
            lead.company, lead.employee_count, lead.industry = account.name, account.employee_count, account.industry
        else:
            fill_identity(lead, rng, str(i), rng.choice(FREE_MAIL), pick_country(rng))
            lead.company = f"{rng.choice(BRANDS)} {rng.choice(['Consulting', 'Studio', 'Systems', 'Partners'])}"
            lead.employee_count = rng.choice([None, rng.randint(1, 99), rng.randint(100, 3000)])
        lead.segment = account.segment if account is not None else segment_for(lead.employee_count)
        plan = plan_lifecycle(lead, rng, now, status)
        # An owner or a queue, never both (the lead_owner_xor_queue constraint).
        if status in QUEUEABLE and rng.random() < 0.18:
            lead.queue = queues[Queue.INQUIRY if status == S.INQUIRY else Queue.UNASSIGNED]
        else:
            lead.owner = rng.choice(prospectors[lead.region])
        sdr_made = lead.initial_source == InitialSource.SDR_GENERATED and lead.owner is not None
        lead.created_by = lead.owner if sdr_made else users["integration"]
        plans.append(plan)
    return plans


def plan_contacts(rng: random.Random, now: datetime, count: int, customers: list[Account],
                  users: dict[str, User]) -> list[Planned]:
    if not customers:
        return []
    statuses = list(CONTACT_STATUS_WEIGHTS)
    # The SDR of the account's region works its MQL and accepted contacts (their contact
    # views, docs/rules.md §9); the account's seller owns the rest.
    sdrs = {user.region: user for user in reversed(prospectors_of(users)) if user.role == Role.SDR}
    plans = []
    for i in range(count):
        account = customers[i % len(customers)]
        status = rng.choices(statuses, weights=list(CONTACT_STATUS_WEIGHTS.values()))[0]
        owner = account.owner
        if status in (S.MQL, S.ACCEPTED):
            owner = sdrs.get(account.region) or owner
        contact = Contact(account=account, owner=owner, company=account.name,
                          employee_count=account.employee_count, industry=account.industry,
                          segment=account.segment, created_by=users["integration"])
        # The ".c" keeps contact addresses apart from the leads' first.last{i} ones.
        fill_identity(contact, rng, f".c{i}", account.domain, account.country)
        plans.append(plan_lifecycle(contact, rng, now, status))
    return plans


def save_people(model: type[Lead] | type[Contact], plans: list[Planned], integration: User) -> tuple[int, int]:
    """Insert the people, then their activities and one history row each; returns the
    number of activities and history rows."""
    people = model.objects.bulk_create([plan.person for plan in plans], batch_size=500)
    # bulk_create stamps created_at with now (auto_now_add); put the planned dates back.
    for person, plan in zip(people, plans, strict=True):
        person.created_at = plan.created_at
    model.objects.bulk_update(people, ["created_at"], batch_size=500)
    field = "lead" if model is Lead else "contact"
    activities = [
        Activity(**{field: person}, type=kind, occurred_at=at, details={"demo": True},
                 source_system="outreach" if kind in SALES_TOUCHES else "marketo", created_by=integration)
        for person, plan in zip(people, plans, strict=True)
        for kind, at in plan.activities
    ]
    Activity.objects.bulk_create(activities, batch_size=1000)
    history = [
        StatusChange(
            **{field: person}, old=S.RAW, new=person.status, reason=person.status_reason,
            cause=Cause.SCORE if person.status in SCORE_CAUSED else Cause.MANUAL,
            by=None if person.status in SCORE_CAUSED else person.owner, at=person.status_changed_at,
        )
        for person in people
        if person.status != S.RAW
    ]
    StatusChange.objects.bulk_create(history, batch_size=1000)
    return len(activities), len(history)
