from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from routing.models import Pool, PoolMember, RoutingRule, RuleSet, Territory
from sdrcrm.models import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def csv_file(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("territories.csv", text.encode(), content_type="text/csv")


def test_ops_set_pool_members_with_weights(api, ops):
    a, b = UserFactory(role=Role.BDR), UserFactory(role=Role.BDR)
    pool = Pool.objects.get(name="EMEA BDR")
    response = api.as_user(ops).patch(f"/api/v1/routing/pools/{pool.pk}/", {
        "members": [{"user": a.pk, "position": 0, "weight": 2}, {"user": b.pk, "position": 1}]}, format="json")
    assert response.status_code == 200
    assert {(m.user_id, m.weight) for m in PoolMember.objects.filter(pool=pool)} == {(a.pk, 2), (b.pk, 1)}


def test_members_who_stay_keep_their_turn_state_and_the_rest_are_replaced(api, ops):
    stays, leaves, joins = (UserFactory(role=Role.BDR) for _ in range(3))
    pool = Pool.objects.get(name="EMEA BDR")
    PoolMember.objects.create(pool=pool, user=stays, position=0, credit=-2, assigned=7)
    PoolMember.objects.create(pool=pool, user=leaves, position=1, assigned=3)

    response = api.as_user(ops).patch(f"/api/v1/routing/pools/{pool.pk}/", {
        "members": [{"user": joins.pk, "position": 0}, {"user": stays.pk, "position": 1, "weight": 3}]},
        format="json")

    assert response.status_code == 200
    rows = PoolMember.objects.filter(pool=pool).values_list("user", "position", "weight", "credit", "assigned")
    assert set(rows) == {(joins.pk, 0, 1, 0, 0), (stays.pk, 1, 3, -2, 7)}


def test_a_member_who_stays_sent_without_position_or_weight_gets_the_defaults(api, ops):
    stays = UserFactory(role=Role.BDR)
    pool = Pool.objects.get(name="EMEA BDR")
    PoolMember.objects.create(pool=pool, user=stays, position=4, weight=3, assigned=2)

    response = api.as_user(ops).patch(f"/api/v1/routing/pools/{pool.pk}/", {"members": [{"user": stays.pk}]},
                                      format="json")

    assert response.status_code == 200
    assert PoolMember.objects.filter(pool=pool).values_list("position", "weight", "assigned").get() == (0, 1, 2)


def test_a_pool_refuses_the_same_user_twice(api, ops):
    a = UserFactory(role=Role.BDR)
    pool = Pool.objects.get(name="EMEA BDR")
    response = api.as_user(ops).patch(f"/api/v1/routing/pools/{pool.pk}/", {
        "members": [{"user": a.pk}, {"user": a.pk}]}, format="json")
    assert response.status_code == 400 and "members" in response.json()["errors"]
    assert not PoolMember.objects.exists()


def test_sdrs_read_but_cannot_change_routing(api, sdr):
    client = api.as_user(sdr)
    assert client.get("/api/v1/routing/pools/").status_code == 200
    assert client.post("/api/v1/routing/territories/", {"name": "X", "region": "amer", "sdr": sdr.pk},
                       format="json").status_code == 403
    assert client.post("/api/v1/routing/rules/draft/").status_code == 403
    assert not Territory.objects.exists() and RuleSet.objects.count() == 1


def test_territory_csv_dry_run_reports_every_problem_and_writes_nothing(api, ops):
    UserFactory(username="sam", role=Role.SDR)
    body = "name,region,sub_region,countries,segment,sdr,sal\n" \
           "East,amer,east,,mid_market,sam,\n" \
           "Nowhere,mars,,,,sam,\n" \
           "Ghost,emea,,DE ZZ,,nobody,\n"
    response = api.as_user(ops).post("/api/v1/routing/territories/import/",
                                     {"file": csv_file(body), "dry_run": "true"}, format="multipart")
    assert response.status_code == 400 and "2 rows of the file have errors" in response.json()["detail"]
    problems = {e["row"]: set(e["errors"]) for e in response.json()["errors"]["rows"]}
    assert problems == {3: {"region"}, 4: {"countries", "sdr"}}
    assert not Territory.objects.exists()


def test_territory_csv_writes_all_good_rows(api, ops):
    sam = UserFactory(username="sam", role=Role.SDR)
    body = ("name,region,sub_region,countries,segment,sdr,sal\n"
            "East,amer,east,,mid_market,sam,\nDACH,emea,,DE AT CH,,sam,\n")
    response = api.as_user(ops).post("/api/v1/routing/territories/import/", {"file": csv_file(body)},
                                     format="multipart")
    assert response.status_code == 200 and response.json()["written"] == 2
    assert Territory.objects.get(name="DACH").countries == "DE,AT,CH"
    assert Territory.objects.get(name="East").sdr == sam


def test_a_draft_copies_the_active_rules_and_activating_it_retires_the_old(api, ops):
    client = api.as_user(ops)
    draft = client.post("/api/v1/routing/rules/draft/").json()
    assert draft["version"] == 2 and draft["state"] == "draft" and len(draft["rules"]) == 10

    rules = [{**r, "enabled": r["kind"] != "account_bdr"} for r in draft["rules"]]
    assert client.patch(f"/api/v1/routing/rules/{draft['id']}/", {"rules": rules}, format="json").status_code == 200
    assert client.post(f"/api/v1/routing/rules/{draft['id']}/activate/").status_code == 200

    assert RuleSet.objects.get(version=1).state == RuleSet.State.RETIRED
    assert RuleSet.objects.get(version=2).state == RuleSet.State.ACTIVE
    assert not RoutingRule.objects.get(ruleset__version=2, kind="account_bdr").enabled


def test_an_active_rule_set_cannot_be_edited(api, ops):
    active = RuleSet.objects.get(state=RuleSet.State.ACTIVE)
    response = api.as_user(ops).patch(f"/api/v1/routing/rules/{active.pk}/", {"note": "x"}, format="json")
    assert response.status_code == 400
    assert "only a draft" in response.json()["detail"]


def test_a_rule_set_with_an_unknown_rule_kind_is_refused(api, ops):
    draft = api.as_user(ops).post("/api/v1/routing/rules/draft/").json()
    response = api.as_user(ops).patch(f"/api/v1/routing/rules/{draft['id']}/",
                                      {"rules": [{"position": 1, "kind": "magic", "label": "x"}]}, format="json")
    assert response.status_code == 400
    assert RoutingRule.objects.filter(ruleset_id=draft["id"]).count() == 10


def test_the_api_checks_a_territory_as_the_page_does(api, ops):
    sdr, ae = UserFactory(role=Role.SDR), UserFactory(role=Role.AE)
    client = api.as_user(ops)
    payload = {"name": "DACH", "region": "emea", "countries": "de, at", "sdr": sdr.pk}

    wrong = client.post("/api/v1/routing/territories/", {**payload, "sub_region": "east"}, format="json")
    assert wrong.status_code == 400 and "EMEA has no sub-regions" in wrong.json()["errors"]["sub_region"][0]
    wrong = client.post("/api/v1/routing/territories/", {**payload, "sdr": ae.pk}, format="json")
    assert wrong.status_code == 400 and "active SDR or BDR" in wrong.json()["errors"]["sdr"][0]
    created = client.post("/api/v1/routing/territories/", payload, format="json")
    assert created.status_code == 201 and created.json()["countries"] == "DE,AT"
    territory = created.json()["id"]
    wrong = client.patch(f"/api/v1/routing/territories/{territory}/", {"sal": sdr.pk}, format="json")
    assert wrong.status_code == 400 and "SAL" in wrong.json()["errors"]["sal"][0]
    assert client.patch(f"/api/v1/routing/territories/{territory}/", {"region": "amer", "sub_region": "west"},
                        format="json").json()["sub_region"] == "west"
