from __future__ import annotations

import pytest

from leads import accounts, services
from leads.models import Account, Activity, Lead, Queue, Status
from opportunities.models import Stage
from routing import facts, pools, rulesets
from routing.models import RoutingDecision, RuleSet, Territory
from sdrcrm.models import Notification, Role
from tests.conftest import pool_of
from tests.factories import AccountFactory, LeadFactory, OpportunityFactory, UserFactory
from tests.routing.conftest import ingest

pytestmark = pytest.mark.django_db


def test_a_lead_matches_its_account_by_email_domain_ignoring_www():
    account = accounts.save_account(Account(), {"name": "Acme Robotics", "domain": "https://www.Acme-Robotics.com/"})
    lead = ingest("jo@acme-robotics.com")
    assert lead.account == account


def test_then_by_normalised_company_name():
    account = accounts.save_account(Account(), {"name": "Globex Corporation", "domain": "globex.io"})
    assert ingest("jo@other.com", company="GLOBEX, Inc.").account == account


def test_the_domain_wins_over_an_older_account_with_the_company_name():
    by_name = accounts.save_account(Account(), {"name": "Initech", "domain": "initech-old.com"})
    by_domain = accounts.save_account(Account(), {"name": "Initrode", "domain": "initech.com"})
    accounts.save_account(Account(), {"name": "Initrode Two", "domain": "initech.com"})  # a younger twin
    assert by_name.pk < by_domain.pk
    assert facts.match_account("jo@initech.com", "Initech") == by_domain
    assert facts.match_account("jo@elsewhere.com", "Initech") == by_name


def test_free_mail_never_matches_an_account():
    accounts.save_account(Account(), {"name": "Gmail", "domain": "gmail.com"})
    assert ingest("jo@gmail.com").account is None


def test_a_lead_takes_its_accounts_segment_and_its_countrys_region():
    accounts.save_account(Account(), {"name": "Big", "domain": "big.com", "employee_count": 5000})
    lead = ingest("a@big.com", employee_count=10, country="DE")
    assert (lead.segment, lead.region) == ("large", "emea")


def test_without_an_account_the_segment_comes_from_the_employee_count():
    lead = ingest("a@small.com", employee_count=40, country="US", state="CA")
    assert (lead.segment, lead.region, lead.sub_region) == ("smb", "amer", "west")


def test_government_in_the_us_is_public_sector():
    assert ingest("a@agency.gov", industry="Government", country="US").segment == "pubsec"


def test_accounts_in_a_hierarchy_take_its_largest_segment():
    parent = accounts.save_account(Account(), {"name": "Parent", "domain": "p.com", "employee_count": 50})
    child = accounts.save_account(Account(), {"name": "Child", "domain": "c.com", "employee_count": 3000,
                                              "parent": parent})
    sibling = accounts.save_account(Account(), {"name": "Sib", "domain": "s.com", "employee_count": 5,
                                                "parent": parent})
    assert {a.segment for a in Account.objects.filter(pk__in=[parent.pk, child.pk, sibling.pk])} == {"large"}


def test_a_lead_below_50_points_is_not_routed():
    lead = ingest("a@acme.com", title="Analyst")
    assert (lead.owner, lead.queue) == (None, None)
    assert not RoutingDecision.objects.exists()


def test_a_lead_created_at_50_points_or_more_is_routed_at_once():
    sdr = UserFactory(role=Role.SDR)
    Territory.objects.create(name="AMER", region="amer", sdr=sdr)
    lead = ingest("a@acme.com", title="Director", country="US")  # 50 + 5
    assert lead.owner == sdr
    decision = RoutingDecision.objects.get(lead=lead)
    assert decision.rule_kind == "territory" and decision.ruleset.version == 1
    assert decision.inputs["region"] == "amer"


def test_a_trial_is_routed_round_robin_in_the_request():
    first, second = UserFactory(role=Role.BDR), UserFactory(role=Role.BDR)
    pool_of("EMEA BDR", first, second)
    owners = []
    for i in range(4):
        lead = ingest(f"t{i}@firm{i}.de", country="DE")
        services.record_activity(lead, "trial_request")
        lead.refresh_from_db()
        owners.append(lead.owner)
        assert lead.status == Status.MQL
    assert owners == [first, second, first, second]
    assert "Next in turn" in RoutingDecision.objects.filter(lead=lead).latest("at").reason


def test_round_robin_skips_unavailable_members_and_honours_weights():
    a, b = UserFactory(role=Role.BDR), UserFactory(role=Role.BDR)
    away = UserFactory(role=Role.BDR, is_available=False)
    pool_of("EMEA BDR", a, b, away, weights={a: 2})
    picks = [pools.next_in_pool("EMEA BDR")[0] for _ in range(9)]
    assert picks.count(a) == 6 and picks.count(b) == 3 and away not in picks


def test_a_pool_with_nobody_available_sends_the_lead_to_unassigned_and_alerts_ops():
    ops = UserFactory(role=Role.OPS)
    pool_of("EMEA BDR", UserFactory(role=Role.BDR, is_available=False))
    lead = ingest("t@firm.de", country="DE")
    services.record_activity(lead, "trial_request")
    lead.refresh_from_db()
    assert (lead.owner, lead.queue.name) == (None, Queue.UNASSIGNED)
    assert Notification.objects.filter(user=ops, lead=lead).exists()


def test_a_lead_in_unassigned_is_routed_again_on_its_next_handraise():
    lead = ingest("t@firm.de", country="DE")
    services.record_activity(lead, "trial_request")  # nobody in the pool yet → Unassigned
    bdr = UserFactory(role=Role.BDR)
    pool_of("EMEA BDR", bdr)
    services.record_activity(lead, "trial_request")
    lead.refresh_from_db()
    assert (lead.owner, lead.queue) == (bdr, None)


def test_an_owned_lead_keeps_its_owner():
    sdr = UserFactory(role=Role.SDR)
    lead = LeadFactory(owner=sdr, email="o@acme.com")
    services.record_activity(lead, "trial_request")
    lead.refresh_from_db()
    assert lead.owner == sdr
    assert not RoutingDecision.objects.exists()


def test_an_smb_lead_at_a_customer_becomes_a_contact_of_the_account():
    ae = UserFactory(role=Role.AE)
    account = accounts.save_account(Account(), {"name": "Cust", "domain": "cust.com", "employee_count": 20,
                                                 "type": "customer", "owner": ae})
    lead = ingest("c@cust.com", title="Director")
    lead.refresh_from_db()
    assert lead.status == Status.QUALIFIED
    contact = lead.converted_to
    assert (contact.account, contact.owner, contact.email) == (account, ae, "c@cust.com")
    assert contact.score == lead.score and contact.score_entries.exists()
    assert Notification.objects.filter(user=ae).exists()


def test_a_second_mql_at_a_domain_goes_to_the_first_mqls_owner():
    sdr = UserFactory(role=Role.SDR)
    LeadFactory(email="first@startup.io", owner=sdr, status=Status.MQL, mql_at="2026-01-01T00:00:00Z")
    lead = ingest("second@startup.io")
    services.record_activity(lead, "contact_request")
    lead.refresh_from_db()
    assert lead.owner == sdr
    assert RoutingDecision.objects.get(lead=lead).rule_kind == "domain_mql"


def test_the_routing_endpoint_explains_the_decision_in_words(api):
    ops = UserFactory(role=Role.OPS)
    sdr = UserFactory(role=Role.SDR)
    Territory.objects.create(name="AMER", region="amer", sdr=sdr)
    lead = ingest("a@acme.com", title="Director", country="US")
    body = api.as_user(ops).get(f"/api/v1/leads/{lead.pk}/routing/").json()
    assert body["decisions"][0]["reason"].startswith("Territory AMER")
    assert body["decisions"][0]["ruleset_version"] == 1
    assert body["decisions"][0]["owner"] == sdr.pk


def test_only_one_rule_set_is_active():
    draft = rulesets.create_draft(by=None)
    rulesets.activate(draft)
    assert list(RuleSet.objects.filter(state=RuleSet.State.ACTIVE).values_list("pk", flat=True)) == [draft.pk]


def test_account_factory_accounts_match_by_domain():
    account = AccountFactory(domain="factory.com")
    assert facts.match_account("x@factory.com", "") == account


def test_activities_for_a_converted_lead_go_to_its_contact(api, integration, ops):
    ae = UserFactory(role=Role.AE)
    accounts.save_account(Account(), {"name": "Cust", "domain": "cust.com", "employee_count": 20,
                                      "type": "customer", "owner": ae})
    lead = ingest("c@cust.com", title="Director")
    lead.refresh_from_db()
    response = api.as_user(integration).post("/api/v1/activities/", {"email": "c@cust.com", "type": "call"},
                                             format="json")
    assert response.status_code == 201
    activity = Activity.objects.get(pk=response.json()["id"])
    assert activity.contact_id == lead.converted_to_id and activity.lead_id is None
    by_id = api.as_user(ops).post("/api/v1/activities/", {"lead": lead.pk, "type": "call"}, format="json")
    assert by_id.status_code == 400 and "converted" in by_id.json()["detail"]


def test_a_lead_keeps_its_email_domain_for_indexed_colleague_lookups():
    lead = ingest("Jo@Startup.IO")
    assert Lead.objects.get(pk=lead.pk).email_domain == "startup.io"


def test_the_migration_backfills_email_domains_of_existing_leads():
    import importlib

    from django.db import connection

    lead = LeadFactory(email="old@legacy.example")
    Lead.objects.filter(pk=lead.pk).update(email_domain="")
    migration = importlib.import_module("leads.migrations.0006_lead_email_domain")

    class Editor:  # the two things backfill uses of a schema editor
        def __init__(self) -> None:
            self.connection = connection

        def execute(self, sql: str) -> None:
            with connection.cursor() as cursor:
                cursor.execute(sql)

    migration.backfill(None, Editor())
    assert Lead.objects.get(pk=lead.pk).email_domain == "legacy.example"


def test_a_lead_at_a_prospect_with_an_open_opportunity_is_recycled_as_evaluating():
    ae = UserFactory(role=Role.AE)
    account = accounts.save_account(Account(), {"name": "Busy", "domain": "busy.com", "owner": ae})
    OpportunityFactory(account=account, owner=ae, stage=Stage.DISCOVERY)
    lead = ingest("new@busy.com")
    services.record_activity(lead, "contact_request")
    lead.refresh_from_db()
    assert (lead.status, lead.status_reason) == (Status.RECYCLE, "evaluating")
    assert RoutingDecision.objects.get(lead=lead).rule_kind == "open_opportunity"
    assert Notification.objects.filter(user=ae, lead=lead).exists()


@pytest.mark.parametrize("stage", [Stage.CLOSED_LOST, Stage.CLOSED_WON, Stage.UNQUALIFIED, Stage.DUPLICATE])
def test_a_closed_opportunity_does_not_recycle_new_leads(stage):
    ae = UserFactory(role=Role.AE)
    account = accounts.save_account(Account(), {"name": "Quiet", "domain": "quiet.com", "owner": ae})
    OpportunityFactory(account=account, owner=ae, stage=stage)
    lead = ingest("new@quiet.com")
    services.record_activity(lead, "contact_request")
    lead.refresh_from_db()
    assert lead.status != Status.RECYCLE
    assert RoutingDecision.objects.get(lead=lead).rule_kind != "open_opportunity"
