"""The per-process configuration cache (sdrcrm.config): read once, seen changed by the
next read after any change, in any process, and never poisoned by a rolled-back or
concurrent change."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from leads.models import BlockedDomain
from routing import facts, pools
from routing.models import Pool, Territory
from scoring import services as scoring
from scoring.models import ScoringRule
from sdrcrm import config
from sdrcrm.models import ConfigStamp
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def points_of(key: str) -> int:
    return next(rule.points for rule in scoring.load_rules() if rule.key == key)


def test_a_second_read_costs_one_token_query_and_no_rule_query(django_assert_num_queries):
    scoring.load_rules()
    with django_assert_num_queries(1):  # the token
        scoring.load_rules()


def test_a_saved_rule_is_seen_by_the_next_read():
    rule = ScoringRule.objects.get(key="activity-trial-request")
    before = points_of(rule.key)
    rule.points = before + 7
    rule.save()
    assert points_of(rule.key) == before + 7


def test_a_change_in_another_process_is_seen_through_the_token():
    rule = ScoringRule.objects.get(key="activity-trial-request")
    before = points_of(rule.key)
    # Another process writes the row and the token; this process's cache knows neither.
    ScoringRule.objects.filter(pk=rule.pk).update(points=before + 3)
    assert points_of(rule.key) == before  # no signal, no new token: still cached
    ConfigStamp.objects.filter(pk=1).update(token="another-process-token")
    assert points_of(rule.key) == before + 3


def test_a_rolled_back_change_leaves_the_cache_right():
    rule = ScoringRule.objects.get(key="activity-trial-request")
    before = points_of(rule.key)
    with pytest.raises(RuntimeError), transaction.atomic():
        rule.points = before + 11
        rule.save()
        assert points_of(rule.key) == before + 11  # the change is visible to its own transaction
        raise RuntimeError("rolled back")
    assert points_of(rule.key) == before


def test_a_change_committed_while_loading_is_not_cached_under_the_old_token():
    rule = ScoringRule.objects.get(key="activity-trial-request")
    before = points_of(rule.key)
    real_loader = config.LOADERS["scoring_rules"]

    def loader_racing_a_change():
        rules = real_loader()  # read before the change...
        ScoringRule.objects.filter(pk=rule.pk).update(points=before + 5)
        config.changed()  # ...which commits with its token while we load
        return rules

    config.ConfigStamp.objects.filter(pk=1).update(token="forces-a-load")
    config.LOADERS["scoring_rules"] = loader_racing_a_change
    try:
        assert points_of(rule.key) == before  # this read got the old rows
    finally:
        config.LOADERS["scoring_rules"] = real_loader
    assert points_of(rule.key) == before + 5  # ...but did not keep them


def test_a_pinned_unit_of_work_keeps_its_view_but_sees_its_own_changes():
    rule = ScoringRule.objects.get(key="activity-trial-request")
    before = points_of(rule.key)
    with config.pinned():
        assert points_of(rule.key) == before
        ScoringRule.objects.filter(pk=rule.pk).update(points=before + 2)
        ConfigStamp.objects.filter(pk=1).update(token="someone-else-changed-it")
        assert points_of(rule.key) == before  # the token is read once per request
        rule.points = before + 4
        rule.save()  # our own change unpins
        assert points_of(rule.key) == before + 4
    assert points_of(rule.key) == before + 4


def test_territories_pools_and_queues_are_watched():
    sdr = UserFactory(role="sdr", region="emea")
    assert not [t for t in facts.territory_facts("emea") if t.name == "DACH"]
    territory = Territory.objects.create(name="DACH", region="emea", countries="DE,AT,CH", sdr=sdr)
    assert [t.sdr_id for t in facts.territory_facts("emea") if t.name == "DACH"] == [sdr.pk]
    territory.delete()
    assert not [t for t in facts.territory_facts("emea") if t.name == "DACH"]
    pool = Pool.objects.get(name="EMEA BDR")
    assert pools.pool_id("EMEA BDR") == pool.pk
    pool.name = "EMEA BDR (renamed)"
    pool.save()
    assert pools.pool_id("EMEA BDR") is None and pools.pool_id("EMEA BDR (renamed)") == pool.pk
    queue = pools.queue_named("Unassigned")
    queue.name = "Unassigned (renamed)"
    queue.save()
    with pytest.raises(pools.Queue.DoesNotExist):
        pools.queue_named("Unassigned")


def test_without_the_stamp_row_nothing_is_cached(django_assert_num_queries):
    ConfigStamp.objects.all().delete()
    scoring.load_rules()
    with django_assert_num_queries(2):  # the token, then the rules again
        scoring.load_rules()


def test_a_migration_changes_the_token():
    # A data migration writes rules without signals; processes must not keep the old ones.
    config.changed()
    before = ConfigStamp.objects.get(pk=1).token
    call_command("migrate", verbosity=0)
    assert ConfigStamp.objects.get(pk=1).token != before


def token_reads(queries) -> int:
    return sum(q["sql"].startswith("SELECT token FROM sdrcrm_configstamp") for q in queries.captured_queries)


def test_an_ingest_reads_the_token_with_its_first_statement_and_sees_a_change(api, integration):
    client = api.as_user(integration)
    lead = {"last_name": "Lee", "initial_source": "trial_saas", "country": "US"}

    def ingest(email: str) -> None:  # a new lead, its activity, then an update of it
        assert client.post("/api/v1/leads/", {**lead, "email": email}).status_code == 201
        assert client.post("/api/v1/activities/", {"email": email, "type": "trial_request"}).status_code == 201
        assert client.post("/api/v1/leads/", {**lead, "email": email, "title": "VP Sales"}).status_code == 200

    ingest("ann@acme-pin.example")  # the token's user and the configuration cached
    with CaptureQueriesContext(connection) as queries:
        ingest("bo@acme-pin.example")
    assert token_reads(queries) == 0
    assert sum("FROM sdrcrm_configstamp WHERE id = 1" in q["sql"] for q in queries.captured_queries) == 3

    # A change between two requests is seen by the next one: ops block the domain.
    BlockedDomain.objects.create(domain="acme-pin.example")
    refused = client.post("/api/v1/leads/", {**lead, "email": "cy@acme-pin.example"})
    assert refused.status_code == 400 and "block list" in refused.json()["detail"]
