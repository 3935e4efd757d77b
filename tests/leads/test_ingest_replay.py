"""Issue 18: ingest may get cheaper, never different. A recorded set of single-ingest
requests (`POST leads/`, `POST activities/`) is replayed and compared with the golden file
recorded from the code before the work began: each answer's status and body, and every
record the requests leave (the leads, their activities, the score ledger, the status and
field history, the routing decisions, the webhook outbox).

Only what must vary is normalised: database ids become stable names (a lead by its email,
a user by username, an activity by its order of creation…), and the clock is frozen (one
second more for each request), so timestamps and SLA due dates are the same on every run.

To record the golden file again, deliberately (a rule change that is meant to change the
answers), run this test with RECORD_GOLDEN=1 and review the diff of
tests/leads/golden/ingest_replay.json like code.
"""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from leads.models import Account, Activity, Contact, Lead, Queue, StatusChange
from opportunities.models import Opportunity
from routing.models import Pool, PoolMember, RoutingDecision, RuleSet, Territory
from scoring.models import ScoreEntry
from sdrcrm.models import FieldChange, Region, Role, User, WebhookDelivery, WebhookEndpoint
from tests.factories import AccountFactory, OpportunityFactory, UserFactory

pytestmark = pytest.mark.django_db

GOLDEN = Path(__file__).parent / "golden" / "ingest_replay.json"
RECORD = os.environ.get("RECORD_GOLDEN") == "1"
# A Wednesday, mid-morning UTC: business hours in every region's SLA calendar.
START = datetime(2026, 3, 4, 9, 30, tzinfo=UTC)

LEADS, ACTIVITIES = "/api/v1/leads/", "/api/v1/activities/"
# (who, path, body): who is "integration" (the benchmark's client) or "ops" (who reads every
# lead, so the answer is the full representation rather than a receipt).
REQUESTS: list[tuple[str, str, Any]] = [
    # A new lead below the routing threshold (junior title, free mail): stays raw and unowned.
    ("integration", LEADS, {"email": "dev.one@gmail.com", "first_name": "dev", "last_name": "ONE",
                            "title": "Developer", "country": "DE", "initial_source": "trial_saas"}),
    # Above the threshold (senior title at a company domain), no request: the territory's SDR.
    ("integration", LEADS, {"email": "vp.amer@initech.com", "first_name": "Vera", "last_name": "Park",
                            "title": "VP Engineering", "company": "Initech", "country": "US", "state": "CA",
                            "employee_count": 400, "initial_source": "webcast"}),
    # Above the threshold, seen by ops: the full answer; EMEA has no territory (Unassigned, ops alerted).
    ("ops", LEADS, {"email": "head.emea@globex.de", "first_name": "Hans", "last_name": "Berg",
                    "title": "Head of Platform", "company": "Globex", "country": "DE", "employee_count": 2500,
                    "initial_source": "contact_request"}),
    # New leads that a trial and a contact request will take over the MQL threshold.
    ("integration", LEADS, {"email": "trial.de@hooli.de", "first_name": "Tina", "last_name": "Roth",
                            "title": "Software Engineer", "company": "Hooli", "country": "DE",
                            "employee_count": 1200, "initial_source": "trial_saas"}),
    ("ops", LEADS, {"email": "contact.us@wonka.com", "first_name": "Carl", "last_name": "Ames", "title": "",
                    "company": "Wonka", "country": "US", "state": "NY", "employee_count": 8000,
                    "initial_source": "contact_request"}),
    # A behaviour that scores but crosses nothing, then the trial: MQL, and the EMEA BDR pool's turn.
    ("integration", ACTIVITIES, {"email": "trial.de@hooli.de", "type": "pricing_page_visit"}),
    ("integration", ACTIVITIES, {"email": "trial.de@hooli.de", "type": "trial_request",
                                 "details": {"trial_end": "2026-04-03"}}),
    # A contact request: MQL, routed to the US/APAC BDR pool, the SLA clock started.
    ("ops", ACTIVITIES, {"email": "contact.us@wonka.com", "type": "contact_request", "source_system": "mkto",
                         "external_id": "mkto-1"}),
    # The same activity sent again: answered 200, counted once.
    ("ops", ACTIVITIES, {"email": "contact.us@wonka.com", "type": "contact_request", "source_system": "mkto",
                         "external_id": "mkto-1"}),
    # A follow-up touch stops the SLA clock.
    ("ops", ACTIVITIES, {"email": "contact.us@wonka.com", "type": "call", "details": {"outcome": "connected"}}),
    # An update of a known email: field history, the latest source, a re-score.
    ("integration", LEADS, {"email": "DEV.ONE@gmail.com", "title": "Engineering Manager", "phone": "+49 30 1234",
                            "initial_source": "webcast"}),
    ("ops", LEADS, {"email": "vp.amer@initech.com", "title": "CTO", "city": "San Jose"}),
    # Behaviour in the past, by date, and repeats that count once a day.
    ("integration", ACTIVITIES, {"email": "dev.one@gmail.com", "type": "features_page_visit",
                                 "occurred_at": "2026-03-01T12:00:00Z"}),
    ("integration", ACTIVITIES, {"email": "dev.one@gmail.com", "type": "features_page_visit",
                                 "occurred_at": "2026-03-01T15:00:00Z"}),
    ("integration", ACTIVITIES, {"email": "dev.one@gmail.com", "type": "webcast_attended_high_intent"}),
    # An unsubscribe: opted out, unqualified.
    ("ops", ACTIVITIES, {"email": "head.emea@globex.de", "type": "email_unsubscribe"}),
    # A colleague at the MQL's domain: rule 4 gives it the same owner.
    ("integration", LEADS, {"email": "second@hooli.de", "first_name": "Sam", "last_name": "Holt",
                            "title": "Director of IT", "company": "Hooli", "country": "DE",
                            "employee_count": 1200, "initial_source": "trial_saas"}),
    ("integration", ACTIVITIES, {"email": "second@hooli.de", "type": "trial_request"}),
    # Someone else's lead, by email: a receipt for the update, "accepted" for the activity.
    ("integration", LEADS, {"email": "head.emea@globex.de", "industry": "Software", "initial_source": "webcast"}),
    ("integration", ACTIVITIES, {"email": "contact.us@wonka.com", "type": "gated_asset_download"}),
    # Leads at known accounts: one with an open opportunity (rule 3: recycle), one a BDR works (rule 1),
    # then handraises on each, which route from the account the lead is linked to.
    ("integration", LEADS, {"email": "cto@acmecorp.com", "first_name": "Ada", "last_name": "Cole",
                            "title": "Senior Architect", "company": "Acme", "country": "US", "state": "TX",
                            "initial_source": "webcast"}),
    ("integration", LEADS, {"email": "ops@umbrella.com", "first_name": "Uma", "last_name": "Reed",
                            "title": "Analyst", "company": "Umbrella", "country": "US", "state": "WA",
                            "initial_source": "trial_saas"}),
    ("integration", ACTIVITIES, {"email": "ops@umbrella.com", "type": "trial_request"}),
    ("integration", ACTIVITIES, {"email": "cto@acmecorp.com", "type": "contact_request"}),
    # Refused: a new lead without its initial source, a bad email, an unknown type, nobody by that email.
    ("integration", LEADS, {"email": "nosource@acme.com", "last_name": "Nobody"}),
    ("integration", LEADS, {"email": "not-an-email", "last_name": "X", "initial_source": "webcast"}),
    ("integration", ACTIVITIES, {"email": "dev.one@gmail.com", "type": "telepathy"}),
    ("integration", ACTIVITIES, {"email": "nobody@nowhere.com", "type": "trial_request"}),
    ("integration", LEADS, {"email": "spam@mailinator.com", "last_name": "Spam", "initial_source": "webcast"}),
]


class Names:
    """Stable names for database ids: what a row is, not where the sequence stood."""

    def __init__(self) -> None:
        activities = Activity.objects.order_by("pk").values_list("pk", flat=True)
        self.by_model: dict[type[models.Model], dict[Any, str]] = {
            Lead: dict(Lead.all_objects.values_list("pk", "email")),
            Contact: dict(Contact.objects.values_list("pk", "email")),
            User: dict(User.objects.values_list("pk", "username")),
            Queue: dict(Queue.objects.values_list("pk", "name")),
            Pool: dict(Pool.objects.values_list("pk", "name")),
            Account: dict(Account.objects.values_list("pk", "name")),
            Territory: dict(Territory.objects.values_list("pk", "name")),
            RuleSet: {pk: f"ruleset v{version}" for pk, version in RuleSet.objects.values_list("pk", "version")},
            Activity: {pk: f"activity {n}" for n, pk in enumerate(activities, 1)},
            Opportunity: dict(Opportunity.all_objects.values_list("pk", "name")),
            WebhookEndpoint: dict(WebhookEndpoint.objects.values_list("pk", "url")),
        }

    def of(self, model: type[models.Model], pk: Any) -> Any:
        if pk is None:
            return None
        return f"{model.__name__.lower()}:{self.by_model[model][pk]}"

    def row(self, obj: models.Model, skip: tuple[str, ...] = ()) -> dict[str, Any]:
        """Every concrete field of `obj`; foreign keys (and the primary key of a named
        model) by name, the rest as JSON would say it."""
        values: dict[str, Any] = {}
        for field in obj._meta.concrete_fields:
            if field.name in skip:
                continue
            value = getattr(obj, field.attname)
            if field.is_relation:
                value = self.of(field.related_model, value)
            elif field.primary_key:
                if type(obj) not in self.by_model:
                    continue  # an unnamed row: its order of creation says enough
                value = self.of(type(obj), value)
            values[field.name] = value
        return values


# What the ids in an answer's body refer to, by key.
BODY_IDS: dict[str, dict[str, type[models.Model]]] = {
    LEADS: {"id": Lead, "owner": User, "queue": Queue, "account": Account, "matched_account": Account,
            "created_by": User, "converted_to": Contact},
    ACTIVITIES: {"id": Activity, "lead": Lead, "contact": Contact, "created_by": User},
}


def body_of(names: Names, path: str, body: Any) -> Any:
    if isinstance(body, dict):
        return {key: names.of(BODY_IDS[path][key], value) if key in BODY_IDS[path] and isinstance(value, int)
                else body_of(names, path, value) for key, value in body.items()}
    if isinstance(body, list):
        return [body_of(names, path, value) for value in body]
    return body


def payload_of(names: Names, payload: dict[str, Any]) -> dict[str, Any]:
    """A webhook event's data: the lead's id, and owners as ids or {id, username, email}."""
    out = dict(payload)
    out["id"] = names.of(Lead, payload["id"])
    for key in ("owner", "old", "new"):
        value = payload.get(key)
        if isinstance(value, int):
            out[key] = names.of(User, value)
        elif isinstance(value, dict):
            out[key] = {**value, "id": names.of(User, value["id"])}
    if isinstance(payload.get("queue"), int):
        out["queue"] = names.of(Queue, payload["queue"])
    return out


def records(names: Names) -> dict[str, Any]:
    """Every row the replay leaves, in the order it was written."""
    decisions = []
    for d in RoutingDecision.objects.order_by("pk"):
        row = names.row(d)
        row["candidates"] = [names.of(User, pk) for pk in d.candidates]
        # A reason may name another lead by its id (rule 4: "the earliest MQL (lead 4, …)").
        row["reason"] = re.sub(r"\blead (\d+)", lambda m: names.of(Lead, int(m.group(1))), d.reason)
        decisions.append(row)
    events = []  # in the order written: an event's id is a UUID, its deliveries' ids follow the sequence
    for delivery in WebhookDelivery.objects.select_related("event").order_by("pk"):
        event = delivery.event
        events.append({"kind": event.kind, "payload": payload_of(names, event.payload), "created_at": event.created_at,
                       "delivery": names.row(delivery, skip=("event",))})
    return {
        "leads": [names.row(lead) for lead in Lead.all_objects.order_by("pk")],
        "activities": [names.row(activity) for activity in Activity.objects.order_by("pk")],
        # One rescore writes its rows in one INSERT, in the order of a set: sorted here.
        "ledger": sorted((names.row(entry) for entry in ScoreEntry.objects.all()),
                         key=lambda row: (row["at"], row["lead"], row["rule_key"], row["activity"] or "")),
        "status_history": [names.row(change) for change in StatusChange.objects.order_by("pk")],
        "field_history": [{**names.row(change, skip=("record_id",)),
                           "record_id": names.of(Lead, change.record_id)}
                          for change in FieldChange.objects.filter(record="lead").order_by("pk")],
        "routing_decisions": decisions,
        "webhook_outbox": events,
    }


def replay(api) -> dict[str, Any]:
    clock = [START]
    with mock.patch("django.utils.timezone.now", side_effect=lambda: clock[0]):
        team = _setup()
        users = {"integration": UserFactory(username="marketing-sync", first_name="Marketing", last_name="Sync",
                                            role=Role.INTEGRATION),
                 "ops": UserFactory(username="ops-olga", first_name="Olga", last_name="Ops", role=Role.OPS)}
        answers = []
        for who, path, body in REQUESTS:
            clock[0] += timedelta(seconds=1)
            response = api.as_user(users[who]).post(path, body, format="json")
            answers.append((who, path, body, response.status_code, response.json()))
        assert team  # the prospectors are in it
    names = Names()
    return {
        "answers": [{"as": who, "request": f"POST {path}", "body": body, "status": status,
                     "answer": body_of(names, path, answer)} for who, path, body, status, answer in answers],
        "records": records(names),
    }


def _setup() -> object:
    """The prospectors, pools, a territory and a webhook endpoint the replay routes to."""
    from tests.factories import TeamFactory

    team = TeamFactory(name="Replay team")
    prospectors = {}
    for username, first, role, region in [("bdr-emea-1", "Emil", Role.BDR, Region.EMEA),
                                          ("bdr-emea-2", "Elsa", Role.BDR, Region.EMEA),
                                          ("bdr-amer-1", "Abe", Role.BDR, Region.AMER),
                                          ("sdr-amer-1", "Sue", Role.SDR, Region.AMER)]:
        prospectors[username] = UserFactory(username=username, first_name=first, last_name="Replay", role=role,
                                            region=region, team=team)
    for pool, members in [("EMEA BDR", ["bdr-emea-1", "bdr-emea-2"]), ("US/APAC BDR", ["bdr-amer-1"])]:
        for position, username in enumerate(members):
            PoolMember.objects.create(pool=Pool.objects.get(name=pool), user=prospectors[username],
                                      position=position)
    Territory.objects.create(name="AMER", region="amer", sdr=prospectors["sdr-amer-1"])
    seller = UserFactory(username="ae-alice", first_name="Alice", last_name="Seller", role=Role.AE)
    acme = AccountFactory(name="Acme", domain="acmecorp.com", owner=seller, employee_count=900)
    OpportunityFactory(name="Acme renewal", account=acme, owner=seller, sdr=prospectors["sdr-amer-1"])
    AccountFactory(name="Umbrella", domain="umbrella.com", owner=seller, employee_count=5000,
                   bdr_assigned=prospectors["bdr-amer-1"], bdr_prospecting_status="actively_working")
    WebhookEndpoint.objects.create(url="https://hooks.example.com/crm", secret="s" * 32,
                                   events=["lead.created", "lead.status_changed", "lead.assigned"])
    return team


def as_json(value: Any) -> Any:
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def test_single_ingest_answers_and_records_match_the_golden_file(api):
    got = as_json(replay(api))
    if RECORD:
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(got, indent=1, ensure_ascii=False, sort_keys=True) + "\n")
        pytest.skip(f"recorded {GOLDEN.name} (RECORD_GOLDEN=1): review its diff before committing")
    golden = json.loads(GOLDEN.read_text())
    # Compared part by part, so a failure names what changed.
    for n, (expected, actual) in enumerate(zip(golden["answers"], got["answers"], strict=True)):
        assert actual == expected, f"answer {n} ({expected['request']} {expected['body']}) changed"
    for part, expected in golden["records"].items():
        assert got["records"][part] == expected, f"the {part} changed"
    assert got == golden
