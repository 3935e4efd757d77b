"""The routing ops pages: rule sets (draft from the active one, edit in a form, replay,
activate) and pools (members, weights, availability); ops only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leads import services
from routing import rulesets
from routing.models import Pool, PoolMember, RoutingRule, RuleSet
from sdrcrm.models import Role
from tests.conftest import pool_of
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def draft_of(client) -> RuleSet:
    response = client.post("/routing/rules/new/")
    draft = RuleSet.objects.get(state="draft")
    assert response.url == f"/routing/rules/{draft.pk}/"
    return draft


def form_of(ruleset: RuleSet, **changes) -> dict[str, str]:
    """The draft's form as the page sends it, with `changes` (field name: value)."""
    data = {"note": "test"}
    for rule in ruleset.rules.all():
        data[f"rule-{rule.pk}-position"] = str(rule.position)
        data[f"rule-{rule.pk}-label"] = rule.label
        if rule.enabled:
            data[f"rule-{rule.pk}-enabled"] = "on"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_ops_make_a_draft_copy_of_the_active_rules(client, ops):
    active = RuleSet.objects.get(state="active")
    client.force_login(ops)

    draft = draft_of(client)
    page = client.get(f"/routing/rules/{draft.pk}/").content.decode()
    listing = client.get("/routing/rules/").content.decode()
    assert f"v{active.version}" in listing and f"v{draft.version}" in listing
    assert (ops.get_full_name() or ops.username) in listing and "the seed" in listing

    assert sorted(draft.rules.values_list("kind", "position")) == sorted(active.rules.values_list("kind", "position"))
    assert "Save the draft" in page and f"Activate v{draft.version}" in page
    assert "EMEA BDR" in page  # the trial rule's pools, as choices


def test_a_draft_saved_from_the_form_moves_disables_and_repoints_its_rules(client, ops):
    client.force_login(ops)
    draft = draft_of(client)
    trial = draft.rules.get(kind="trial")
    territory = draft.rules.get(kind="territory")

    client.post(f"/routing/rules/{draft.pk}/", form_of(draft, **{
        f"rule-{territory.pk}-enabled": None, f"rule-{trial.pk}-param-pools.emea": "ABM SDR",
        f"rule-{trial.pk}-position": "95"}))

    trial = draft.rules.get(kind="trial")  # the rules are written again
    assert trial.position == 95 and trial.params["pools"]["emea"] == "ABM SDR"
    assert trial.params["pools"]["amer"] == "US/APAC BDR"  # the others kept
    assert draft.rules.get(kind="territory").enabled is False
    assert RuleSet.objects.get(pk=draft.pk).note == "test"


@pytest.mark.parametrize(("change", "message"), [
    ("position-clash", "Two rules share a position."),
    ("missing-pool", "names the pool &#x27;Nowhere&#x27;, which does not exist"),
    ("bad-position", "position is a whole number"),
])
def test_a_draft_that_breaks_a_rule_is_not_saved_and_says_why(client, ops, change, message):
    client.force_login(ops)
    draft = draft_of(client)
    first, second = draft.rules.order_by("position")[:2]
    trial = draft.rules.get(kind="trial")
    changes = {
        "position-clash": {f"rule-{second.pk}-position": str(first.position)},
        "missing-pool": {f"rule-{trial.pk}-param-pools.emea": "Nowhere"},
        "bad-position": {f"rule-{first.pk}-position": "first"},
    }[change]
    before = list(draft.rules.values_list("kind", "position", "params"))

    response = client.post(f"/routing/rules/{draft.pk}/", form_of(draft, **changes), follow=True)

    assert message in response.content.decode()
    assert list(RoutingRule.objects.filter(ruleset=draft).values_list("kind", "position", "params")) == before


def test_active_and_retired_sets_are_read_only(client, ops):
    active = RuleSet.objects.get(state="active")
    client.force_login(ops)
    page = client.get(f"/routing/rules/{active.pk}/").content.decode()
    assert "Save the draft" not in page and "Routing uses this set now." in page
    response = client.post(f"/routing/rules/{active.pk}/", form_of(active), follow=True)
    assert "only a draft can be edited" in response.content.decode()


def test_the_replay_reads_what_the_draft_would_have_done_with_last_weeks_leads(client, ops):
    bdr = UserFactory(role=Role.BDR)
    pool_of("EMEA BDR", bdr)
    for n in range(3):
        lead = services.ingest_lead({"email": f"t{n}@firm{n}.de", "last_name": "Doe", "country": "DE",
                                     "initial_source": "trial_saas"}, by=None).lead
        services.record_activity(lead, "trial_request")
    client.force_login(ops)
    draft = draft_of(client)
    trial = draft.rules.get(kind="trial")
    client.post(f"/routing/rules/{draft.pk}/", form_of(draft, **{f"rule-{trial.pk}-param-pools.emea": "ABM SDR"}))
    today = timezone.now().date()

    page = client.get(f"/routing/rules/{draft.pk}/",
                      {"start": str(today - timedelta(days=7)), "end": str(today)}).content.decode()

    assert "3 leads replayed; 3 would go elsewhere." in page
    assert "<td>pool:ABM SDR</td><td>3</td><td>0</td>" in page
    assert "<td>pool:EMEA BDR</td><td>0</td><td>3</td>" in page


def test_a_replay_with_bad_days_says_so(client, ops):
    client.force_login(ops)
    draft = draft_of(client)
    assert "as dates" in client.get(f"/routing/rules/{draft.pk}/", {"start": "yesterday"}).content.decode()
    page = client.get(f"/routing/rules/{draft.pk}/", {"start": "2026-12-05", "end": "2026-12-01"}).content.decode()
    assert "The last day comes after the first" in page


def test_activating_a_draft_makes_routing_use_it(client, ops):
    bdr, abm = UserFactory(role=Role.BDR), UserFactory(role=Role.SDR)
    pool_of("EMEA BDR", bdr)
    pool_of("ABM SDR", abm)
    client.force_login(ops)
    draft = draft_of(client)
    trial = draft.rules.get(kind="trial")
    client.post(f"/routing/rules/{draft.pk}/", form_of(draft, **{f"rule-{trial.pk}-param-pools.emea": "ABM SDR"}))

    response = client.post(f"/routing/rules/{draft.pk}/activate/", follow=True)

    assert f"Rule set v{draft.version} is active" in response.content.decode()
    assert RuleSet.objects.get(state="active") == draft
    lead = services.ingest_lead({"email": "t@firm.de", "last_name": "Doe", "country": "DE",
                                 "initial_source": "trial_saas"}, by=None).lead
    services.record_activity(lead, "trial_request")
    lead.refresh_from_db()
    assert lead.owner == abm


def test_pools_are_edited_on_their_page(client, ops):
    a, b, c = (UserFactory(role=Role.BDR) for _ in range(3))
    pool = pool_of("EMEA BDR", a, b)
    ma, mb = PoolMember.objects.get(pool=pool, user=a), PoolMember.objects.get(pool=pool, user=b)
    client.force_login(ops)
    assert f'data-member="{a.username}"' in client.get("/routing/pools/").content.decode()

    response = client.post(f"/routing/pools/{pool.pk}/", {
        f"member-{ma.pk}-position": "1", f"member-{ma.pk}-weight": "3",
        f"member-{mb.pk}-position": "0", f"member-{mb.pk}-weight": "1", f"member-{mb.pk}-remove": "on",
        "add-user": str(c.pk), "add-position": "2", "add-weight": "2"}, follow=True)

    assert "EMEA BDR saved: 2 members." in response.content.decode()
    assert sorted(PoolMember.objects.filter(pool=pool).values_list("user", "position", "weight")) == sorted(
        [(a.pk, 1, 3), (c.pk, 2, 2)])


@pytest.mark.parametrize(("fields", "message"), [
    ({"weight": "0"}, "a weight is from 1 to 100"),
    ({"position": "-1"}, "a position is from 0 to 10,000"),
    ({"weight": "lots"}, "whole numbers"),
    ({"again": True}, "A user can be in a pool once."),
])
def test_a_pool_edit_that_breaks_a_rule_changes_nothing(client, ops, fields, message):
    a = UserFactory(role=Role.BDR)
    pool = pool_of("EMEA BDR", a)
    member = PoolMember.objects.get(pool=pool)
    data = {f"member-{member.pk}-position": fields.get("position", "0"),
            f"member-{member.pk}-weight": fields.get("weight", "1")}
    if fields.get("again"):
        data.update({"add-user": str(a.pk), "add-position": "1", "add-weight": "1"})
    client.force_login(ops)

    response = client.post(f"/routing/pools/{pool.pk}/", data, follow=True)

    assert message in response.content.decode()
    assert list(PoolMember.objects.filter(pool=pool).values_list("user", "position", "weight")) == [(a.pk, 0, 1)]


def test_marking_someone_away_takes_them_out_of_the_turns(client, ops):
    away, there = UserFactory(role=Role.BDR, first_name="Ada"), UserFactory(role=Role.BDR)
    pool_of("EMEA BDR", away, there)
    client.force_login(ops)

    response = client.post(f"/routing/users/{away.pk}/availability/", {"available": "0"}, follow=True)

    assert "Ada" in response.content.decode() and "away: round robin skips them" in response.content.decode()
    away.refresh_from_db()
    assert away.is_available is False
    from routing import pools
    assert {pools.next_in_pool("EMEA BDR")[0] for _ in range(3)} == {there}


def test_the_pools_page_reads_in_the_same_queries_for_one_member_or_many(client, ops):
    client.force_login(ops)
    counts = []
    for extra in (1, 6):
        for pool in Pool.objects.all()[:3]:
            for _ in range(extra):
                PoolMember.objects.create(pool=pool, user=UserFactory(role=Role.SDR))
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/routing/pools/").status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1]


@pytest.mark.parametrize("role", [Role.SDR, Role.SDR_MANAGER, Role.AE])
def test_only_ops_see_or_change_routing(client, role):
    client.force_login(UserFactory(role=role))
    active = RuleSet.objects.get(state="active")
    pool = Pool.objects.first()
    for path in ("/routing/rules/", f"/routing/rules/{active.pk}/", "/routing/pools/"):
        assert client.get(path).status_code == 403, path
    for path in ("/routing/rules/new/", f"/routing/rules/{active.pk}/activate/", f"/routing/pools/{pool.pk}/"):
        assert client.post(path).status_code == 403, path
    assert RuleSet.objects.count() == 1


def test_the_routing_forms_need_their_csrf_token(ops):
    client = Client(enforce_csrf_checks=True)
    client.force_login(ops)
    assert client.post("/routing/rules/new/").status_code == 403
    assert RuleSet.objects.count() == 1
    assert rulesets.active_ruleset()[0] is not None


def test_ops_change_who_covers_a_territory_and_routing_follows(client, ops):
    from routing.models import Territory

    old, new, sal = UserFactory(role=Role.SDR), UserFactory(role=Role.SDR), UserFactory(role=Role.SAL)
    territory = Territory.objects.create(name="DACH", region="emea", countries="DE,AT,CH", sdr=old)
    client.force_login(ops)
    assert 'data-territory="DACH"' in client.get("/routing/territories/").content.decode()

    response = client.post(f"/routing/territories/{territory.pk}/", {"sdr": new.pk, "sal": sal.pk}, follow=True)

    assert "DACH:" in response.content.decode() and "covers it" in response.content.decode()
    territory.refresh_from_db()
    assert (territory.sdr, territory.sal) == (new, sal)
    lead = services.ingest_lead({"email": "cto@firm.de", "last_name": "Doe", "country": "DE", "title": "CTO",
                                 "employee_count": 40, "initial_source": "webcast"}, by=None).lead
    services.record_activity(lead, "webcast_attended_high_intent")
    lead.refresh_from_db()
    assert lead.owner == new  # the territory rule reads the change at once


@pytest.mark.parametrize("who", ["ae-as-sdr", "inactive-sdr", "sdr-as-sal", "nobody"])
def test_a_territory_needs_an_active_sdr_and_a_seller_or_nobody_as_sal(client, ops, who):
    from routing.models import Territory

    sdr = UserFactory(role=Role.SDR)
    territory = Territory.objects.create(name="DACH", region="emea", countries="DE", sdr=sdr)
    data = {"ae-as-sdr": {"sdr": UserFactory(role=Role.AE).pk},
            "inactive-sdr": {"sdr": UserFactory(role=Role.SDR, is_active=False).pk},
            "sdr-as-sal": {"sdr": sdr.pk, "sal": UserFactory(role=Role.SDR).pk},
            "nobody": {"sdr": ""}}[who]
    client.force_login(ops)

    response = client.post(f"/routing/territories/{territory.pk}/", data, follow=True)

    assert "DACH not changed." in response.content.decode()
    territory.refresh_from_db()
    assert (territory.sdr, territory.sal) == (sdr, None)


def test_only_ops_see_the_territories(client, manager):
    client.force_login(manager)
    assert client.get("/routing/territories/").status_code == 403


def test_ops_create_a_territory_in_the_page_and_routing_uses_it(client, ops):
    from routing.models import Territory

    sdr, sal = UserFactory(role=Role.SDR), UserFactory(role=Role.SAL)
    client.force_login(ops)
    page = client.get("/routing/territories/").content.decode()
    assert 'action="/routing/territories/new/"' in page and "New territory" in page

    response = client.post("/routing/territories/new/", {
        "new-name": "Nordics", "new-region": "emea", "new-sub_region": "", "new-countries": "se no, dk fi se",
        "new-segment": "", "new-sdr": sdr.pk, "new-sal": sal.pk}, follow=True)

    assert "Territory Nordics saved" in response.content.decode()
    nordics = Territory.objects.get(name="Nordics")
    assert (nordics.region, nordics.countries, nordics.sdr, nordics.sal) == ("emea", "SE,NO,DK,FI", sdr, sal)
    lead = services.ingest_lead({"email": "cto@firm.se", "last_name": "Berg", "country": "SE", "title": "CTO",
                                 "employee_count": 40, "initial_source": "webcast"}, by=None).lead
    services.record_activity(lead, "webcast_attended_high_intent")
    lead.refresh_from_db()
    assert lead.owner == sdr


def test_ops_edit_a_territorys_geography_and_the_most_specific_one_wins(client, ops):
    from routing.models import Territory

    whole, east = UserFactory(role=Role.SDR), UserFactory(role=Role.SDR)
    Territory.objects.create(name="AMER", region="amer", sdr=whole)
    narrow = Territory.objects.create(name="Narrow", region="apac", sdr=east)
    client.force_login(ops)
    prefix = f"t{narrow.pk}-"
    assert f'name="{prefix}countries"' in client.get("/routing/territories/").content.decode()

    response = client.post(f"/routing/territories/{narrow.pk}/edit/", {
        prefix + "name": "US East", prefix + "region": "amer", prefix + "sub_region": "east", prefix + "countries": "",
        prefix + "segment": "", prefix + "sdr": east.pk, prefix + "sal": ""}, follow=True)

    assert "Territory US East saved" in response.content.decode()
    narrow.refresh_from_db()
    assert (narrow.name, narrow.region, narrow.sub_region) == ("US East", "amer", "east")
    lead = services.ingest_lead({"email": "vp@firm.com", "last_name": "Doe", "country": "US", "state": "NY",
                                 "title": "VP Engineering", "employee_count": 40, "initial_source": "webcast"},
                                by=None).lead
    services.record_activity(lead, "webcast_attended_high_intent")
    lead.refresh_from_db()
    assert lead.owner == east  # New York is AMER east: the narrower territory wins


@pytest.mark.parametrize(("field", "value", "message"), [
    ("countries", "DE ZZ", "Unknown country codes: ZZ."),
    ("sub_region", "east", "EMEA has no sub-regions"),
    ("name", "Taken", "Another territory is already called"),
    ("name", "", "This field is required."),
    ("sdr", "ae", "Select a valid choice."),
])
def test_a_bad_territory_is_refused_in_words_and_the_form_keeps_what_was_typed(client, ops, field, value, message):
    from routing.models import Territory

    sdr = UserFactory(role=Role.SDR)
    Territory.objects.create(name="Taken", region="amer", sdr=sdr)
    data = {"name": "DACH", "region": "emea", "sub_region": "", "countries": "DE AT", "segment": "", "sdr": sdr.pk,
            "sal": ""}
    data[field] = UserFactory(role=Role.AE).pk if value == "ae" else value
    client.force_login(ops)

    response = client.post("/routing/territories/new/", {f"new-{key}": v for key, v in data.items()})

    assert response.status_code == 400
    page = response.content.decode()
    assert message in page and "The territory was not saved" in page
    assert f'value="{data["countries"]}"' in page  # what was typed is still there
    assert Territory.objects.count() == 1


def test_only_ops_create_or_edit_territories(client, manager, ops):
    from routing.models import Territory

    sdr = UserFactory(role=Role.SDR)
    territory = Territory.objects.create(name="DACH", region="emea", sdr=sdr)
    client.force_login(manager)
    assert client.post("/routing/territories/new/", {"new-name": "X"}).status_code == 403
    assert client.post(f"/routing/territories/{territory.pk}/edit/", {}).status_code == 403
    client.force_login(ops)
    assert client.post("/routing/territories/999999/edit/", {}).status_code == 404
    assert client.get("/routing/territories/new/").status_code == 405
