"""The Django side of the benchmark, run by bench/run.py as a subprocess with the
benchmark's environment (DATABASE_URL, REDIS_URL, ...):

    python bench/seed.py seed --leads 1000000   # users, pools, territories; COPY leads
    python bench/seed.py queries                # SQL statements per request, in process

The payload helpers and names at the top import nothing from Django, so run.py uses them
too. Each subcommand prints one JSON object as its last line of output.

Seeded leads are written with COPY, not through `leads.services`: the point is a large
table with realistic columns and index sizes in a few minutes, not a replay of 1,000,000
ingests. They have no activities, ledger rows or status history; the benchmark only
needs them to exist (dedup, domain lookups, views).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import queue
import random
import statistics
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

BENCH_PASSWORD = "bench-pass-2026-not-a-secret"
OPS_USER = "bench-ops"
INTEGRATION_USER = "bench-int"
MANAGER_USER = "bench-mgr"
# The SDR whose lead views are timed; owns about 10 % of the seeded leads.
VIEW_SDR = "bench-sdr-amer-1"
VIEW_SDR_SHARE = 0.10
# (username, role, region)
PROSPECTORS = [
    (VIEW_SDR, "sdr", "amer"),
    ("bench-sdr-amer-2", "sdr", "amer"),
    ("bench-sdr-amer-3", "sdr", "amer"),
    ("bench-sdr-emea-1", "sdr", "emea"),
    ("bench-sdr-emea-2", "sdr", "emea"),
    ("bench-sdr-apac-1", "sdr", "apac"),
    ("bench-bdr-amer-1", "bdr", "amer"),
    ("bench-bdr-amer-2", "bdr", "amer"),
    ("bench-bdr-emea-1", "bdr", "emea"),
    ("bench-bdr-emea-2", "bdr", "emea"),
    ("bench-bdr-apac-1", "bdr", "apac"),
]
TEAMS = {"amer": "Bench AMER", "emea": "Bench EMEA", "apac": "Bench APAC"}
POOL_MEMBERS = {
    "EMEA BDR": ["bench-bdr-emea-1", "bench-bdr-emea-2"],
    "US/APAC BDR": ["bench-bdr-amer-1", "bench-bdr-amer-2", "bench-bdr-apac-1"],
}
TERRITORIES = [("Bench AMER", "amer", "bench-sdr-amer-2"), ("Bench EMEA", "emea", "bench-sdr-emea-1"),
               ("Bench APAC", "apac", "bench-sdr-apac-1")]

FIRST_NAMES = ("James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard "
               "Susan Joseph Jessica Thomas Sarah Charles Karen Daniel Lisa Matthew Nancy Anthony Sandra Mark "
               "Ashley Lukas Anna Leon Emma Finn Mia Jonas Hannah Yuki Haruto Sakura Ren Aiko Priya Arjun Ana "
               "Mateo Sofia Lucas Chloe Noah Olivia Liam Amelia Ethan Isla Oscar Freya Hugo Alice").split()
LAST_NAMES = ("Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Wilson "
              "Anderson Thomas Taylor Moore Jackson Martin Lee Thompson White Harris Clark Lewis Walker Young "
              "Allen King Wright Scott Green Baker Adams Nelson Hill Campbell Mitchell Roberts Carter Phillips "
              "Evans Turner Mueller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Sato "
              "Suzuki Takahashi Tanaka Watanabe Ito Yamamoto Nakamura Patel Sharma Singh Dubois Moreau Laurent "
              "Rossi Russo Ferrari Silva Santos Jansen Visser Nilsson Larsson").split()
SENIOR_TITLES = ["VP Engineering", "Director of IT", "Head of Platform", "Engineering Manager",
                 "Senior DevOps Engineer", "VP of Infrastructure", "Director, Developer Experience", "CTO"]
OTHER_TITLES = ["Software Engineer", "Developer", "DevOps Engineer", "Student", "Consultant", "Analyst",
                "Release Engineer", "Architect", ""]
INDUSTRIES = ["Software", "Financial Services", "Healthcare", "Retail", "Manufacturing", "Telecommunications",
              "Education", "Media", "Automotive", "Energy", "Government", "Consulting", ""]
DOMAIN_WORDS_A = ("acme globex initech umbrella stark wayne hooli vandelay wonka cyberdyne soylent tyrell "
                  "massive oscorp gringotts aperture blackmesa nakatomi monarch zorg").split()
DOMAIN_WORDS_B = "soft labs systems data cloud works tech group digital networks".split()
FREE_DOMAINS = ["gmail.com", "outlook.com", "yahoo.com", "icloud.com", "gmx.de"]
# Company domains shared by seeded and ingested leads, so the routing domain rules find
# other leads at the same company as they would in a real database.
COMPANY_DOMAINS = 20_000
US_STATES = ["CA", "NY", "TX", "WA", "MA", "IL", "FL", "GA", "CO", "VA"]


def company_domain(k: int) -> str:
    a = DOMAIN_WORDS_A[k % len(DOMAIN_WORDS_A)]
    b = DOMAIN_WORDS_B[(k // len(DOMAIN_WORDS_A)) % len(DOMAIN_WORDS_B)]
    return f"{a}{b}{k}.com"


def company_name(domain: str) -> str:
    return domain.split(".")[0].title()


def ingest_payload(rng: random.Random, tag: str, client: int, n: int) -> tuple[dict[str, Any], str]:
    """One lead as an integration sends it, and the handraise activity that follows it.
    Half the leads come from companies already in the database, half from new ones."""
    if rng.random() < 0.5:
        domain = company_domain(rng.randrange(COMPANY_DOMAINS))
    else:
        domain = f"newco-{tag}-{client}-{n}.com"
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    country = rng.choices(["US", "DE", "JP"], weights=[5, 3, 2])[0]
    source = rng.choice(["trial_saas", "contact_request"])
    lead = {
        "email": f"{first}.{last}.{tag}.{client}.{n}@{domain}".lower(),
        "first_name": first,
        "last_name": last,
        "title": rng.choice(SENIOR_TITLES if rng.random() < 0.5 else OTHER_TITLES),
        "company": company_name(domain),
        "country": country,
        "initial_source": source,
        # 100+ employees: contact requests go to the staffed BDR pools (mid-market, large).
        "employee_count": rng.choice([150, 400, 1200, 2500, 8000, 20000]),
    }
    if country == "US":
        lead["state"] = rng.choice(US_STATES)
    activity = "trial_request" if source == "trial_saas" else "contact_request"
    return lead, activity


def bulk_item(rng: random.Random, tag: str, batch: int, n: int) -> dict[str, Any]:
    lead, _ = ingest_payload(rng, tag, 100 + batch, n)
    return {"email": lead["email"], "last_name": lead["last_name"], "initial_source": lead["initial_source"],
            "country": lead["country"], "activities": [{"type": "pricing_page_visit"}]}


# --- Django from here on ---------------------------------------------------------------

def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sdrcrm.settings")
    import django

    django.setup()


def ensure_users() -> dict[str, int]:
    """Bench users, teams, pool members and territories; idempotent. Returns user ids."""
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from routing.models import Pool, PoolMember, Territory
    from sdrcrm.models import Role, Team, User

    password = make_password(BENCH_PASSWORD)  # hashing is slow on purpose: once for all
    ids: dict[str, int] = {}
    with transaction.atomic():
        manager, _ = User.objects.update_or_create(
            username=MANAGER_USER, defaults={"password": password, "role": Role.SDR_MANAGER, "region": "amer"})
        teams = {}
        for region, name in TEAMS.items():
            teams[region], _ = Team.objects.update_or_create(name=name,
                                                             defaults={"region": region, "manager": manager})
        manager.team = teams["amer"]
        manager.save(update_fields=["team"])
        ids[MANAGER_USER] = manager.pk
        for username, role in ((OPS_USER, Role.OPS), (INTEGRATION_USER, Role.INTEGRATION), (AE_USER, Role.AE)):
            user, _ = User.objects.update_or_create(username=username, defaults={
                "password": password, "role": role, "is_staff": role == Role.OPS})
            ids[username] = user.pk
        for username, role, region in PROSPECTORS:
            user, _ = User.objects.update_or_create(username=username, defaults={
                "password": password, "role": role, "region": region, "team": teams[region], "manager": manager,
                "is_available": True, "is_active": True,
                "first_name": username.split("-")[1].upper(), "last_name": username})
            ids[username] = user.pk
        for pool_name, usernames in POOL_MEMBERS.items():
            pool = Pool.objects.get(name=pool_name)
            for position, username in enumerate(usernames):
                PoolMember.objects.get_or_create(pool=pool, user_id=ids[username], defaults={"position": position})
        for name, region, username in TERRITORIES:
            Territory.objects.update_or_create(name=name, defaults={"region": region, "sdr_id": ids[username]})
    return ids


LEAD_COLUMNS = (
    "first_name", "last_name", "title", "phone", "company", "country", "state", "city", "employee_count",
    "industry", "public_sector", "status", "status_reason", "status_changed_at", "score", "mql_at",
    "last_mql_at", "initial_source", "lead_source", "last_interesting_moment", "last_interesting_moment_at",
    "inactive", "opted_out", "high_priority", "last_handraise_at", "active_until", "is_passive", "segment",
    "region", "sub_region", "created_at", "updated_at", "email", "account_id", "converted_to_id",
    "created_by_id", "owner_id", "queue_id", "behaviour_counted_since",
)
# Status mix of a CRM that has run for two years; the timed SDR works more MQLs, so her
# view has well over 50 pages even at 100,000 leads.
STATUS_WEIGHTS = {"raw": 30, "inquiry": 15, "mql": 12, "accepted": 8, "qualifying": 5, "recycle": 10,
                  "unqualified": 9, "unresponsive": 5, "bad_data": 4, "web_portal_purchase": 2}
VIEW_SDR_STATUS_WEIGHTS = {**STATUS_WEIGHTS, "raw": 10, "mql": 32}
HANDRAISED = {"mql", "accepted", "qualifying", "unresponsive"}
SCORES = {"raw": (-10, 45), "inquiry": (10, 85), "mql": (90, 250), "accepted": (90, 250),
          "qualifying": (90, 250), "unresponsive": (90, 200), "recycle": (0, 60), "unqualified": (-30, 40),
          "bad_data": (0, 20), "web_portal_purchase": (0, 120)}
SOURCES = ["trial_saas", "trial_enterprise", "contact_request", "webcast", "conference", "gated_content",
           "newsletter", "web_direct", "list_import", "ce_download", "gitlab_com", "sdr_generated"]
SOURCE_WEIGHTS = [14, 6, 10, 10, 6, 14, 8, 8, 10, 6, 4, 4]
RECYCLE_REASONS = ["evaluating", "not_ready", "no_response", "other"]
UNQUALIFIED_REASONS = ["unsubscribe", "spam", "bad_contact_info", "not_a_fit", "student", "competitor",
                       "duplicate"]
MOMENTS = ["Visited the pricing page", "Downloaded a gated asset", "Registered for a webcast",
           "Opened the trial welcome email", "Visited the features page"]
SEED_COUNTRIES = {"US": 40, "GB": 8, "DE": 8, "FR": 5, "CA": 5, "JP": 5, "IN": 5, "AU": 4, "BR": 3, "NL": 3,
                  "ES": 2, "IT": 2, "SE": 2, "SG": 2, "MX": 2, "CH": 2, "IE": 2}
DAY = 86400
HISTORY_DAYS = 730


def _ts(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def lead_rows(start: int, count: int, ids: dict[str, int], queues: dict[str, int], seed: int,
              suffix: str = "", with_domain: bool = False) -> str:
    """`count` leads as COPY text lines; lead number `start` onwards (unique emails).
    `suffix` holds the values of the extra columns (see extra_columns), the same on every row."""
    from routing.geo import region_for
    from routing.segments import segment_for

    rng = random.Random(seed)
    now = time.time()
    integration = str(ids[INTEGRATION_USER])
    view_sdr = str(ids[VIEW_SDR])
    by_region = {region: [str(ids[u]) for u, _, r in PROSPECTORS if r == region and u != VIEW_SDR]
                 for region in TEAMS}
    countries, country_weights = list(SEED_COUNTRIES), list(SEED_COUNTRIES.values())
    statuses, status_weights = list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values())
    view_weights = list(VIEW_SDR_STATUS_WEIGHTS.values())
    geo = {c: region_for(c) for c in countries}
    us_geo = {s: region_for("US", s) for s in US_STATES}
    unassigned, inquiry_queue = str(queues["Unassigned"]), str(queues["Inquiry Queue"])
    N = "\\N"
    out = io.StringIO()
    write = out.write
    for i in range(start, start + count):
        r = rng.random
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        if r() < 0.1:
            domain = rng.choice(FREE_DOMAINS)
            company = company_name(company_domain(rng.randrange(COMPANY_DOMAINS)))
        else:
            domain = company_domain(rng.randrange(COMPANY_DOMAINS))
            company = company_name(domain)
        country = rng.choices(countries, weights=country_weights)[0]
        state = ""
        if country == "US":
            state = rng.choice(US_STATES)
            region, sub_region = us_geo[state]
        else:
            region, sub_region = geo[country]
        x = r()
        employees = (None if x < 0.15 else rng.randint(1, 99) if x < 0.5 else rng.randint(100, 1999) if x < 0.85
                     else rng.randint(2000, 100_000))
        public_sector = r() < 0.02
        segment = "pubsec" if public_sector else segment_for(employees)

        owner = N
        queue_id = N
        owned_by_view_sdr = r() < VIEW_SDR_SHARE
        status = rng.choices(statuses, weights=view_weights if owned_by_view_sdr else status_weights)[0]
        if owned_by_view_sdr:
            owner = view_sdr
        elif status == "raw" and r() < 0.5:
            queue_id = unassigned if r() < 0.5 else N
        elif status == "inquiry" and r() < 0.3:
            queue_id = inquiry_queue
        else:
            owner = rng.choice(by_region[region or "amer"])

        created = now - r() * HISTORY_DAYS * DAY
        changed = created if status == "raw" else created + r() * (now - created)
        updated = min(now, changed + r() * DAY)
        low, high = SCORES[status]
        score = rng.randint(low, high)
        reason = ""
        if status == "recycle":
            reason = rng.choice(RECYCLE_REASONS)
        elif status == "unqualified":
            reason = rng.choice(UNQUALIFIED_REASONS)
        mql_at = last_mql = handraise = active_until = N
        passive = "t"
        if status in HANDRAISED or (status == "recycle" and r() < 0.5):
            first_mql = created + r() * (changed - created)
            mql_at = _ts(first_mql)
            last_mql = _ts(changed if status == "mql" else first_mql)
            handraise = mql_at
            until = first_mql + 60 * DAY
            active_until = _ts(until)
            passive = "t" if until <= now else "f"
        moment, moment_at = "", N
        if r() < 0.4:
            moment, moment_at = rng.choice(MOMENTS), _ts(created + r() * (now - created))
        source = rng.choices(SOURCES, weights=SOURCE_WEIGHTS)[0]
        title = rng.choice(SENIOR_TITLES if r() < 0.35 else OTHER_TITLES)
        phone = f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}" if r() < 0.6 else ""
        write("\t".join((
            first, last, title, phone, company, country, state, "",
            N if employees is None else str(employees), rng.choice(INDUSTRIES), "t" if public_sector else "f",
            status, reason, _ts(changed), str(score), mql_at, last_mql, source, source, moment, moment_at,
            "f", "t" if reason == "unsubscribe" else "f", "t" if status == "mql" and r() < 0.15 else "f",
            handraise, active_until, passive, segment, region, sub_region, _ts(created), _ts(updated),
            f"{first}.{last}.{i}@{domain}".lower(), N, N, integration, owner, queue_id,
            _ts(changed) if status == "recycle" else N,
        )))
        if with_domain:
            write(f"\t{domain}")
        write(suffix)
        write("\n")
    return out.getvalue()


def _copy_text(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict | list):
        value = json.dumps(value)
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def extra_columns() -> tuple[list[str], str]:
    """NOT NULL columns of leads_lead this file does not fill (added since it was written)
    get their model default on every row, so a new field does not break the seed."""
    from django.db import connection

    from leads.models import Lead

    with connection.cursor() as cursor:
        cursor.execute("SELECT column_name FROM information_schema.columns WHERE table_name = 'leads_lead' "
                       "AND is_nullable = 'NO' AND column_default IS NULL AND is_identity = 'NO'")
        required = [row[0] for row in cursor.fetchall()]
    required = [column for column in required if column != "email_domain"]  # filled from the email
    fields = {f.column: f for f in Lead._meta.concrete_fields}
    columns, values = [], []
    for column in required:
        if column in LEAD_COLUMNS or column == "id":
            continue
        field = fields.get(column)
        default = field.get_default() if field is not None else None
        if default is None:
            raise SystemExit(f"leads_lead.{column} is NOT NULL and has no default: teach bench/seed.py its value")
        columns.append(column)
        values.append(_copy_text(default))
    return columns, "".join(f"\t{v}" for v in values)


def seed_leads(target: int, ids: dict[str, int], batch: int = 50_000) -> dict[str, Any]:
    """COPY leads until the table holds `target`; a generator thread prepares the next
    batch while PostgreSQL ingests the current one."""
    from django.db import connection

    from leads.models import Lead, Queue

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), coalesce(max(id), 0) FROM leads_lead")
        existing, max_id = cursor.fetchone()
    missing = target - existing
    if missing <= 0:
        return {"skipped": True, "existing": existing, "inserted": 0, "seconds": 0.0}
    queues = dict(Queue.objects.values_list("name", "id"))
    extra, suffix = extra_columns()
    # Stored email domain (routing's company lookup), when the schema has it.
    with_domain = "email_domain" in {f.column for f in Lead._meta.concrete_fields}
    started = time.monotonic()
    # Lead numbers continue after the highest id: earlier seeded numbers never exceed it.
    starts = list(range(max_id + 1, max_id + 1 + missing, batch))
    ready: queue.Queue[str | None] = queue.Queue(maxsize=2)

    def produce() -> None:
        for first in starts:
            size = min(batch, max_id + 1 + missing - first)
            ready.put(lead_rows(first, size, ids, queues, seed=first, suffix=suffix, with_domain=with_domain))
        ready.put(None)

    producer = threading.Thread(target=produce, daemon=True)
    producer.start()
    columns = (*LEAD_COLUMNS, *(["email_domain"] if with_domain else []), *extra)
    copy_sql = f"COPY leads_lead ({', '.join(columns)}) FROM STDIN"
    inserted = 0
    connection.ensure_connection()
    raw = connection.connection
    raw.autocommit = False
    while (chunk := ready.get()) is not None:
        with raw.cursor() as cursor:
            cursor.copy_expert(copy_sql, io.StringIO(chunk), size=1 << 20)
        raw.commit()  # a batch per transaction: an interrupted seed keeps what it wrote
        inserted += chunk.count("\n")
        print(f"  seeded {existing + inserted:,} / {target:,} leads ({time.monotonic() - started:.0f}s)",
              flush=True)
    copy_seconds = time.monotonic() - started
    raw.autocommit = True
    analyze_started = time.monotonic()
    with raw.cursor() as cursor:
        # VACUUM sets the visibility map (index-only scans) as autovacuum would in production.
        cursor.execute("VACUUM (ANALYZE) leads_lead")
        cursor.execute("ANALYZE")
    analyze_seconds = time.monotonic() - analyze_started
    return {"skipped": False, "existing": existing, "inserted": inserted, "default_columns": extra,
            "copy_seconds": round(copy_seconds, 1),
            "vacuum_analyze_seconds": round(analyze_seconds, 1),
            "seconds": round(copy_seconds + analyze_seconds, 1),
            "rows_per_second": round(inserted / copy_seconds)}


OPPORTUNITIES = 100_000  # the SAO dashboard's deals (bench/run.py's `dashboards`)
ACCOUNTS = 20_000
AE_USER = "bench-ae"


def seed_opportunities(target: int, ae_id: int) -> dict[str, Any]:
    """Opportunities until the table holds `target`, each converted from a seeded MQL lead of
    an SDR, with the history the SAO dashboard reads: the lead's Accepted and Qualifying
    changes, an IQM, and the deal's stage by its number — a tenth pending acceptance, a tenth
    unqualified, the rest accepted as SAOs (a third of those qualified, a fifth won, a fifth
    lost), one in 33 professional services; dates after the lead's MQL, never in the
    future. Accounts are made first, a third of them large. Set-based SQL: 22 s for 100,000."""
    from django.db import connection, transaction

    from leads.models import Account
    from opportunities.models import Opportunity

    existing = Opportunity.objects.count()
    if existing >= target:
        return {"skipped": True, "existing": existing}
    started = time.monotonic()
    segments = ["large", "mid_market", "smb"]
    with transaction.atomic():
        if Account.objects.count() < ACCOUNTS:
            Account.objects.bulk_create(
                (Account(name=company_name(company_domain(k)), name_key=company_domain(k).split(".")[0],
                         domain=company_domain(k), segment=segments[k % 3], country="US")
                 for k in range(ACCOUNTS)), batch_size=5000)
        with connection.cursor() as cursor:
            cursor.execute("SELECT min(id) FROM leads_account")
            first_account = cursor.fetchone()[0]
            cursor.execute("SELECT coalesce(max(id), 0) FROM opportunities_opportunity")
            last = {"last": cursor.fetchone()[0]}  # the deals of this run come after it
            cursor.execute(OPPORTUNITY_SQL, {"n": target - existing, "ae": ae_id, "accounts": ACCOUNTS,
                                             "first_account": first_account})
            # Without statistics on the deals just written the planner takes the table for
            # empty and joins it in a nested loop: minutes instead of seconds.
            cursor.execute("ANALYZE opportunities_opportunity")
            cursor.execute(HISTORY_SQL, last)
            cursor.execute(MILESTONES_SQL, last)
            cursor.execute(IQM_SQL, last)
    with connection.cursor() as cursor:
        # leads_lead too: the milestones written above left 100,000 dead rows, which the
        # funnel's index-only scan would fetch from the heap (autovacuum waits for 200,000).
        for table in ("opportunities_opportunity", "leads_statuschange", "opportunities_iqm", "leads_account",
                      "leads_lead"):
            cursor.execute(f"VACUUM (ANALYZE) {table}")
    return {"skipped": False, "inserted": target - existing, "seconds": round(time.monotonic() - started, 1)}


# Each deal from an MQL lead without one (every few leads, so the dates spread over the
# two years); `k` numbers the deals and picks the stage. "day" is the lead's MQL day.
OPPORTUNITY_SQL = """
WITH picked AS (
    SELECT l.id, l.owner_id, l.company, (l.mql_at AT TIME ZONE 'UTC')::date AS day,
           row_number() OVER (ORDER BY l.id) AS k
    FROM leads_lead l
    WHERE l.mql_at IS NOT NULL AND l.owner_id IS NOT NULL AND l.id %% 3 = 0
      AND NOT EXISTS (SELECT 1 FROM opportunities_opportunity o WHERE o.lead_id = l.id)
    ORDER BY l.id LIMIT %(n)s
), staged AS (
    SELECT *, CASE WHEN k %% 10 = 0 THEN 'pending_acceptance' WHEN k %% 10 = 1 THEN 'unqualified'
                   WHEN k %% 10 IN (2, 3) THEN 'closed_won' WHEN k %% 10 IN (4, 5) THEN 'closed_lost'
                   WHEN k %% 10 IN (6, 7) THEN 'scoping' ELSE 'discovery' END AS stage,
           LEAST(day + 3 + (k %% 11)::int, CURRENT_DATE) AS sao_day
    FROM picked
)
INSERT INTO opportunities_opportunity (
    name, stage, stage_changed_at, iacv, amount, source, professional_services, authority_confirmed,
    business_problem, initiative, current_tools, entry_use_case, deployment_preference, tech_stack, competition,
    sales_accepted_date, sales_qualified, sales_qualified_date, closed_at, closed_lost_reason, closed_lost_details,
    closed_won_details, created_at, updated_at, account_id, lead_id, owner_id, sdr_id)
SELECT
    'Bench deal ' || k || ' ' || company, stage, LEAST(sao_day + 20, CURRENT_DATE)::timestamptz,
    1000 * (1 + k %% 50), 1000 * (1 + k %% 50), 'sdr_generated', k %% 33 = 0, true,
    'Bench', 'top_2_priority', '', '', 'saas', '', '',
    CASE WHEN stage IN ('pending_acceptance', 'unqualified') THEN NULL ELSE sao_day END,
    stage IN ('scoping', 'closed_won'),
    CASE WHEN stage IN ('scoping', 'closed_won') THEN LEAST(sao_day + 10, CURRENT_DATE) END,
    CASE WHEN stage IN ('closed_won', 'closed_lost') THEN LEAST(sao_day + 30, CURRENT_DATE)::timestamptz END,
    CASE WHEN stage = 'closed_lost' THEN 'other' ELSE '' END, '', '',
    day::timestamptz, day::timestamptz, %(first_account)s + k %% %(accounts)s, id, %(ae)s, owner_id
FROM staged
"""
# The converted leads' history: Accepted the day after their MQL, Qualifying two days later.
HISTORY_SQL = """
INSERT INTO leads_statuschange (old, new, reason, cause, at, lead_id)
SELECT s.old, s.new, '', 'sequence', l.mql_at + s.later, l.id
FROM opportunities_opportunity o JOIN leads_lead l ON l.id = o.lead_id
CROSS JOIN (VALUES ('mql', 'accepted', interval '1 day'), ('accepted', 'qualifying', interval '3 days'))
    AS s(old, new, later)
WHERE o.id > %(last)s AND l.mql_at + s.later < now()
"""
# The same moves as the lead's first Accepted and Qualifying times (what a move writes).
MILESTONES_SQL = """
UPDATE leads_lead l SET accepted_at = c.accepted, qualifying_at = c.qualifying
FROM (SELECT s.lead_id, min(s.at) FILTER (WHERE s.new = 'accepted') AS accepted,
             min(s.at) FILTER (WHERE s.new = 'qualifying') AS qualifying
      FROM leads_statuschange s JOIN opportunities_opportunity o ON o.lead_id = s.lead_id
      WHERE o.id > %(last)s GROUP BY s.lead_id) c
WHERE l.id = c.lead_id
"""
# One IQM per deal, held the day before its SAO; the unqualified ones were no-shows.
IQM_SQL = """
INSERT INTO opportunities_iqm (subject, start, "end", location, disposition, activity_source, description,
                               created_at, updated_at, account_id, lead_id, sdr_id, opportunity_id)
SELECT 'Bench IQM', d.at, d.at + interval '30 minutes', '',
       CASE WHEN o.stage = 'unqualified' THEN 'no_show' WHEN o.sales_accepted_date IS NULL THEN 'scheduled'
            ELSE 'sao' END,
       'inbound', '', d.at, d.at, o.account_id, o.lead_id, o.sdr_id, o.id
FROM opportunities_opportunity o
CROSS JOIN LATERAL (SELECT (coalesce(o.sales_accepted_date, o.created_at::date + 3) - 1)::timestamptz
                           + interval '15 hours' AS at) d
WHERE o.id > %(last)s
"""


TODAY_TASKS = 150  # the timed SDR's open tasks: a third overdue, a third due today, a third later
TODAY_ENROLMENTS = 60  # their leads in a sequence whose first step is a call, due today
TODAY_SLA = 30  # their contact requests whose follow-up is due today


def ensure_today_work(sdr_id: int) -> dict[str, int]:
    """What the timed SDR's Today page lists (bench/run.py's `today` scenario), made again
    on every seed so the page reads the same rows in every run."""
    from datetime import timedelta

    from django.db import transaction
    from django.utils import timezone

    from leads import sequences
    from leads.models import Enrollment, Lead, Sequence, SequenceStep, Task

    now = timezone.now()
    with transaction.atomic():
        Task.objects.filter(owner_id=sdr_id, title__startswith="Bench: ").delete()
        sequence, _ = Sequence.objects.get_or_create(name="Bench calls", defaults={"touch": "high"})
        SequenceStep.objects.get_or_create(sequence=sequence, position=1, defaults={"day_offset": 0, "type": "call"})
        Enrollment.objects.filter(sequence=sequence).delete()
        leads = list(Lead.objects.filter(owner_id=sdr_id, status="mql").order_by("id")
                     .values_list("id", flat=True)[:TODAY_TASKS + TODAY_ENROLMENTS + TODAY_SLA])
        third = TODAY_TASKS // 3
        Task.objects.bulk_create(
            Task(title=f"Bench: call {n}", kind="call", owner_id=sdr_id, created_by_id=sdr_id, lead_id=lead_id,
                 due_at=now + timedelta(hours=(n // third - 1) * 20 + (n % third) / 60))
            for n, lead_id in enumerate(leads[:TODAY_TASKS]))
        enrolled = leads[TODAY_TASKS:TODAY_TASKS + TODAY_ENROLMENTS]
        Enrollment.objects.filter(lead_id__in=enrolled, state="active").delete()
        # Each enrolment's call is a task of the SDR, as enrolling makes it (leads/sequences.py).
        sequences.add_step_tasks(Enrollment.objects.bulk_create(
            Enrollment(lead_id=lead_id, sequence=sequence, enrolled_by_id=sdr_id, enrolled_at=now - timedelta(hours=1))
            for lead_id in enrolled))
        Lead.objects.filter(pk__in=leads[TODAY_TASKS + TODAY_ENROLMENTS:]).update(
            sla_due_at=now + timedelta(hours=2), sla_breached_at=None)
    return {"tasks": TODAY_TASKS, "enrolments": len(enrolled), "sla_due": len(leads[TODAY_TASKS + TODAY_ENROLMENTS:])}


def cmd_seed(args: argparse.Namespace) -> dict[str, Any]:
    setup_django()
    started = time.monotonic()
    ids = ensure_users()
    users_seconds = time.monotonic() - started
    result = seed_leads(args.leads, ids) if args.leads else {"skipped": True}
    result["opportunities"] = seed_opportunities(OPPORTUNITIES if args.leads else 0, ids[AE_USER])
    result["today"] = ensure_today_work(ids[VIEW_SDR])
    result["users_seconds"] = round(users_seconds, 1)
    from leads.models import Lead

    result["view_sdr_leads"] = Lead.objects.filter(owner_id=ids[VIEW_SDR]).count()
    result["view_sdr_mqls"] = Lead.objects.filter(owner_id=ids[VIEW_SDR], status="mql").count()
    return result


# --- Queries per request -----------------------------------------------------------------

def _capture(client: Any, method: str, path: str, data: Any = None) -> tuple[int, list[dict[str, Any]], Any]:
    """The request's SQL statements with their time in seconds (perf_counter resolution;
    CaptureQueriesContext rounds to milliseconds)."""
    from django.db import connection

    queries: list[dict[str, Any]] = []

    def timed(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            queries.append({"sql": sql, "time": time.perf_counter() - started})

    with connection.execute_wrapper(timed):
        if method == "GET":
            response = client.get(path)
        else:
            response = client.post(path, data, format="json")
    return response.status_code, queries, response


def _shape(sql: str) -> str:
    """A query's first words, enough to tell the statements apart in a report."""
    import re

    sql = re.sub(r"'[^']*'", "?", sql)
    sql = re.sub(r"\b\d+\b", "?", sql)
    sql = re.sub(r"^SELECT (DISTINCT )?.*? FROM ", r"SELECT \1... FROM ", " ".join(sql.split()))
    sql = re.sub(r"^INSERT INTO (\S+) \(.*?\) VALUES", r"INSERT INTO \1 (...) VALUES", sql)
    return sql[:220]


def cmd_queries(args: argparse.Namespace) -> dict[str, Any]:
    """Run a few requests in process (the Django test client, real token auth) and count
    the SQL statements each one makes, with where the database time goes, and the time
    the whole request takes in process (one at a time, no HTTP, no concurrency)."""
    setup_django()
    from rest_framework.test import APIClient

    from sdrcrm.models import ApiToken, User

    def client_for(username: str) -> APIClient:
        _, secret = ApiToken.objects.create(user=User.objects.get(username=username), name="bench queries")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
        return client

    rng = random.Random(7)
    tag = f"q{int(time.time()):x}"
    integration = client_for(INTEGRATION_USER)
    samples: dict[str, list[list[dict[str, Any]]]] = {"POST leads/": [], "POST activities/": []}
    walls: dict[str, list[float]] = {}

    def capture(client: APIClient, key: str, method: str, path: str, data: Any = None) -> Any:
        started = time.perf_counter()
        code, queries, response = _capture(client, method, path, data)
        walls.setdefault(key, []).append(time.perf_counter() - started)
        samples.setdefault(key, []).append(queries)
        statuses.setdefault(key, []).append(code)
        return response

    statuses: dict[str, list[int]] = {}
    for n in range(args.samples):
        lead, activity = ingest_payload(rng, tag, 0, n)
        capture(integration, "POST leads/", "POST", "/api/v1/leads/", lead)
        capture(integration, "POST activities/", "POST", "/api/v1/activities/",
                {"email": lead["email"], "type": activity})

    sdr = client_for(VIEW_SDR)
    first = "/api/v1/leads/?view=my_mqls"
    for _ in range(args.samples):
        response = capture(sdr, "GET my_mqls first page", "GET", first)
    path, depth = first, 0
    for _ in range(50):
        following = response.json().get("next") if response.status_code == 200 else None
        if not following:
            break
        path = following.split("testserver", 1)[-1]
        response = sdr.get(path)
        depth += 1
    for _ in range(args.samples):
        capture(sdr, f"GET my_mqls page {depth + 1}", "GET", path)

    result: dict[str, Any] = {}
    for key, runs in samples.items():
        counts = [len(run) for run in runs]
        times: dict[str, list[float]] = {}
        for run in runs:
            for q in run:
                times.setdefault(_shape(q["sql"]), []).append(float(q["time"]))
        slowest = sorted(times.items(), key=lambda item: -sum(item[1]))[:6]
        result[key] = {
            "statuses": sorted(set(statuses[key])),
            "queries_median": statistics.median(counts),
            "queries_max": max(counts),
            "db_ms_median": round(statistics.median(sum(float(q["time"]) for q in run) for run in runs) * 1000, 1),
            "request_ms_median": round(statistics.median(walls[key]) * 1000, 1),
            "slowest": [{"sql": sql, "calls_per_request": round(len(ts) / len(runs), 1),
                         "ms_per_request": round(sum(ts) / len(runs) * 1000, 2)} for sql, ts in slowest],
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    seed = sub.add_parser("seed", help="bench users, pools, territories; COPY leads up to --leads")
    seed.add_argument("--leads", type=int, default=1_000_000)
    queries = sub.add_parser("queries", help="SQL statements per request, in process")
    queries.add_argument("--samples", type=int, default=5)
    args = parser.parse_args()
    result = cmd_seed(args) if args.command == "seed" else cmd_queries(args)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
