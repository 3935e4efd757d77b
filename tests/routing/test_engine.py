"""Each of the ten default routing rules, through the pure engine (no database)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from routing import engine
from routing.engine import AccountFacts, DomainLead, Facts, Rule

RULES = [Rule(position=i, kind=kind) for i, kind in enumerate(engine.CHECKS, 1)]
T1 = datetime(2026, 10, 1, tzinfo=UTC)
T2 = datetime(2026, 11, 1, tzinfo=UTC)


def facts(**overrides) -> Facts:
    base = dict(lead_id=1, segment="mid_market", region="amer", sub_region="east", country="US", pubsec=False,
                request="", domain="acme.com")
    return Facts(**{**base, **overrides})


def account(**overrides) -> AccountFacts:
    base = dict(id=7, name="Acme", type="prospect", owner_id=70, bdr_assigned_id=None,
                prospecting_status="not_working")
    return AccountFacts(**{**base, **overrides})


def test_rule_1_an_actively_worked_account_goes_to_its_bdr():
    d = engine.decide(facts(account=account(bdr_assigned_id=11, prospecting_status="actively_working"),
                            request="trial_request"), RULES)
    assert (d.rule.kind, d.action, d.owner_id) == ("account_bdr", "owner", 11)
    assert "actively worked" in d.reason


def test_rule_1_needs_the_account_to_be_actively_worked():
    d = engine.decide(facts(account=account(bdr_assigned_id=11), request="trial_request"), RULES)
    assert d.rule.kind != "account_bdr"


def test_rule_2_an_smb_lead_at_a_customer_becomes_a_contact_for_the_account_owner():
    d = engine.decide(facts(segment="smb", account=account(type="customer")), RULES)
    assert (d.rule.kind, d.action, d.owner_id, d.notify) == ("customer_smb", "convert", 70, ("account_owner",))


def test_rule_2_is_only_for_smb_leads():
    d = engine.decide(facts(segment="large", account=account(type="customer")), RULES)
    assert d.rule.kind != "customer_smb"


def test_rule_3_an_open_opportunity_recycles_the_lead_and_tells_the_owner():
    d = engine.decide(facts(account=account(has_open_opportunity=True)), RULES)
    assert (d.rule.kind, d.action, d.notify) == ("open_opportunity", "recycle", ("account_owner",))


def test_rule_3_does_not_apply_to_customers():
    d = engine.decide(facts(segment="large", account=account(type="customer", has_open_opportunity=True)), RULES)
    assert d.rule.kind != "open_opportunity"


def test_rule_4_another_mql_at_the_domain_sends_it_to_the_earliest_mqls_owner():
    domain_leads = [DomainLead(2, owner_id=21, status="mql", mql_at=T2), DomainLead(3, owner_id=31, status="mql",
                                                                                    mql_at=T1)]
    d = engine.decide(facts(domain_leads=domain_leads, request="contact_request"), RULES)
    assert (d.rule.kind, d.owner_id) == ("domain_mql", 31)
    assert "acme.com" in d.reason and "earliest MQL" in d.reason


def test_rule_4_and_5_need_no_matched_account():
    domain_leads = [DomainLead(2, owner_id=21, status="mql", mql_at=T1)]
    d = engine.decide(facts(account=account(), domain_leads=domain_leads), RULES)
    assert d.rule.kind not in ("domain_mql", "domain_working")


def test_rule_5_a_lead_being_worked_at_the_domain_gives_the_new_one_the_same_owner():
    d = engine.decide(facts(domain_leads=[DomainLead(4, owner_id=41, status="qualifying", mql_at=None)]), RULES)
    assert (d.rule.kind, d.owner_id) == ("domain_working", 41)


def test_rule_6_professional_services_goes_to_the_account_sal_with_notifications():
    d = engine.decide(facts(request="professional_services_request", account=account()), RULES)
    assert (d.rule.kind, d.owner_id) == ("professional_services", 70)
    assert set(d.notify) == {"account_owner", "sdr", "csm"}


def test_rule_6_without_an_account_goes_to_the_regional_bdr_pool():
    d = engine.decide(facts(request="professional_services_request", region="emea", country="DE"), RULES)
    assert (d.rule.kind, d.action, d.pool) == ("professional_services", "pool", "EMEA BDR")


@pytest.mark.parametrize(
    ("region", "country", "pubsec", "segment", "pool"),
    [("emea", "DE", False, "large", "EMEA BDR"), ("amer", "US", False, "smb", "US/APAC BDR"),
     ("apac", "JP", False, "unknown", "US/APAC BDR"), ("amer", "US", True, "large", "US/APAC BDR")],
)
def test_rule_7_trials_go_to_the_regional_bdr_round_robin_whatever_the_segment(region, country, pubsec, segment,
                                                                                 pool):
    d = engine.decide(facts(request="trial_request", region=region, country=country, pubsec=pubsec,
                            segment=segment), RULES)
    assert (d.rule.kind, d.action, d.pool) == ("trial", "pool", pool)


@pytest.mark.parametrize(
    ("segment", "region", "pubsec", "pool"),
    [("large", "emea", False, "EMEA BDR"), ("mid_market", "amer", False, "US/APAC BDR"),
     ("smb", "emea", False, "Customer Advocate EMEA"), ("smb", "apac", False, "Customer Advocate APAC"),
     ("unknown", "amer", False, "BDR Prequalification"), ("large", "amer", True, "PubSec SDR")],
)
def test_rule_8_contact_requests_go_to_a_pool_by_segment(segment, region, pubsec, pool):
    d = engine.decide(facts(request="contact_request", segment=segment, region=region, pubsec=pubsec), RULES)
    assert (d.rule.kind, d.pool) == ("contact_request", pool)


def test_rule_9_a_named_account_goes_to_the_sdr_paired_with_its_sal():
    d = engine.decide(facts(account=account(is_named=True, paired_sdr_id=91)), RULES)
    assert (d.rule.kind, d.owner_id) == ("named_or_abm", 91)


@pytest.mark.parametrize("tier", [1, 2])
def test_rule_9_abm_accounts_go_to_the_abm_sdr(tier):
    d = engine.decide(facts(account=account(abm_tier=tier)), RULES)
    assert (d.rule.kind, d.pool) == ("named_or_abm", "ABM SDR")


def test_rule_10_the_territory_sdr_gets_the_rest():
    d = engine.decide(facts(territory_sdr_id=101, territory_name="AMER East MM"), RULES)
    assert (d.rule.kind, d.owner_id) == ("territory", 101)
    assert "AMER East MM" in d.reason


def test_rule_10_without_a_territory_goes_to_unassigned_and_alerts_ops():
    d = engine.decide(facts(), RULES)
    assert (d.rule.kind, d.action, d.queue, d.notify) == ("territory", "queue", "Unassigned", ("ops",))


def test_the_first_matching_rule_decides_and_disabled_rules_are_skipped():
    both = facts(request="trial_request", account=account(bdr_assigned_id=11, prospecting_status="actively_working"))
    assert engine.decide(both, RULES).rule.kind == "account_bdr"
    without_first = [Rule(r.position, r.kind, enabled=r.kind != "account_bdr") for r in RULES]
    assert engine.decide(both, without_first).rule.kind == "trial"


def test_params_re_point_a_pool_in_a_rule_set():
    rules = [Rule(1, "trial", params={"pools": {"emea": "EMEA Trials"}})]
    assert engine.decide(facts(request="trial_request", region="emea"), rules).pool == "EMEA Trials"


def test_no_rules_at_all_still_lands_in_unassigned():
    d = engine.decide(facts(), [])
    assert (d.action, d.queue, d.rule) == ("queue", "Unassigned", None)


T = engine.TerritoryFacts


def test_the_most_specific_territory_wins():
    territories = [
        T(1, "AMER all", "amer", "", (), "", 1),
        T(2, "AMER East", "amer", "east", (), "", 2),
        T(3, "AMER East MM", "amer", "east", (), "mid_market", 3),
        T(4, "Brazil", "amer", "", ("BR",), "", 4),
    ]
    assert engine.pick_territory(territories, "amer", "east", "US", "mid_market").id == 3
    assert engine.pick_territory(territories, "amer", "east", "US", "large").id == 2
    assert engine.pick_territory(territories, "amer", "west", "US", "large").id == 1
    assert engine.pick_territory(territories, "amer", "latam", "BR", "smb").id == 4
    assert engine.pick_territory(territories, "emea", "", "DE", "smb") is None


def test_the_engine_decides_only_actions_the_decision_log_stores():
    from routing.models import RoutingDecision

    assert set(engine.ACTIONS) == set(RoutingDecision.Action.values)
