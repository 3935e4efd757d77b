from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from leads import accounts, services
from leads.models import Account, Lead
from opportunities.models import Stage
from routing import rulesets
from routing.models import PoolMember, RoutingDecision, RoutingRule, RuleSet, Territory
from routing.replay import replay
from sdrcrm.models import Role
from tests.conftest import pool_of
from tests.factories import LeadFactory, OpportunityFactory, UserFactory
from tests.routing.conftest import ingest

pytestmark = pytest.mark.django_db


@pytest.fixture
def routed():
    sdr = UserFactory(role=Role.SDR)
    bdr = UserFactory(role=Role.BDR)
    Territory.objects.create(name="AMER", region="amer", sdr=sdr)
    pool_of("EMEA BDR", bdr)
    ingest("a@one.com", title="Director", country="US")
    ingest("b@two.com", title="Director", country="US")
    trial = ingest("c@three.de", country="DE")
    services.record_activity(trial, "trial_request")
    return sdr, bdr


def snapshot() -> tuple:
    return (
        sorted(Lead.objects.values_list("pk", "owner_id", "queue_id", "status", "score")),
        RoutingDecision.objects.count(),
        sorted(PoolMember.objects.values_list("pk", "credit", "assigned")),
    )


def test_replay_reports_per_rule_and_destination_what_would_change(api, ops, routed):
    sdr, _ = routed
    draft = rulesets.create_draft(by=ops)
    RoutingRule.objects.filter(ruleset=draft, kind="territory").update(enabled=False)
    before = snapshot()
    now = timezone.now()

    response = api.as_user(ops).post(f"/api/v1/routing/rules/{draft.pk}/replay/",
                                     {"start": (now - timedelta(hours=1)).isoformat(),
                                      "end": (now + timedelta(hours=1)).isoformat()}, format="json")

    assert response.status_code == 200
    report = response.json()
    assert (report["leads"], report["changed"]) == (3, 2)
    by_rule = {row["key"]: (row["would"], row["did"]) for row in report["by_rule"]}
    assert by_rule == {"territory": (0, 2), "none": (2, 0), "trial": (1, 1)}
    by_destination = {row["key"]: (row["would"], row["did"]) for row in report["by_destination"]}
    assert by_destination == {f"user:{sdr.pk}": (0, 2), "queue:Unassigned": (2, 0), "pool:EMEA BDR": (1, 1)}
    assert snapshot() == before  # a replay changes nothing
    assert RuleSet.objects.get(pk=draft.pk).state == RuleSet.State.DRAFT


def test_replay_only_covers_the_date_range(api, ops, routed):
    draft = rulesets.create_draft(by=ops)
    past = timezone.now() - timedelta(days=30)
    response = api.as_user(ops).post(f"/api/v1/routing/rules/{draft.pk}/replay/",
                                     {"start": (past - timedelta(days=1)).isoformat(), "end": past.isoformat()},
                                     format="json")
    assert response.json()["leads"] == 0


def test_replay_needs_an_ordered_range(api, ops):
    draft = rulesets.create_draft(by=ops)
    now = timezone.now().isoformat()
    response = api.as_user(ops).post(f"/api/v1/routing/rules/{draft.pk}/replay/", {"start": now, "end": now},
                                     format="json")
    assert response.status_code == 400 and "end" in response.json()["errors"]


def test_replay_sees_open_opportunities_without_a_query_per_lead(ops, routed, django_assert_max_num_queries):
    ae = UserFactory(role=Role.AE)
    account = accounts.save_account(Account(), {"name": "Busy", "domain": "busy.com", "owner": ae})
    OpportunityFactory(account=account, owner=ae, stage=Stage.SCOPING)
    for n in range(5):
        ingest(f"p{n}@busy.com", title="Director", country="US")
    draft = rulesets.create_draft(by=ops)
    now = timezone.now()

    with django_assert_max_num_queries(8):
        report = replay(draft, now - timedelta(hours=1), now + timedelta(hours=1))

    assert report.would_by_rule["open_opportunity"] == 5


def test_replay_reads_domain_colleagues_once_per_chunk_not_per_lead(ops, routed, django_assert_max_num_queries):
    owner = UserFactory(role=Role.SDR)
    for n in range(2):  # owned MQLs the new leads at their domains would follow (rule 4)
        LeadFactory(email=f"first{n}@startup{n}.io", owner=owner, status="mql", mql_at=timezone.now())
    for n in range(6):
        ingest(f"p{n}@startup{n % 2}.io", country="US")
    draft = rulesets.create_draft(by=ops)
    now = timezone.now()

    with django_assert_max_num_queries(8):
        report = replay(draft, now - timedelta(hours=1), now + timedelta(hours=1))

    assert report.would_by_rule["domain_mql"] == 6
