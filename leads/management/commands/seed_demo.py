"""`manage.py seed_demo [--leads N]`: the demo organisation `make demo` starts with.

Users and teams, accounts, leads with their activities and status history, and contacts
at customer accounts. A fixed seed makes every run produce the same data; bulk inserts
keep 3,000 leads to a few seconds on SQLite. The rows are written directly rather than
through `leads.services` on purpose: the services would score, route and audit each lead
one by one, and the demo wants a finished-looking history, not a replay of one. What the
product decides on that history then goes through its services: the ledger's scores, the
MQL a score implies, the owner routing gives new work with its logged decision
(rescore_everyone, agree_with_scores, route_new_work), so the demo never contradicts the
rules (tests/sdrcrm/test_demo_seed.py checks it).
"""

from __future__ import annotations

import bisect
import random
import time
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone

from leads import services, today
from leads.management.demo_opportunities import seed_opportunities
from leads.management.demo_people import (
    CONTACT_COUNT,
    create_accounts,
    plan_contacts,
    plan_leads,
    prospectors_of,
    save_people,
)
from leads.management.demo_sequences import seed_sequences
from leads.models import (
    AccountType,
    Activity,
    ActivityType,
    Contact,
    InitialSource,
    Lead,
    Status,
    Task,
)
from opportunities import dashboards
from routing import services as routing
from routing.models import Pool, PoolMember, Territory
from scoring import services as scoring
from sdrcrm.models import PROSPECTING_ROLES, Region, Role, Team, User

DEMO_PASSWORD = "demo-pass-2026"


class DemoUser(NamedTuple):
    username: str
    role: str
    region: str
    first_name: str
    last_name: str
    team: str


DEMO_USERS = [
    DemoUser("ops", Role.OPS, Region.AMER, "Olivia", "Park", ""),
    DemoUser("manager", Role.SDR_MANAGER, Region.AMER, "Marcus", "Bennett", ""),
    DemoUser("sdr.amer", Role.SDR, Region.AMER, "Sam", "Rivera", "AMER Sales Dev"),
    DemoUser("bdr.amer", Role.BDR, Region.AMER, "Brooke", "Hayes", "AMER Sales Dev"),
    DemoUser("sdr.apac", Role.SDR, Region.APAC, "Priya", "Nair", "AMER Sales Dev"),
    DemoUser("sdr.emea", Role.SDR, Region.EMEA, "Lena", "Fischer", "EMEA Sales Dev"),
    DemoUser("bdr.emea", Role.BDR, Region.EMEA, "Tom", "Clarke", "EMEA Sales Dev"),
    DemoUser("sal", Role.SAL, Region.AMER, "Sofia", "Alvarez", ""),
    DemoUser("ae", Role.AE, Region.EMEA, "Jonas", "Berg", ""),
    DemoUser("integration", Role.INTEGRATION, Region.AMER, "Marketing", "Automation", ""),
]
TEAMS = {"AMER Sales Dev": Region.AMER, "EMEA Sales Dev": Region.EMEA}
# Each SDR's and BDR's ramp (months before this one they started) and monthly SAO quota:
# seasoned ones, one in ramp month 2 (half quota) and one new this month (none yet).
RAMPS = {"sdr.amer": (8, 3), "bdr.amer": (5, 1), "sdr.apac": (1, 2), "sdr.emea": (12, 2), "bdr.emea": (0, 1)}
TOUCH_DAYS = 92  # a quarter of calls and emails behind the SAO dashboard
TOUCHED_STATUSES = (Status.INQUIRY, Status.MQL, Status.ACCEPTED, Status.QUALIFYING, Status.RECYCLE)


class Command(BaseCommand):
    help = "Create reproducible demo users, teams, accounts, leads, contacts and activities (once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--leads", type=int, default=3000, help="how many leads to create (default 3000)")

    def handle(self, *args: Any, leads: int, **options: Any) -> None:
        if User.objects.filter(username="ops").exists():
            self.stdout.write("demo data already present")
            return
        started = time.monotonic()
        rng = random.Random(42)
        now = timezone.now()
        with transaction.atomic():
            users = create_users(now)
            create_routing(users)
            accounts = create_accounts(rng, users)
            lead_plans = plan_leads(rng, now, leads, accounts, users)
            customers = [a for a in accounts if a.type == AccountType.CUSTOMER]
            contact_plans = plan_contacts(rng, now, CONTACT_COUNT, customers, users)
            activities, history = save_people(Lead, lead_plans, users["integration"])
            contact_activities, contact_history = save_people(Contact, contact_plans, users["integration"])
            enrollments, events = seed_sequences(rng, now, users)
            rescore_everyone()
            agree_with_scores(now)
            route_new_work(now)
            breach_slas(now)
            add_tasks(now)
            # Through the services, after the scores: conversion moves each ledger along.
            opportunities, iqms = seed_opportunities(rng, now, users)
            touches = add_touches(rng, now)
        self.stdout.write(
            f"Demo data: {len(users)} users, {len(TEAMS)} teams, {len(accounts)} accounts, "
            f"{len(lead_plans)} leads, {len(contact_plans)} contacts, {activities + contact_activities} activities, "
            f"{history + contact_history} status changes, {enrollments} enrolments, {events} sequence events, "
            f"{opportunities} opportunities, {iqms} IQMs, {touches} calls and emails by SDRs in "
            f"{time.monotonic() - started:.1f}s."
        )


SLA_BREACHES = 4


def breach_slas(now: datetime) -> None:
    """A few owned contact requests whose follow-up day has passed, marked as the
    `sla_breaches` job marks them: the managers' team queues show them."""
    late = (Lead.objects.filter(status=Status.MQL, owner__role__in=PROSPECTING_ROLES,
                                initial_source=InitialSource.CONTACT_REQUEST)
            .order_by("id").values_list("pk", flat=True)[:SLA_BREACHES])
    for n, pk in enumerate(late):
        due = now - timedelta(hours=2 + 3 * n)  # within the day: not yet reassigned (docs/rules.md §2)
        Lead.objects.filter(pk=pk).update(sla_due_at=due, sla_breached_at=due + timedelta(minutes=15))


def add_tasks(now: datetime) -> None:
    """Each SDR and BDR starts the day with a call back that is late and a deck to send
    before the day ends, about two of their MQLs (their Today page)."""
    tasks = []
    for user in User.objects.filter(role__in=PROSPECTING_ROLES).order_by("pk"):
        mqls = list(Lead.objects.filter(owner=user, status=Status.MQL).order_by("pk")[:2])
        if len(mqls) < 2:
            continue
        first, second = mqls
        later_today = now + (today.end_of_day(user, now) - now) / 2  # before their midnight, whatever the hour
        tasks += [Task(title=f"Call {first.first_name} back", kind=Task.Kind.CALL, due_at=now - timedelta(hours=3),
                       owner=user, created_by=user, lead=first),
                  Task(title=f"Send {second.first_name} the deck", kind=Task.Kind.EMAIL,
                       due_at=later_today, owner=user, created_by=user, lead=second)]
    Task.objects.bulk_create(tasks)


def create_users(now: datetime) -> dict[str, User]:
    teams = {}
    for name, region in TEAMS.items():
        teams[name], _ = Team.objects.update_or_create(name=name, defaults={"region": region})
    # Hashing is deliberately slow; one hash shared by all demo users keeps seeding fast.
    password = User()
    password.set_password(DEMO_PASSWORD)
    users = {}
    for spec in DEMO_USERS:
        is_ops = spec.role == Role.OPS
        users[spec.username] = User.objects.create(
            username=spec.username, password=password.password, email=f"{spec.username}@demo.example.com",
            first_name=spec.first_name, last_name=spec.last_name, role=spec.role, region=spec.region,
            team=teams.get(spec.team), is_staff=is_ops, is_superuser=is_ops,
        )
    manager = users["manager"]
    for team in teams.values():
        team.manager = manager
        team.save(update_fields=["manager"])
    this_month = now.date().replace(day=1)
    for user in prospectors_of(users):
        months_in, quota = RAMPS[user.username]
        user.manager = manager
        # Started `months_in` months before this one: 0 is ramp month 1 (no quota yet), 1 is month 2 (half).
        user.ramp_start_date = date(this_month.year + (this_month.month - 1 - months_in) // 12,
                                    (this_month.month - 1 - months_in) % 12 + 1, 1)
        user.monthly_sao_quota = quota
        user.save(update_fields=["manager", "ramp_start_date", "monthly_sao_quota"])
    return users


def add_touches(rng: random.Random, now: datetime) -> int:
    """Each SDR's and BDR's calls and emails over the last quarter, every weekday, at a
    pace of their own around the handbook's 30 and 30 (the SAO dashboard's activity
    figures), on their working leads with no follow-up clock running. Returns how many."""
    touches = []
    for user in User.objects.filter(role__in=PROSPECTING_ROLES).order_by("pk"):
        leads = list(Lead.objects.filter(owner=user, status__in=TOUCHED_STATUSES, sla_due_at=None)
                     .order_by("created_at", "pk").values_list("created_at", "pk"))
        pace = rng.uniform(0.55, 1.15)
        for back in range(TOUCH_DAYS, -1, -1):
            day = now - timedelta(days=back)
            if day.weekday() >= 5:
                continue
            for kind, outcome, target in ((ActivityType.CALL, True, dashboards.DAILY_DIALS),
                                          (ActivityType.EMAIL_SENT, False, dashboards.DAILY_EMAILS)):
                for _ in range(round(target * pace * rng.uniform(0.7, 1.3) * (0.5 if back == 0 else 1))):
                    at = min(day.replace(hour=13) + timedelta(minutes=rng.randint(0, 300)), now)
                    known = bisect.bisect_right(leads, (at, float("inf")))  # the leads that existed by then
                    if not known:
                        continue
                    touches.append(Activity(
                        lead_id=leads[rng.randrange(known)][1], type=kind, occurred_at=at, created_by=user,
                        details={"outcome": rng.choice(["connected", "voicemail", "no_answer"])} if outcome else {}))
    Activity.objects.bulk_create(touches, batch_size=2000)
    return len(touches)


def rescore_everyone() -> None:
    """Scores come from the ledger like everywhere else, so each lead page's breakdown
    adds up to its score."""
    rules = scoring.load_rules()
    for model in (Lead, Contact):
        for person in model.objects.order_by("pk").iterator(chunk_size=500):
            scoring.rescore(person, rules=rules)


def agree_with_scores(now: datetime) -> None:
    """Every status agrees with the score (docs/rules.md §1, §3): someone who became MQL
    whose ledger falls short of MQL_THRESHOLD (a junior title, a free-mail address) also visited the
    enterprise trial page before it; a raw lead or an inquiry at the threshold or above is moved
    by the product's own rule (an MQL now)."""
    rules = scoring.load_rules()
    short = Lead.objects.filter(mql_at__isnull=False, score__lt=settings.MQL_THRESHOLD, converted_to=None)
    for lead in short:
        Activity.objects.create(lead=lead, type=ActivityType.ENTERPRISE_TRIAL_PAGE_VISIT,
                                occurred_at=lead.mql_at - timedelta(minutes=10), details={"demo": True},
                                source_system="marketo")
        scoring.rescore(lead, rules=rules)
    for lead in Lead.objects.filter(status__in=(Status.RAW, Status.INQUIRY), score__gte=settings.MQL_THRESHOLD):
        services.score_and_advance(lead, new_types=set(), now=now)


# New work: what no SDR has accepted yet (accepted and qualifying leads keep the SDR who took them).
NEW_WORK = (Status.RAW, Status.INQUIRY, Status.MQL)


def route_new_work(now: datetime) -> None:
    """The new work at the routing threshold that no SDR created gets its owner as the
    product gives it: the active routing rules (a territory's SDR, a pool's turn, a queue,
    a lead at a customer converted onto its account), each decision logged with its reason
    for the lead page, and a contact request's follow-up clock started now."""
    leads = (Lead.objects.filter(status__in=NEW_WORK, score__gte=settings.ROUTING_THRESHOLD, converted_to=None)
             .exclude(initial_source=InitialSource.SDR_GENERATED).select_related("account").order_by("pk"))
    for lead in list(leads):
        Lead.objects.filter(pk=lead.pk).update(owner=None, queue=None)
        lead.owner, lead.queue = None, None
        routing.route_lead(lead, now=now)


# Who takes which round robin and territory, so leads routed in the demo find an owner.
DEMO_POOLS = {
    "EMEA BDR": ["bdr.emea"],
    "US/APAC BDR": ["bdr.amer", "sdr.apac"],
    "Customer Advocate AMER": ["sdr.amer"],
    "Customer Advocate EMEA": ["sdr.emea"],
    "Customer Advocate APAC": ["sdr.apac"],
    "BDR Prequalification": ["bdr.amer", "bdr.emea"],
    "PubSec SDR": ["sdr.amer"],
    "ABM SDR": ["sdr.amer", "sdr.emea"],
}
DEMO_TERRITORIES = [("AMER", Region.AMER, "sdr.amer"), ("EMEA", Region.EMEA, "sdr.emea"),
                    ("APAC", Region.APAC, "sdr.apac")]


def create_routing(users: dict[str, User]) -> None:
    for pool_name, usernames in DEMO_POOLS.items():
        pool = Pool.objects.get(name=pool_name)
        PoolMember.objects.bulk_create(
            PoolMember(pool=pool, user=users[name], position=i) for i, name in enumerate(usernames))
    for name, region, username in DEMO_TERRITORIES:
        Territory.objects.create(name=name, region=region, sdr=users[username], sal=users["sal"])
